"""Resource limits: alias bombs, deep nesting, big streams, hung tools (issue 6, part 2)."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

from reliability.helpers import (
    OFFLINE,
    SKAFFOLD_YAML,
    assert_clean_failure,
    cli_env,
    make_tree,
    run_cli,
)

MEMORY_LIMIT = 1024 * 1024 * 1024  # 1 GiB of address space: a bomb expanded would need far more


def _bomb(levels: int = 9, width: int = 9) -> str:
    """ "Billion laughs": each anchor is a list of ``width`` aliases of the previous one."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _run_limited(tree: Path, *args: str, timeout: float = 60) -> tuple[int, str, float]:
    """The CLI under a 1 GiB address-space limit; (status, stderr, seconds)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "engine", "render", *OFFLINE, *args],
        cwd=tree,
        env=cli_env(tree.parent / "home"),
        capture_output=True,
        timeout=timeout,
        preexec_fn=limit,
        check=False,
    )
    return done.returncode, done.stderr.decode("utf-8", "replace"), time.monotonic() - start


def test_alias_bomb_in_manifest_is_rejected_quickly(tmp_path: Path) -> None:
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n" + _bomb()
    tree = make_tree(tmp_path / "app", {"k8s/bomb.yaml": doc})
    code, stderr, seconds = _run_limited(tree)
    assert code == 1, stderr
    assert "excessive aliasing" in stderr and "k8s/bomb.yaml" in stderr, stderr
    assert "Traceback" not in stderr and "MemoryError" not in stderr
    assert seconds < 20, seconds


def test_alias_bomb_in_skaffold_yaml_is_rejected_quickly(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "app", {"skaffold.yaml": SKAFFOLD_YAML + _bomb()})
    code, stderr, seconds = _run_limited(tree)
    assert code == 1, stderr
    assert "excessive aliasing" in stderr and "skaffold.yaml" in stderr, stderr
    assert "Traceback" not in stderr and "MemoryError" not in stderr
    assert seconds < 20, seconds


def test_modest_aliasing_is_still_accepted(tmp_path: Path) -> None:
    """The limit is yaml.v3's ratio rule, not a ban: ordinary anchors keep working."""
    config = SKAFFOLD_YAML + ".defaults: &d\n  foo: bar\n"
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n" + _bomb(levels=2, width=3)
    tree = make_tree(tmp_path / "app", {"skaffold.yaml": config, "k8s/cm.yaml": doc})
    code, stderr, _ = _run_limited(tree)
    assert code == 0, stderr


def test_self_referencing_anchor_in_config(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "app", {"skaffold.yaml": SKAFFOLD_YAML + "x: &a [*a]\n"})
    assert_clean_failure(run_cli(["render", *OFFLINE], tree), names=("skaffold.yaml",))


def test_too_deep_flow_nesting_is_rejected(tmp_path: Path) -> None:
    doc = "apiVersion: v1\nkind: X\nx: " + "[" * 20000 + "]" * 20000 + "\n"
    tree = make_tree(tmp_path / "app", {"k8s/deep.yaml": doc})
    code, stderr, seconds = _run_limited(tree)
    assert code == 1, stderr
    assert "exceeded max depth of 10000" in stderr and "k8s/deep.yaml" in stderr, stderr
    assert seconds < 20


def test_deep_but_legal_nesting_renders(tmp_path: Path) -> None:
    """yaml.v3 accepts 5000 nested mappings, so skaffold renders them: so must skrender."""
    depth = 5000
    doc = "apiVersion: v1\nkind: X\nx: " + "{a: " * depth + "1" + "}" * depth + "\n"
    tree = make_tree(tmp_path / "app", {"k8s/deep.yaml": doc})
    code, stderr, _ = _run_limited(tree, "--label", "team=a")
    assert code == 0, stderr[-500:]


def test_deep_skaffold_yaml_is_rejected_cleanly(tmp_path: Path) -> None:
    config = SKAFFOLD_YAML + "x: " + "[" * 5000 + "]" * 5000 + "\n"
    tree = make_tree(tmp_path / "app", {"skaffold.yaml": config})
    assert_clean_failure(run_cli(["render", *OFFLINE], tree), names=("skaffold.yaml",))


def _stream(megabytes: float) -> str:
    docs = []
    size = 0
    i = 0
    while size < megabytes * 1_000_000:
        doc = (
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  labels:\n"
            f'    app: foo\ndata:\n  key: "value {i} "\n  other: |\n    line one {i}\n'
            "    line two\n  list: '[1, 2, 3]'\n---\n"
        )
        docs.append(doc)
        size += len(doc)
        i += 1
    return "".join(docs)


def _render_seconds(tree: Path) -> float:
    start = time.monotonic()
    run = run_cli(["render", *OFFLINE, "--output", "out.yaml"], tree, timeout=300)
    assert run.code == 0, run.stderr
    return time.monotonic() - start


def test_big_stream_renders_in_linear_time(tmp_path: Path) -> None:
    """0.4 MB vs 4 MB of manifests: ten times the input may take at most ~30x the time.

    Quadratic work would take ~100x; the generous bound keeps a loaded 2-core machine
    (start-up time included in both runs) from failing the test.
    """
    small = make_tree(tmp_path / "small", {"k8s/big.yaml": _stream(0.4)})
    large = make_tree(tmp_path / "large", {"k8s/big.yaml": _stream(4)})
    t_small = min(_render_seconds(small) for _ in range(2))
    t_large = _render_seconds(large)
    assert t_large < 30 * t_small, (t_small, t_large)
    out = (large / "out.yaml").read_text()
    assert out.count("kind: ConfigMap") == _stream(4).count("kind: ConfigMap")


def _fake_tool(bin_dir: Path, name: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / name
    script.write_text("#!/bin/sh\nexec sleep 1000\n")
    script.chmod(0o755)


def test_hung_kustomize_times_out(tmp_path: Path) -> None:
    config = SKAFFOLD_YAML.replace(
        "  rawYaml:\n  - k8s/*.yaml\n", "  kustomize:\n    paths:\n    - k8s\n"
    )
    tree = make_tree(
        tmp_path / "app",
        {"skaffold.yaml": config, "k8s/kustomization.yaml": "resources:\n- pod.yaml\n"},
    )
    _fake_tool(tmp_path / "bin", "kustomize")
    env = cli_env(tmp_path / "home", {"SKRENDER_TOOL_TIMEOUT": "1"})
    env["PATH"] = f"{tmp_path / 'bin'}:{env['PATH']}"
    start = time.monotonic()
    run = run_cli(["render", *OFFLINE], tree, env=env, timeout=60)
    assert time.monotonic() - start < 20
    assert_clean_failure(run, names=("kustomize", "timed out after 1s"))


def test_hung_git_does_not_hang_render(tmp_path: Path) -> None:
    """gitCommit tagging with a git that never answers: the call times out and skaffold's
    tagger fall-back (``latest``) applies, instead of waiting for ever."""
    config = SKAFFOLD_YAML.replace("envTemplate:\n      template: v1", "gitCommit: {}")
    tree = make_tree(tmp_path / "app", {"skaffold.yaml": config})
    _fake_tool(tmp_path / "bin", "git")
    env = cli_env(tmp_path / "home", {"SKRENDER_TOOL_TIMEOUT": "1"})
    env["PATH"] = f"{tmp_path / 'bin'}:{env['PATH']}"
    start = time.monotonic()
    run = run_cli(["render", *OFFLINE], tree, env=env, timeout=60)
    assert time.monotonic() - start < 20
    assert run.code == 0, run.stderr
    assert "image: gcr.io/p/foo:latest" in run.stdout


def test_every_tool_call_site_passes_a_timeout() -> None:
    """engine.core.proc.run's default timeout is finite and follows $SKRENDER_TOOL_TIMEOUT; no
    engine module calls subprocess itself (so nothing bypasses the bound)."""
    import os

    from engine.core import proc

    assert proc.DEFAULT_TIMEOUT and proc.DEFAULT_TIMEOUT <= 600
    saved = os.environ.get(proc.TIMEOUT_ENV)
    try:
        os.environ[proc.TIMEOUT_ENV] = "2.5"
        assert proc.tool_timeout() == 2.5
        os.environ[proc.TIMEOUT_ENV] = "junk"
        assert proc.tool_timeout() == proc.DEFAULT_TIMEOUT
    finally:
        if saved is None:
            os.environ.pop(proc.TIMEOUT_ENV, None)
        else:
            os.environ[proc.TIMEOUT_ENV] = saved
    engine = Path(proc.__file__).parent
    offenders = [
        path.name
        for path in sorted(engine.rglob("*.py"))
        if path.name != "proc.py"
        and ("import subprocess" in path.read_text() or "timeout=None" in path.read_text())
    ]
    assert offenders == [], offenders
