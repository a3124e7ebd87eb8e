"""Nothing half-written: --output, bulk output and publish are atomic (issue 6, part 3).

A failed render, a SIGKILL at any moment, or a full disk (a 64 KiB tmpfs) leave the previous
files (and the previous branch tip) exactly as they were.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import IN_CI

from reliability.helpers import (
    OFFLINE,
    assert_clean_failure,
    cli_env,
    make_tree,
    run_cli,
)
from reliability.test_limits import _stream

OLD = "old: content\n"
KILL_DELAYS = (0.15, 0.4, 0.7, 1.0, 1.4, 2.0)


def _leftovers(folder: Path) -> list[str]:
    """Files in ``folder`` other than the expected outputs (temporary files)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".skrender-"))


def test_failed_render_keeps_previous_output(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "app", {"k8s/bad.yaml": "- not a manifest\n"})
    out = tmp_path / "out"
    out.mkdir()
    (out / "m.yaml").write_text(OLD)
    run = run_cli(["render", *OFFLINE, "--output", str(out / "m.yaml")], tree)
    assert_clean_failure(run, names=("k8s/bad.yaml",))
    assert (out / "m.yaml").read_text() == OLD
    assert _leftovers(out) == []


def test_output_into_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "app")
    run = run_cli(["render", *OFFLINE, "--output", "nodir/m.yaml"], tree)
    assert_clean_failure(run, names=("nodir/m.yaml", "no such file or directory"))


def test_sigkill_never_leaves_a_partial_output(tmp_path: Path) -> None:
    """Kill the renderer at several moments: the output is the old file or the whole new one."""
    tree = make_tree(tmp_path / "app", {"k8s/big.yaml": _stream(3)})
    out = tmp_path / "out"
    out.mkdir()
    target = out / "m.yaml"
    reference = run_cli(["render", *OFFLINE, "--output", str(tmp_path / "ref.yaml")], tree)
    assert reference.code == 0, reference.stderr
    expected = (tmp_path / "ref.yaml").read_bytes()
    outcomes = []
    for delay in KILL_DELAYS:
        target.write_text(OLD)
        child = subprocess.Popen(
            [sys.executable, "-m", "engine", "render", *OFFLINE, "--output", str(target)],
            cwd=tree,
            env=cli_env(tmp_path / "home"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGKILL)
        child.wait()
        data = target.read_bytes()
        assert data in (OLD.encode(), expected), (delay, len(data))
        outcomes.append("new" if data == expected else "old")
        for name in _leftovers(out):  # a killed writer cannot clean up: only hidden temp files
            assert name.endswith(".tmp")
            (out / name).unlink()
    assert "old" in outcomes, outcomes  # at least one kill landed before the rename


@contextlib.contextmanager
def _tiny_tmpfs(where: Path, size: str = "64k") -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip() or "mount refused"
        if IN_CI:
            pytest.fail(f"cannot mount a tmpfs to simulate a full disk: {reason}")
        pytest.skip(f"cannot mount a tmpfs to simulate a full disk: {reason}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_full_disk_keeps_previous_output(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "app", {"k8s/big.yaml": _stream(0.3)})
    with _tiny_tmpfs(tmp_path / "disk") as disk:
        (disk / "m.yaml").write_text(OLD)
        run = run_cli(["render", *OFFLINE, "--output", str(disk / "m.yaml")], tree)
        assert_clean_failure(run, names=("m.yaml", "no space left on device"))
        assert (disk / "m.yaml").read_text() == OLD
        assert _leftovers(disk) == []


def test_bulk_failure_keeps_previous_manifests(tmp_path: Path) -> None:
    root = tmp_path / "mono"
    make_tree(root / "good")
    make_tree(root / "bad")
    out = tmp_path / "rendered"
    for service in ("good", "bad"):
        (out / service / "dev").mkdir(parents=True)
        (out / service / "dev" / "manifest.yaml").write_text(OLD)
    (root / "bad" / "k8s" / "pod.yaml").write_text("- not a manifest\n")
    args = ["bulk", str(root), "--out", str(out), "--default-repo", "gcr.io/p"]
    run = run_cli([*args, "--env", "dev=--offline=true,--digest-source=tag"], tmp_path)
    assert run.code == 1, run.stderr
    assert "Traceback" not in run.everything
    assert (out / "bad" / "dev" / "manifest.yaml").read_text() == OLD
    assert "image: gcr.io/p/foo:v1" in (out / "good" / "dev" / "manifest.yaml").read_text()


def test_bulk_full_disk_keeps_previous_manifests(tmp_path: Path) -> None:
    root = tmp_path / "mono"
    make_tree(root / "big", {"k8s/big.yaml": _stream(0.3)})
    with _tiny_tmpfs(tmp_path / "disk") as disk:
        (disk / "big" / "dev").mkdir(parents=True)
        (disk / "big" / "dev" / "manifest.yaml").write_text(OLD)
        args = ["bulk", str(root), "--out", str(disk), "--report", str(tmp_path / "r.json")]
        run = run_cli([*args, "--env", "dev=--offline=true,--digest-source=tag"], tmp_path)
        assert run.code != 0, run.stderr
        assert "Traceback" not in run.everything
        assert (disk / "big" / "dev" / "manifest.yaml").read_text() == OLD
        assert _leftovers(disk / "big" / "dev") == []


# --- publish ----------------------------------------------------------------------------------


def _git(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["git", *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def _branch_files(env: dict[str, str], bare: Path, branch: str) -> dict[str, str]:
    names = _git(env, "--git-dir", str(bare), "ls-tree", "-r", "--name-only", branch).split()
    return {n: _git(env, "--git-dir", str(bare), "show", f"{branch}:{n}") for n in names}


def test_sigkilled_publish_leaves_branch_old_or_complete(
    tmp_path: Path, git_daemon: object, git_env: dict[str, str]
) -> None:
    """Kill `skrender publish` at several moments: the branch is the old tip or a whole new
    commit, never a commit with some of the files."""
    server = git_daemon
    url = server.create("atomic.git")  # type: ignore[attr-defined]
    bare = server.root / "atomic.git"  # type: ignore[attr-defined]
    files = tmp_path / "files"
    files.mkdir()
    first = {f"svc{i}.yaml": f"kind: ConfigMap\nname: one-{i}\n" for i in range(20)}
    for name, text in first.items():
        (files / name).write_text(text)
    env = {**git_env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    publish = [sys.executable, "-m", "engine", "publish", "--repo", url, "--branch", "main"]
    done = subprocess.run(
        [*publish, str(files)], env=env, cwd=tmp_path, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    old_tip = _git(env, "--git-dir", str(bare), "rev-parse", "main").strip()
    assert _branch_files(env, bare, "main") == first
    second = {name: text.replace("one", "two") for name, text in first.items()}
    for name, text in second.items():
        (files / name).write_text(text)
    seen = set()
    for delay in (0.02, 0.08, 0.15, 0.25, 0.4):
        child = subprocess.Popen(
            [*publish, str(files)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGKILL)
        child.wait()
        # the server may still be finishing a push the killed client started: read one commit
        tip = _git(env, "--git-dir", str(bare), "rev-parse", "main").strip()
        state = _branch_files(env, bare, tip)
        assert state in (first, second), (delay, tip)
        seen.add("old" if tip == old_tip else "new")
        if tip != old_tip:
            break  # the branch moved: later runs would publish nothing new
    assert seen, seen


def test_publish_with_a_full_temporary_disk_fails_cleanly(
    tmp_path: Path, git_daemon: object, git_env: dict[str, str]
) -> None:
    """The pack of new objects does not fit in $TMPDIR: one error line naming the cause, the
    branch untouched, the private repository gone."""
    server = git_daemon
    url = server.create("fulltmp.git")  # type: ignore[attr-defined]
    bare = server.root / "fulltmp.git"  # type: ignore[attr-defined]
    files = tmp_path / "files"
    files.mkdir()
    (files / "small.yaml").write_text(OLD)
    env = {**git_env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    publish = ["publish", "--repo", url, "--branch", "main", str(files)]
    assert run_cli(publish, tmp_path, env=env).code == 0
    old_tip = _git(env, "--git-dir", str(bare), "rev-parse", "main").strip()
    (files / "big.bin").write_bytes(os.urandom(300_000))  # incompressible: > the disk
    with _tiny_tmpfs(tmp_path / "disk", size="128k") as disk:
        run = run_cli(publish, tmp_path, env={**env, "TMPDIR": str(disk)})
        assert_clean_failure(run, names=("writing the new commits", "No space left on device"))
        assert [p.name for p in disk.iterdir()] in ([], [f"skrender-{os.getuid()}"])
        assert list((disk / f"skrender-{os.getuid()}").glob("*")) == []
    assert _git(env, "--git-dir", str(bare), "rev-parse", "main").strip() == old_tip
