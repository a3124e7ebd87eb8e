"""Golden parity: skrender's output against the bytes a real `skaffold render` wrote.

Every case under golden/cases/ (inputs, plus expected output produced by real skaffold
v2) runs through the corpus' own runner, golden/tool/golden.py, with `python -m engine` as
the program and a real docker-registry on loopback holding the images the case declares.

Helm cases (``l-helm-*``) run twice: with no ``helm`` on PATH (the Helm SDK in-process) and
with the test double tests/helm_double/helm first on PATH (the binary engine, as skaffold runs
helm, with skrender's own ``filter`` as the post-renderer).
"""

from __future__ import annotations

import difflib
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

ROOT = Path(__file__).resolve().parent.parent


CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "case.yaml").exists())


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    if not shutil.which("docker-registry") and not os.path.exists("/usr/bin/docker-registry"):
        service_unavailable("docker-registry")
    with golden.Session() as running:
        yield running


HELM_CASES = [name for name in CASE_NAMES if name.startswith("l-helm-")]
HELM_DOUBLE = ROOT / "tests" / "helm_double"


def _path_without_helm() -> str:
    """$PATH minus every directory holding a `helm`: the in-process engine's runs."""
    dirs = os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
    return os.pathsep.join(d for d in dirs if not os.path.exists(os.path.join(d, "helm")))


@pytest.mark.integration
@pytest.mark.parametrize("name", CASE_NAMES)
def test_golden_case(name: str, session: Any) -> None:
    _check_case(name, session, {"PATH": _path_without_helm()})


@pytest.mark.integration
@pytest.mark.parametrize("name", HELM_CASES)
def test_golden_helm_case_with_helm_binary(name: str, session: Any) -> None:
    path = os.pathsep.join([str(HELM_DOUBLE), _path_without_helm()])
    _check_case(name, session, {"PATH": path, "HELM_DOUBLE_PYTHON": sys.executable})


def _check_case(name: str, session: Any, env: dict[str, str]) -> None:
    case = golden.Case(str(CASES / name))
    expected = json.loads((CASES / name / "expected.json").read_text())
    session.seed(case)
    argv = [sys.executable, "-m", "engine"]
    extra_env = {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    extra_env.update(env)
    result = golden.run_case(case, argv, session.addr, extra_env=extra_env)
    stderr = result.stderr.decode("utf-8", "replace")
    assert not result.timed_out, f"{name} timed out"
    if expected["exit_code"] != 0:
        assert result.exit_code != 0, f"expected failure: {expected.get('stderr_excerpt')}"
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr
        return
    assert result.exit_code == 0, stderr
    assert result.output is not None, "no output written"
    got = result.output.replace(session.addr.encode(), golden.REGISTRY_TOKEN.encode())
    want = (CASES / name / "expected.yaml").read_bytes()
    if got != want:
        diff = "".join(
            difflib.unified_diff(
                want.decode("utf-8", "replace").splitlines(True),
                got.decode("utf-8", "replace").splitlines(True),
                "expected.yaml (real skaffold)",
                "skrender",
            )
        )
        pytest.fail(f"{name}: output differs from skaffold's\n{diff}", pytrace=False)
