"""URL credentials and scratch directories (pure functions and the local filesystem)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.gitops import scratch
from engine.gitops.remote import CredentialFile, RemoteUrl, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fatal: http://user:p@ss@host/x failed", "fatal: http://***@host/x failed"),
        ("https://u:p4ss@h/x and git@github.com:a/b", "https://***@h/x and git@github.com:a/b"),
        ("'https://tok@h:8443/r.git/'", "'https://***@h:8443/r.git/'"),
        ("http://u:a?b#c@host/x", "http://***@host/x"),
        ("https://u:pw@host", "https://***@host"),
        ("two: http://a:b@h1/ http://c:d@e@h2/", "two: http://***@h1/ http://***@h2/"),
        ("ssh://git@host/repo.git", "ssh://***@host/repo.git"),
        ("no url, just@mail.example", "no url, just@mail.example"),
    ],
)
def test_redact_cuts_the_whole_userinfo(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_given_secrets_longest_first() -> None:
    assert redact("token s3cr3t and s3cr3t-long leaked", ["s3cr3t", "s3cr3t-long"]) == (
        "token *** and *** leaked"
    )


def test_remote_url_splits_http_credentials() -> None:
    remote = RemoteUrl.parse("https://bot:p@ss%2Fw@rd@git.example:8443/acme/m.git")
    assert remote.url == "https://git.example:8443/acme/m.git"
    assert (remote.username, remote.password) == ("bot", "p@ss/w@rd")
    assert "p@ss%2Fw@rd" in remote.secrets() and "p@ss/w@rd" in remote.secrets()
    assert remote.shown() == "https://***@git.example:8443/acme/m.git"
    token_user = RemoteUrl.parse("https://ghp_0123456789abcdef@github.com/a/b.git")
    assert token_user.url == "https://github.com/a/b.git"
    assert (token_user.username, token_user.password) == ("ghp_0123456789abcdef", None)
    assert "ghp_0123456789abcdef" in token_user.secrets()


@pytest.mark.parametrize(
    "repo", ["ssh://git@host/r.git", "git@github.com:acme/m.git", "/srv/m.git", "file:///srv/m"]
)
def test_remote_url_leaves_other_urls_alone(repo: str) -> None:
    remote = RemoteUrl.parse(repo)
    assert remote.url == repo and not remote.has_credentials


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="needs memfd_create (Linux)")
def test_credential_file_is_readable_by_children_only_while_open(tmp_path: Path) -> None:
    remote = RemoteUrl.parse("https://bot:s3cret@h/x")
    credentials = CredentialFile(remote, str(tmp_path))
    helper = credentials.helper_command()
    assert "s3cret" not in helper
    script = helper[1:]  # git runs "!cmd" helpers with the shell, the action as $1
    done = subprocess.run(["sh", "-c", f"{script} get"], capture_output=True, text=True)
    assert done.stdout == "username=bot\npassword=s3cret\n"
    stored = subprocess.run(["sh", "-c", f"{script} store"], capture_output=True, text=True)
    assert stored.stdout == ""
    assert credentials.path.startswith(f"/proc/{os.getpid()}/fd/")  # in memory, not on disk
    credentials.close()
    assert list(tmp_path.iterdir()) == []  # nothing was ever written to the directory


_HOLD = """
import sys, time
from engine.gitops.scratch import ScratchDir
d = ScratchDir("skrender-test")
print(d.path, flush=True)
time.sleep(float(sys.argv[1]))
"""


def test_stale_scratch_dirs_are_removed_live_ones_kept(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[2])}
    live = subprocess.Popen(
        [sys.executable, "-c", _HOLD, "30"], env=env, stdout=subprocess.PIPE, text=True
    )
    dead = subprocess.Popen(
        [sys.executable, "-c", _HOLD, "30"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        live_dir = Path(live.stdout.readline().strip() if live.stdout else "")
        dead_dir = Path(dead.stdout.readline().strip() if dead.stdout else "")
        dead.kill()  # SIGKILL: no clean-up of its own
        dead.wait()
        assert live_dir.is_dir() and dead_dir.is_dir()
        parent = live_dir.parent
        assert parent.stat().st_mode & 0o777 == 0o700
        scratch.remove_stale(str(parent), "skrender-test")
        assert live_dir.is_dir() and not dead_dir.exists()
    finally:
        live.kill()
        live.wait()
