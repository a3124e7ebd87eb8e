"""engine.core.output: every kind of path a user can name, as skaffold's os.Create reaches it.

Real file-system objects in a temp dir: a mknod'ed character device (never the real
/dev/null), a FIFO with a reader thread, symlink chains, pipes reached through /dev/fd and
/proc/self/fd, a socket, a directory.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.core.errors import SkrenderError
from engine.core.output import process_umask, write_atomic, write_output

DATA = b"apiVersion: v1\nkind: Pod\n"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".skrender-"))


def _mknod_char(path: Path, major: int, minor: int) -> None:
    """A character device node inside the test's temp dir (needs CAP_MKNOD)."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
    except PermissionError:
        pytest.skip("mknod needs root (CAP_MKNOD)")


def test_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    target = tmp_path / "new.yaml"
    write_output(str(target), DATA)
    assert target.read_bytes() == DATA
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~process_umask()
    assert _leftovers(tmp_path) == []


def test_existing_file_is_replaced_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "m.yaml"
    target.write_bytes(b"old\n")
    target.chmod(0o640)
    before = target.stat().st_ino
    write_output(str(target), DATA)
    assert target.read_bytes() == DATA
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.stat().st_ino != before  # replaced by a rename, never half-written
    assert _leftovers(tmp_path) == []


def test_replacing_as_root_keeps_the_owner(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a file away")
    target = tmp_path / "m.yaml"
    target.write_bytes(b"old\n")
    os.chown(target, 65534, 65534)
    target.chmod(0o4755)  # set-id bits survive too: chown comes before chmod
    write_output(str(target), DATA)
    info = target.stat()
    assert (info.st_uid, info.st_gid) == (65534, 65534)
    assert stat.S_IMODE(info.st_mode) == 0o4755
    assert target.read_bytes() == DATA


def test_symlink_chain_stays_and_its_final_target_is_replaced(tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    link_dir = tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    target = real_dir / "m.yaml"
    target.write_bytes(b"old\n")
    target.chmod(0o600)
    (link_dir / "middle.yaml").symlink_to("../real/m.yaml")  # relative to its own directory
    (tmp_path / "out.yaml").symlink_to(link_dir / "middle.yaml")
    write_output(str(tmp_path / "out.yaml"), DATA)
    assert (tmp_path / "out.yaml").is_symlink()
    assert (link_dir / "middle.yaml").is_symlink()
    assert os.readlink(link_dir / "middle.yaml") == "../real/m.yaml"
    assert target.read_bytes() == DATA
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _leftovers(real_dir) == [] and _leftovers(link_dir) == [] and _leftovers(tmp_path) == []


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    (tmp_path / "out.yaml").symlink_to("made.yaml")
    write_output(str(tmp_path / "out.yaml"), DATA)
    assert (tmp_path / "out.yaml").is_symlink()
    assert (tmp_path / "made.yaml").read_bytes() == DATA


def test_symlink_loop_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(SkrenderError, match="symbolic links"):
        write_output(str(tmp_path / "a"), DATA)
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()


def test_character_device_is_written_not_replaced(tmp_path: Path) -> None:
    node = tmp_path / "null"
    _mknod_char(node, 1, 3)  # the null device's numbers, as a node of our own
    write_output(str(node), DATA)
    info = node.lstat()
    assert stat.S_ISCHR(info.st_mode)
    assert info.st_rdev == os.makedev(1, 3)
    assert _leftovers(tmp_path) == []


def test_full_device_reports_the_write_error_and_stays(tmp_path: Path) -> None:
    node = tmp_path / "full"
    _mknod_char(node, 1, 7)  # the "full" device: every write fails with ENOSPC
    with pytest.raises(SkrenderError, match=r"write .*full: no space left on device"):
        write_output(str(node), DATA)
    assert stat.S_ISCHR(node.lstat().st_mode)


@contextlib.contextmanager
def _fifo_reader(path: Path) -> Iterator[list[bytes]]:
    """A FIFO at ``path`` with a thread reading it to EOF; yields what it read."""
    os.mkfifo(path)
    received: list[bytes] = []

    def read() -> None:
        with open(path, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    yield received
    reader.join(10)
    assert not reader.is_alive(), "the FIFO was never closed"


def test_fifo_is_written_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    with _fifo_reader(fifo) as received:
        write_output(str(fifo), DATA)
    assert received == [DATA]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_symlink_to_a_fifo_writes_the_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    (tmp_path / "link").symlink_to(fifo)
    with _fifo_reader(fifo) as received:
        write_output(str(tmp_path / "link"), DATA)
    assert received == [DATA]
    assert (tmp_path / "link").is_symlink()


@pytest.mark.parametrize("prefix", ["/dev/fd", "/proc/self/fd"])
def test_fd_path_to_a_pipe_is_written(prefix: str) -> None:
    read_end, write_end = os.pipe()
    try:
        write_output(f"{prefix}/{write_end}", DATA)
        os.close(write_end)
        write_end = -1
        with os.fdopen(read_end, "rb") as handle:
            read_end = -1
            assert handle.read() == DATA
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)


@pytest.mark.parametrize("prefix", ["/dev/fd", "/proc/self/fd"])
def test_fd_path_to_a_regular_file_writes_that_open_file(tmp_path: Path, prefix: str) -> None:
    """/proc/self/fd/N names an open file: written in place (the inode stays), not replaced."""
    target = tmp_path / "redirected.yaml"
    target.write_bytes(b"old content that is longer than the new one\n")
    with open(target, "r+b") as handle:
        inode = os.fstat(handle.fileno()).st_ino
        write_output(f"{prefix}/{handle.fileno()}", DATA)
        assert os.fstat(handle.fileno()).st_ino == inode
    assert target.stat().st_ino == inode
    assert target.read_bytes() == DATA  # created and truncated, as os.Create
    assert _leftovers(tmp_path) == []


def test_socket_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        # open(2) cannot open a socket: skaffold's os.Create fails the same way (ENXIO)
        with pytest.raises(SkrenderError, match=r"open .*sock: no such device or address"):
            write_output(str(path), DATA)
        assert stat.S_ISSOCK(path.lstat().st_mode)
    finally:
        server.close()


def test_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(SkrenderError, match=r"open .*d: is a directory"):
        write_output(str(tmp_path / "d"), DATA)
    assert _leftovers(tmp_path) == [] and _leftovers(tmp_path / "d") == []


def test_missing_directory_reads_like_skaffold(tmp_path: Path) -> None:
    with pytest.raises(SkrenderError, match=r"^open .*nodir/x.yaml: no such file or directory$"):
        write_output(str(tmp_path / "nodir" / "x.yaml"), DATA)


def test_write_atomic_never_writes_through_a_special_file(tmp_path: Path) -> None:
    """The cache writer only ever renames: a FIFO in its place is replaced, never opened."""
    fifo = tmp_path / "entry"
    os.mkfifo(fifo)
    write_atomic(str(fifo), DATA)
    assert fifo.read_bytes() == DATA
