"""gitdiff prints one file's change as `git diff` does: git itself is the oracle."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from engine.gitops import gitdiff
from engine.gitops.gitobjects import object_id

LONG_KEY = "spec" + "x" * 100 + ":\n"
BASE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n" + "".join(
    f"  k{i}: v{i}\n" for i in range(20)
)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (BASE, BASE.replace("  k10: v10\n", "  k10: changed\n")),  # function context: data:
        (BASE, BASE.replace("  k2: v2\n", "").replace("  k17: v17\n", "  k17: x\n  extra: 1\n")),
        (BASE, BASE.rstrip("\n")),  # "\ No newline at end of file"
        (BASE.rstrip("\n"), BASE + "tail: 1\n"),
        (LONG_KEY + BASE, LONG_KEY + BASE.replace("k19: v19", "k19: z")),  # context cut at 80
        (BASE, ""),
        ("\n\n\n", "a\n\n\n\n"),
    ],
)
def test_hunks_match_git(tmp_path: Path, old: str, new: str) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text(old)
    b.write_text(new)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}
    argv = ["git", "diff", "--no-index", "--no-color", str(a), str(b)]
    done = subprocess.run(argv, capture_output=True, env=env)
    assert done.returncode == 1  # they differ
    mine = gitdiff.file_diff(
        "f", old.encode(), new.encode(), object_id("blob", old.encode()), "0" * 40
    )
    assert mine[mine.index(b"@@") :] == done.stdout[done.stdout.index(b"@@") :]


def test_headers_of_a_new_and_a_changed_file() -> None:
    new_id = object_id("blob", b"x\n")
    created = gitdiff.file_diff("dir/f.yaml", None, b"x\n", "", new_id)
    assert created.decode().splitlines()[:6] == [
        "diff --git a/dir/f.yaml b/dir/f.yaml",
        "new file mode 100644",
        f"index 0000000..{new_id[:7]}",
        "--- /dev/null",
        "+++ b/dir/f.yaml",
        "@@ -0,0 +1 @@",
    ]
    old_id = object_id("blob", b"y\n")
    changed = gitdiff.file_diff("f", b"y\n", b"x\n", old_id, new_id).decode()
    assert changed.splitlines()[1] == f"index {old_id[:7]}..{new_id[:7]} 100644"
    assert gitdiff.file_diff("f", b"same\n", b"same\n", old_id, old_id) == b""
