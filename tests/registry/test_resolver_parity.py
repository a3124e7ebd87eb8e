"""Both digest resolvers give skaffold's bytes: the registry cases of the golden corpus.

Every golden case that pushes images (``images:`` in its case.yaml) runs through the corpus'
own runner twice: with ``SKAFFOLD_DIGEST_RESOLVER=registry`` (the registry HTTP API) and with
``SKAFFOLD_DIGEST_RESOLVER=docker`` against a real ``dockerd`` (its distribution endpoint; the
engine reaches the loopback registry over plain HTTP because dockerd treats 127.0.0.0/8 as an
insecure registry).  Successful cases must match expected.yaml byte for byte; failing ones must
fail with skaffold's first stderr line.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import service_unavailable
from golden_tool import CASES, golden

ROOT = Path(__file__).resolve().parents[2]


def _uses_registry(case_dir: Path) -> bool:
    return bool(golden.Case(str(case_dir)).images)


REGISTRY_CASES = sorted(
    p.name for p in CASES.iterdir() if (p / "case.yaml").exists() and _uses_registry(p)
)


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    if not shutil.which("docker-registry") and not os.path.exists("/usr/bin/docker-registry"):
        service_unavailable("docker-registry")
    with golden.Session() as running:
        yield running


def run(name: str, session: Any, resolver_env: dict[str, str]) -> tuple[Any, dict[str, Any]]:
    """Run golden case ``name`` with ``resolver_env`` added; returns (result, expected.json)."""
    case = golden.Case(str(CASES / name))
    session.seed(case)
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.update(resolver_env)
    result = golden.run_case(case, [sys.executable, "-m", "engine"], session.addr, extra_env=env)
    expected = json.loads((CASES / name / "expected.json").read_text())
    return result, expected


def assert_matches_skaffold(name: str, result: Any, expected: dict[str, Any], addr: str) -> None:
    stderr = result.stderr.decode("utf-8", "replace")
    assert not result.timed_out, f"{name} timed out"
    if expected["exit_code"] != 0:
        assert result.exit_code == expected["exit_code"], stderr
        assert golden.stderr_excerpt(result, addr) == expected["stderr_excerpt"], stderr
        return
    assert result.exit_code == 0, stderr
    assert result.output is not None, "no output written"
    got = result.output.replace(addr.encode(), golden.REGISTRY_TOKEN.encode())
    assert got == (CASES / name / "expected.yaml").read_bytes(), f"{name}: output differs"


def test_the_registry_cases_are_there() -> None:
    # The corpus has about ten; an empty selection would make the parity tests vacuous.
    assert len(REGISTRY_CASES) >= 5, REGISTRY_CASES


@pytest.mark.integration
@pytest.mark.parametrize("name", REGISTRY_CASES)
def test_registry_resolver(name: str, session: Any) -> None:
    result, expected = run(name, session, {"SKAFFOLD_DIGEST_RESOLVER": "registry"})
    assert_matches_skaffold(name, result, expected, session.addr)


@pytest.mark.integration
@pytest.mark.parametrize("name", REGISTRY_CASES)
def test_docker_resolver(name: str, session: Any, docker_engine: str) -> None:
    env = {"SKAFFOLD_DIGEST_RESOLVER": "docker", "DOCKER_HOST": docker_engine}
    result, expected = run(name, session, env)
    assert_matches_skaffold(name, result, expected, session.addr)


@pytest.mark.integration
def test_docker_resolver_is_really_used(session: Any, tmp_path: Path) -> None:
    """Without a reachable engine the docker resolver fails: the variable takes effect."""
    name = next(n for n in REGISTRY_CASES if (CASES / n / "expected.yaml").exists())
    dead = f"unix://{tmp_path / 'no-such-docker.sock'}"
    result, _ = run(name, session, {"SKAFFOLD_DIGEST_RESOLVER": "docker", "DOCKER_HOST": dead})
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.exit_code == 1, stderr
    assert "does the image exist remotely?" in stderr
    assert "cannot reach the Docker engine" in stderr
