"""engine.gitops.gitobjects against real git: the same ids, the same naming rules."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from engine.gitops import gitobjects as objects


def git(
    env: dict[str, str], *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> str:
    done = subprocess.run(
        ["git", *args], env=env, cwd=cwd, input=stdin, capture_output=True, check=True
    )
    return done.stdout.decode()


def test_blob_and_tree_ids_are_gits(tmp_path: Path, git_env: dict[str, str]) -> None:
    repo = str(tmp_path / "r.git")
    git(git_env, "init", "--quiet", "--bare", repo)
    contents = [b"", b"kind: ConfigMap\n", bytes(range(256)) * 50]
    for content in contents:
        expected = git(git_env, "--git-dir", repo, "hash-object", "-w", "--stdin", stdin=content)
        assert objects.object_id("blob", content) == expected.strip()
    blob = objects.object_id("blob", b"x")
    sub_listing = f"100644 blob {blob}\tf\n"
    sub_tree = git(git_env, "--git-dir", repo, "mktree", "--missing", stdin=sub_listing.encode())
    # git's order: a directory sorts as "a/", so "a-" < "a.b" < "a/" < "a0".
    names = ("a.b", "a0", "a-")
    sub_tree = sub_tree.strip()
    listing = "".join(f"100644 blob {blob}\t{n}\n" for n in names)
    listing += f"040000 tree {sub_tree}\ta\n"
    expected = git(git_env, "--git-dir", repo, "mktree", "--missing", stdin=listing.encode())

    sub = objects.Directory({b"f": (objects.FILE_MODE, blob)})
    root = objects.Directory(
        {n.encode(): (objects.FILE_MODE, blob) for n in names},
        {b"a": sub, b"empty": objects.Directory()},  # an empty directory is no entry
    )
    written: dict[str, tuple[str, bytes]] = {}
    tree = root.write(written)
    assert tree == expected.strip()
    assert set(written) == {tree, sub_tree}
    assert objects.parse_tree(written[tree][1])[b"a"] == (objects.TREE_MODE, sub_tree)
    assert objects.Directory().write({}) is None


def test_pack_of_new_objects_is_read_by_git(tmp_path: Path, git_env: dict[str, str]) -> None:
    repo = str(tmp_path / "r.git")
    git(git_env, "init", "--quiet", "--bare", repo)
    big = bytes(random.Random(1).getrandbits(8) for _ in range(70000))  # a multi-byte size
    blob = objects.object_id("blob", big)
    tree_content = objects.encode_tree({b"big.bin": (objects.FILE_MODE, blob)})
    tree = objects.object_id("tree", tree_content)
    ident = "A U Thor <a@example.com> 1600000000 +0000"
    commit_content = objects.encode_commit(tree, None, ident, ident, "msg\n\nbody\n")
    commit = objects.object_id("commit", commit_content)
    new = {blob: ("blob", big), tree: ("tree", tree_content), commit: ("commit", commit_content)}
    pack, _ = objects.encode_indexed_pack(new)
    git(git_env, "--git-dir", repo, "index-pack", "--stdin", "--strict", stdin=pack)
    assert git(git_env, "--git-dir", repo, "cat-file", "-t", commit).strip() == "commit"
    git(git_env, "--git-dir", repo, "update-ref", "refs/heads/main", commit)
    git(git_env, "--git-dir", repo, "fsck", "--strict", "--no-dangling")
    shown = git(git_env, "--git-dir", repo, "log", "--format=%an|%ae|%at|%B", "main")
    assert shown == "A U Thor|a@example.com|1600000000|msg\n\nbody\n\n"


BRANCH_NAMES = [
    "main", "env/prod", "a..b", "a/.b", ".a", "a.", "a/", "/a", "a//b", "x.lock", "x.lock/y",
    "a b", "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b", "a\x7fb", "a\tb", "@{-1}", "a@{b",
    "a@b", "@", "HEAD", "HEAD/x", "x/HEAD", "-x", "x-", "héllo", "ok/branch/sub", "a.lockx",
    "..", ".", "a/..", "x" * 300, "refs/heads/x", "a@", "@a", "a/@", "a/.lock", "a.lock.",
]  # fmt: skip


def test_branch_names_follow_git_check_ref_format(
    git_env: dict[str, str], tmp_path: Path
) -> None:
    rng = random.Random(7)
    alphabet = "ab./-@{~^:\\ *[]?\x01\x7fé"
    fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(300)]
    for name in BRANCH_NAMES + fuzz:
        done = subprocess.run(
            ["git", "check-ref-format", "--branch", name],
            env=git_env,
            capture_output=True,
            cwd=tmp_path,  # outside any repository: `@{-1}` must not name a real branch
        )
        ours = objects.branch_name_problem(name)
        if name in ("@", "refs/heads/x"):  # refused on purpose: see branch_name_problem
            assert ours is not None
            continue
        assert (ours is None) == (done.returncode == 0), (name, ours, done.stderr)


PATHS = [
    "a", ".git", ".GIT", ".git ", ".git.", ".git . .", "git~1", "GIT~1", "git~1 ", ".git:x",
    ".git::$INDEX_ALLOCATION", ".g\u200cit", "\ufeff.git", ".gitx", "git~2", ".gitmodules",
    "..", "a.git", ".git~1", "x\u200c", "...", ".git\u200c ",
]  # fmt: skip


def test_path_names_git_refuses_are_refused(tmp_path: Path, git_env: dict[str, str]) -> None:
    work = tmp_path / "w"
    git(git_env, "init", "--quiet", str(work))
    for key in ("core.protectNTFS", "core.protectHFS"):
        git(git_env, "-C", str(work), "config", key, "true")
    blob = git(git_env, "-C", str(work), "hash-object", "-w", "--stdin", stdin=b"x").strip()
    for name in PATHS:
        for path in (name, f"dir/{name}"):
            done = subprocess.run(
                ["git", "-C", str(work), "update-index", "--add", "--cacheinfo",
                 f"100644,{blob},{path}"],
                env=git_env, capture_output=True,
            )  # fmt: skip
            ours = objects.path_component_problem(name)
            assert (ours is None) == (done.returncode == 0), (path, ours, done.stderr)


@pytest.mark.parametrize(
    ("name", "problem"),
    [("HEAD", "is reserved by git"), ("@", "is reserved by git"), ("-x", "starts with '-'")],
)
def test_reserved_branch_names(name: str, problem: str) -> None:
    assert objects.branch_name_problem(name) == problem


def test_pack_index_is_the_one_git_writes(tmp_path: Path, git_env: dict[str, str]) -> None:
    repo = tmp_path / "r.git"
    git(git_env, "init", "--quiet", "--bare", str(repo))
    rng = random.Random(3)
    new: dict[str, tuple[str, bytes]] = {}
    for _ in range(600):  # enough ids for every first byte of the fan-out
        content = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
        new[objects.object_id("blob", content)] = ("blob", content)
    pack, index = objects.encode_indexed_pack(new)
    (tmp_path / "p.pack").write_bytes(pack)
    git(git_env, "--git-dir", str(repo), "index-pack", "-o", str(tmp_path / "p.idx"),
        str(tmp_path / "p.pack"))  # fmt: skip
    assert index == (tmp_path / "p.idx").read_bytes()


def test_pack_index_offsets_past_2_gib_are_read_by_git(
    tmp_path: Path, git_env: dict[str, str]
) -> None:
    located = [(bytes([n]) * 20, n, offset) for n, offset in enumerate([12, 2**31, 5 * 2**32])]
    index = objects._pack_index(located, b"\0" * 20)
    shown = git(git_env, "show-index", stdin=index, cwd=tmp_path).splitlines()
    assert [line.split()[0] for line in shown] == ["12", str(2**31), str(5 * 2**32)]
