"""Faults between skrender and its servers (issue 6, part 4).

A :class:`FaultProxy` sits between skrender and the real registry (or the real git server):
resets, stalls, 5xx and 429 bursts, truncated and corrupted bodies.  skrender retries within
its bounds and then fails naming the cause; it never prints a wrong digest.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability.faultproxy import FaultProxy
from reliability.helpers import assert_clean_failure, cli_env, make_tree, run_cli

IMAGE = "foo:v1"


@pytest.fixture(scope="module")
def pushed(registry: object) -> str:
    """The digest of foo:v1, pushed once to the real registry."""
    return str(registry.push_image(IMAGE))  # type: ignore[attr-defined]


@pytest.fixture
def proxy(registry: object) -> Iterator[FaultProxy]:
    host, port = registry.addr.split(":")  # type: ignore[attr-defined]
    with FaultProxy(host, int(port)) as fp:
        yield fp


def _render(tmp_path: Path, addr: str, *extra: str) -> tuple[object, float]:
    tree = make_tree(tmp_path / "app")
    args = ["render", "--offline=true", "--digest-source=remote", "--default-repo", addr]
    start = time.monotonic()
    run = run_cli([*args, "--digest-resolver=registry", *extra], tree, timeout=120)
    return run, time.monotonic() - start


def _manifest_get(fault: str) -> object:
    """HEAD answers lose their digest header (so skrender must GET); GETs of the manifest
    get ``fault``."""

    def rule(method: str, path: str) -> str | None:
        if "/manifests/" not in path:
            return None
        return "nodigest" if method == "HEAD" else fault

    return rule


def test_clean_path_through_the_proxy(tmp_path: Path, pushed: str, proxy: FaultProxy) -> None:
    run, _ = _render(tmp_path, proxy.addr)
    assert run.code == 0, run.stderr  # type: ignore[attr-defined]
    assert f"image: {proxy.addr}/foo:v1@{pushed}" in run.stdout  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "burst",
    [
        ["reset", "reset", "reset"],
        ["status:503", "status:502", "status:500"],
        ["status:429", "status:429", "status:429"],
        ["reset", "status:503", "status:429"],
    ],
)
def test_transient_bursts_are_retried(
    tmp_path: Path, pushed: str, proxy: FaultProxy, burst: list[str]
) -> None:
    proxy.script(burst)
    run, _ = _render(tmp_path, proxy.addr)
    assert run.code == 0, run.stderr  # type: ignore[attr-defined]
    assert f"@{pushed}" in run.stdout  # type: ignore[attr-defined]
    assert sum(proxy.injected.values()) >= len(burst)


@pytest.mark.parametrize("status", [503, 429])
def test_persistent_errors_fail_with_the_cause(
    tmp_path: Path, pushed: str, proxy: FaultProxy, status: int
) -> None:
    proxy.rule = lambda method, path: f"status:{status}"
    run, seconds = _render(tmp_path, proxy.addr, "--registry-timeout=20")
    assert_clean_failure(run, names=(str(status), "foo"))  # type: ignore[arg-type]
    assert seconds < 40


def test_stalled_registry_times_out(tmp_path: Path, pushed: str, proxy: FaultProxy) -> None:
    proxy.rule = lambda method, path: "stall"
    run, seconds = _render(tmp_path, proxy.addr, "--registry-timeout=3")
    assert_clean_failure(run, names=("timed out",))  # type: ignore[arg-type]
    assert seconds < 20, seconds


def test_persistent_resets_fail_with_the_cause(
    tmp_path: Path, pushed: str, proxy: FaultProxy
) -> None:
    proxy.rule = lambda method, path: "reset"
    run, seconds = _render(tmp_path, proxy.addr, "--registry-timeout=20")
    assert_clean_failure(run, names=("foo",))  # type: ignore[arg-type]
    assert seconds < 40


def test_truncated_manifest_never_yields_a_digest(
    tmp_path: Path, pushed: str, proxy: FaultProxy
) -> None:
    proxy.rule = _manifest_get("truncate")  # type: ignore[assignment]
    run, _ = _render(tmp_path, proxy.addr, "--registry-timeout=20")
    assert_clean_failure(run, names=("foo",))  # type: ignore[arg-type]
    assert proxy.injected["truncate"] >= 1
    assert "sha256:" not in run.stdout  # type: ignore[attr-defined]


def test_one_truncated_body_is_retried_to_the_right_digest(
    tmp_path: Path, pushed: str, proxy: FaultProxy
) -> None:
    budget = ["truncate"]

    def rule(method: str, path: str) -> str | None:
        if "/manifests/" not in path:
            return None
        if method == "HEAD":
            return "nodigest"
        return budget.pop() if budget else "pass"

    proxy.rule = rule  # type: ignore[assignment]
    run, _ = _render(tmp_path, proxy.addr)
    assert run.code == 0, run.stderr  # type: ignore[attr-defined]
    assert f"@{pushed}" in run.stdout  # type: ignore[attr-defined]
    assert proxy.injected["truncate"] == 1


def test_body_not_matching_docker_content_digest_is_rejected(
    tmp_path: Path, pushed: str, proxy: FaultProxy
) -> None:
    proxy.rule = _manifest_get("corrupt")  # type: ignore[assignment]
    run, _ = _render(tmp_path, proxy.addr)
    assert_clean_failure(run, names=("Docker-Content-Digest", "foo"))  # type: ignore[arg-type]
    assert proxy.injected["corrupt"] >= 1
    assert f"@{pushed}" not in run.stdout  # type: ignore[attr-defined]


def test_a_head_digest_is_never_trusted(tmp_path: Path, pushed: str, proxy: FaultProxy) -> None:
    """A HEAD that names another digest changes nothing: the digest is the body's (GET)."""
    proxy.rule = lambda method, path: (
        "wrongdigest" if method == "HEAD" and "/manifests/" in path else None
    )
    run, _ = _render(tmp_path, proxy.addr)
    assert run.code == 0, run.stderr  # type: ignore[attr-defined]
    assert f"image: {proxy.addr}/foo:v1@{pushed}" in run.stdout  # type: ignore[attr-defined]
    assert "0" * 64 not in run.stdout  # type: ignore[attr-defined]


def test_get_digest_header_not_matching_the_body_names_both(
    tmp_path: Path, pushed: str, proxy: FaultProxy
) -> None:
    proxy.rule = lambda method, path: "wrongdigest" if "/manifests/" in path else None
    run, _ = _render(tmp_path, proxy.addr)
    assert_clean_failure(run, names=(pushed, "sha256:" + "0" * 64))  # type: ignore[arg-type]
    assert "@sha256:" not in run.stdout  # type: ignore[attr-defined]


def test_a_dripping_registry_is_bounded_by_the_timeout(
    tmp_path: Path, pushed: str, proxy: FaultProxy
) -> None:
    """One byte every 0.2 s never trips a per-read timeout; --registry-timeout still holds."""
    proxy.rule = lambda method, path: "drip" if "/manifests/" in path else None
    run, seconds = _render(tmp_path, proxy.addr, "--registry-timeout=3")
    assert_clean_failure(run, names=("timed out", "foo"))  # type: ignore[arg-type]
    assert proxy.injected["drip"] >= 1
    assert seconds < 12, seconds


@pytest.mark.parametrize("fault", ["hugebody", "gzipbomb"])
def test_oversized_bodies_are_refused_without_reading_them_whole(
    tmp_path: Path, pushed: str, proxy: FaultProxy, fault: str
) -> None:
    """go-containerregistry stops at 100 MiB; skrender refuses there, whatever the encoding,
    reading no further than the cap."""
    proxy.rule = lambda method, path: fault if "/manifests/" in path else None
    run, _ = _render(tmp_path, proxy.addr, "--registry-timeout=60")
    assert_clean_failure(run, names=("exceeds 104857600 bytes", "foo"))  # type: ignore[arg-type]


# --- git -------------------------------------------------------------------------------------


def _publish(env: dict[str, str], url: str, files: Path, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "engine", "publish", "--repo", url, "--branch", "main", str(files)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _tip(bare: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["git", "--git-dir", str(bare), "rev-parse", "--verify", "-q", "main"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()


@pytest.mark.parametrize("fault", ["reset", "status:503", "truncate"])
def test_publish_push_fault_leaves_branch_untouched(
    tmp_path: Path, git_http: object, git_env: dict[str, str], fault: str
) -> None:
    server = git_http
    name = f"faults-{fault.replace(':', '')}.git"
    server.create(name)  # type: ignore[attr-defined]
    bare = server.root / name  # type: ignore[attr-defined]
    host, port = server.url.split("//")[1].rstrip("/").split(":")  # type: ignore[attr-defined]
    files = tmp_path / "files"
    files.mkdir()
    (files / "a.yaml").write_text("kind: ConfigMap\nname: one\n")
    env = {**git_env, **cli_env(tmp_path / "home"), "SKRENDER_TOOL_TIMEOUT": "30"}
    with FaultProxy(host, int(port)) as fp:
        url = server.authed_url(name).replace(  # type: ignore[attr-defined]
            f"{host}:{port}", fp.addr
        )
        first = _publish(env, url, files, tmp_path)
        out, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        before = _tip(bare, env)
        (files / "a.yaml").write_text("kind: ConfigMap\nname: two\n")
        fp.rule = lambda method, path: fault if "git-receive-pack" in path else None
        second = _publish(env, url, files, tmp_path)
        out, err = second.communicate(timeout=90)
    text = (out + err).decode("utf-8", "replace")
    assert second.returncode != 0, text
    assert "Traceback" not in text and "internal error" not in text
    assert fp.injected, fp.requests
    assert _tip(bare, env) == before
    assert server.password not in text  # type: ignore[attr-defined]


def test_fault_proxy_counts_and_relays(registry: object, pushed: str) -> None:
    """The proxy itself: a relayed manifest hashes to the pushed digest; faults are counted."""
    import requests

    host, port = registry.addr.split(":")  # type: ignore[attr-defined]
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    with FaultProxy(host, int(port)) as fp:
        fp.script(["status:503"])
        url = f"http://{fp.addr}/v2/foo/manifests/v1"
        assert requests.get(url, headers={"Accept": accept}, timeout=10).status_code == 503
        body = requests.get(url, headers={"Accept": accept}, timeout=10).content
        assert "sha256:" + hashlib.sha256(body).hexdigest() == pushed
        assert fp.injected["status"] == 1
