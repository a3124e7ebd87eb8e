"""Output paths as users name them (issue 10, item 3), through the real command line.

Every file skrender writes (`render -o`, `tags -o`, `argocd -o`, `build --file-output`, bulk
output and `--report`) follows skaffold's os.Create: a device, a FIFO, a /proc/self/fd link
(/dev/stdout's shape) or /dev/fd/N is opened and written, never replaced; a symlink keeps
pointing at its target, which gets the new bytes; a writable file in a read-only directory is
written in place.
Devices and links are made inside the temp dir: never the real /dev/null or /dev/stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability.helpers import OFFLINE, cli_env, make_tree, run_cli


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "app")


@pytest.fixture
def expected(tree: Path) -> str:
    """What `render` prints on stdout: every other destination must receive these bytes."""
    run = run_cli(["render", *OFFLINE], tree)
    assert run.code == 0, run.stderr
    assert "image: gcr.io/p/foo:v1" in run.stdout
    return run.stdout


@contextlib.contextmanager
def fifo_reader(path: Path) -> Iterator[list[bytes]]:
    """A FIFO at ``path`` read to EOF by a thread; yields the list its bytes land in."""
    os.mkfifo(path)
    received: list[bytes] = []

    def read() -> None:
        with open(path, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield received
    finally:
        if reader.is_alive():  # the writer never came: let the reader go
            with contextlib.suppress(OSError), open(path, "wb"):
                pass
        reader.join(10)


def test_render_to_a_character_device_writes_it(tmp_path: Path, tree: Path) -> None:
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod needs root (CAP_MKNOD)")
    run = run_cli(["render", *OFFLINE, "-o", str(node)], tree)
    assert run.code == 0, run.stderr
    info = node.lstat()
    assert stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app", "home", "null"]


def test_render_to_a_fifo_feeds_its_reader(tmp_path: Path, tree: Path, expected: str) -> None:
    fifo = tmp_path / "manifests"
    with fifo_reader(fifo) as received:
        run = run_cli(["render", *OFFLINE, "-o", str(fifo)], tree)
    assert run.code == 0, run.stderr
    assert received == [expected.encode()]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_render_through_a_symlink_updates_its_target(
    tmp_path: Path, tree: Path, expected: str
) -> None:
    (tmp_path / "deploy").mkdir()
    target = tmp_path / "deploy" / "manifest.yaml"
    target.write_text("old: content\n")
    target.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to("deploy/manifest.yaml")
    run = run_cli(["render", *OFFLINE, "-o", str(link)], tree)
    assert run.code == 0, run.stderr
    assert link.is_symlink() and os.readlink(link) == "deploy/manifest.yaml"
    assert target.read_text() == expected
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.parametrize("prefix", ["/dev/fd", "/proc/self/fd"])
def test_render_to_an_inherited_pipe_fd(
    tmp_path: Path, tree: Path, expected: str, prefix: str
) -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as reader:
        child = subprocess.Popen(
            [sys.executable, "-m", "engine", "render", *OFFLINE, "-o", f"{prefix}/{write_end}"],
            cwd=tree,
            env=cli_env(tmp_path / "home"),
            pass_fds=(write_end,),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        os.close(write_end)
        received = reader.read()
        stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 0, stderr
    assert received == expected.encode()
    assert stdout == b""


def test_render_to_a_stdout_link_prints(tmp_path: Path, tree: Path, expected: str) -> None:
    """/dev/stdout's own shape (a symlink to /proc/self/fd/1), made in the temp dir: a wrong
    implementation replaces this link, never the machine's /dev/stdout."""
    stdout_link = tmp_path / "stdout"
    stdout_link.symlink_to("/proc/self/fd/1")
    run = run_cli(["render", *OFFLINE, "-o", str(stdout_link)], tree)
    assert run.code == 0, run.stderr
    assert run.stdout == expected
    assert os.readlink(stdout_link) == "/proc/self/fd/1"


@contextlib.contextmanager
def read_only_directory(path: Path) -> Iterator[None]:
    """``path`` takes no new entries while its files stay writable.

    Root writes into a mode-0555 directory anyway: as root the directory is made immutable
    (``chattr +i``: no entry can be created, renamed or removed; its files stay writable).
    """
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(0o755)
        return
    locked = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if locked.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {locked.stderr!r}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_writable_file_in_a_read_only_directory_is_written_in_place(
    tmp_path: Path, tree: Path, expected: str
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    target = locked / "manifest.yaml"
    target.write_text("old: content\n")
    target.chmod(0o640)
    inode = target.stat().st_ino
    with read_only_directory(locked):
        run = run_cli(["render", *OFFLINE, "-o", str(target)], tree)
        assert run.code == 0, run.stderr
        assert target.read_text() == expected
        assert target.stat().st_ino == inode
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
        assert [p.name for p in locked.iterdir()] == ["manifest.yaml"]
        # the same directory refuses a new file, with the reason
        run = run_cli(["render", *OFFLINE, "-o", str(locked / "new.yaml")], tree)
        assert run.code == 1
        assert "new.yaml" in run.stderr
        assert "permission denied" in run.stderr or "operation not permitted" in run.stderr
        assert "Traceback" not in run.stderr
        assert [p.name for p in locked.iterdir()] == ["manifest.yaml"]


def test_tags_argocd_and_build_follow_the_same_rules(tmp_path: Path, tree: Path) -> None:
    printed = run_cli(["tags", "-d", "gcr.io/p"], tree)
    assert printed.code == 0 and "gcr.io/p/foo:v1" in printed.stdout, printed.stderr
    fifo = tmp_path / "tags"
    with fifo_reader(fifo) as received:
        run = run_cli(["tags", "-d", "gcr.io/p", "-o", str(fifo)], tree)
    assert run.code == 0, run.stderr
    assert received == [printed.stdout.encode()]

    (tmp_path / "apps.yaml").write_text("old\n")
    (tmp_path / "apps-link.yaml").symlink_to("apps.yaml")
    root = tmp_path / "mono"
    (root / "svc").mkdir(parents=True)
    (root / "svc" / "skaffold.yaml").write_text("apiVersion: skaffold/v4beta14\nkind: Config\n")
    argocd = ["argocd", str(root), "--repo", "https://git.invalid/m.git"]
    run = run_cli([*argocd, "-o", str(tmp_path / "apps-link.yaml")], tmp_path)
    assert run.code == 0, run.stderr
    assert (tmp_path / "apps-link.yaml").is_symlink()
    assert "kind: Application" in (tmp_path / "apps.yaml").read_text()

    # a config without artifacts builds nothing: no Docker engine needed
    fifo = tmp_path / "builds"
    with fifo_reader(fifo) as received:
        run = run_cli(["build", "--file-output", str(fifo)], root / "svc")
    assert run.code == 0, run.stderr
    assert json.loads(received[0]) == {"builds": None}
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_bulk_writes_through_links_and_reports_to_stdout(tmp_path: Path, expected: str) -> None:
    root = tmp_path / "mono"
    make_tree(root / "web")
    out = tmp_path / "rendered"
    kept = tmp_path / "kept.yaml"
    kept.write_text("old\n")
    (out / "web" / "dev").mkdir(parents=True)
    (out / "web" / "dev" / "manifest.yaml").symlink_to(kept)
    args = ["bulk", str(root), "--out", str(out), "--default-repo", "gcr.io/p", "--no-cache"]
    run = run_cli(
        [*args, "--env", "dev=--offline=true,--digest-source=tag", "--report", "-"], tmp_path
    )
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)  # stdout holds the report and nothing else
    assert isinstance(report, dict)
    assert not (out / "report.json").exists() and not (tmp_path / "-").exists()
    assert (out / "web" / "dev" / "manifest.yaml").is_symlink()
    assert kept.read_text() == expected


def test_dash_is_a_file_name_for_render_as_in_skaffold(tree: Path, expected: str) -> None:
    """skaffold's -o takes `-` as an ordinary file name (spec section 12)."""
    run = run_cli(["render", *OFFLINE, "-o", "-"], tree)
    assert run.code == 0, run.stderr
    assert run.stdout == ""
    assert (tree / "-").read_text() == expected
