"""engine.gitops.publish against real git: file://, git daemon and smart HTTP with basic auth."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures_git import GitServer

from engine.commands import publish as publish_cmd
from engine.core.errors import PublishError
from engine.gitops.publish import PublishResult, ci_build_url, default_message, publish, redact

ROOT = Path(__file__).resolve().parents[2]


def git(env: dict[str, str], *args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *args], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout


def bare(tmp_path: Path, env: dict[str, str], name: str = "manifests.git") -> str:
    repo = tmp_path / name
    git(env, "init", "--quiet", "--bare", str(repo))
    # Like GitHub and GitLab: blob-less fetches.  (The daemon and HTTP repos keep git's default,
    # so both the partial and the full fetch are exercised.)
    git(env, "--git-dir", str(repo), "config", "uploadpack.allowFilter", "true")
    return str(repo)


def tree(env: dict[str, str], repo: str, ref: str) -> dict[str, str]:
    """path -> content of every file on ``ref`` of the bare repo ``repo``."""
    listing = git(env, "--git-dir", repo, "ls-tree", "-r", "-z", ref).split("\0")
    entries = [line.split("\t", 1) for line in listing if line]
    names = [name for _, name in entries]
    oids = "".join(meta.split()[2] + "\n" for meta, _ in entries).encode()
    batch = ["git", "--git-dir", repo, "cat-file", "--batch"]
    out = subprocess.run(batch, env=env, input=oids, capture_output=True, check=True).stdout
    contents = []
    for _ in names:
        header, _, out = out.partition(b"\n")
        size = int(header.split()[2])
        contents.append(out[:size].decode())
        out = out[size + 1 :]
    return dict(zip(names, contents, strict=True))


def commits(env: dict[str, str], repo: str, ref: str) -> list[str]:
    return git(env, "--git-dir", repo, "rev-list", ref).split()


def message(env: dict[str, str], repo: str, ref: str) -> str:
    """The exact message of the commit ``ref``."""
    raw = git(env, "--git-dir", repo, "cat-file", "commit", ref)
    return raw.split("\n\n", 1)[1]


# --- library behaviour on file:// ----------------------------------------------------------


def test_creates_orphan_branch_next_to_existing_history(tmp_path: Path, git_env: dict) -> None:
    repo = bare(tmp_path, git_env)
    first = publish(repo=repo, branch="main", files={"keep.txt": b"k\n"}, env=git_env)
    result = publish(
        repo=repo, branch="env/prod", files={"app.yaml": b"a: 1\n"}, path="apps/web", env=git_env
    )
    assert result.changed and result.attempts == 1 and result.branch == "env/prod"
    assert commits(git_env, repo, "env/prod") == [result.commit]  # orphan: no parent
    assert tree(git_env, repo, "env/prod") == {"apps/web/app.yaml": "a: 1\n"}
    assert commits(git_env, repo, "main") == [first.commit]


def test_same_content_twice_makes_one_commit(tmp_path: Path, git_env: dict) -> None:
    repo = bare(tmp_path, git_env)
    files = {"a.yaml": b"a\n", "nested/b.yaml": b"b\n"}
    first = publish(repo=repo, branch="main", files=files, path="x", env=git_env)
    second = publish(repo=repo, branch="main", files=files, path="x", env=git_env)
    assert second == PublishResult(branch="main", commit=None, changed=False, attempts=1)
    assert commits(git_env, repo, "main") == [first.commit]


def test_without_prune_other_files_are_kept(tmp_path: Path, git_env: dict) -> None:
    repo = bare(tmp_path, git_env)
    publish(repo=repo, branch="main", files={"old.yaml": b"o\n", "a.yaml": b"1\n"}, env=git_env)
    publish(repo=repo, branch="main", files={"a.yaml": b"2\n"}, env=git_env)
    assert tree(git_env, repo, "main") == {"old.yaml": "o\n", "a.yaml": "2\n"}
    assert len(commits(git_env, repo, "main")) == 2


def test_prune_keeps_exactly_the_given_files_under_path(tmp_path: Path, git_env: dict) -> None:
    repo = bare(tmp_path, git_env)
    publish(repo=repo, branch="main", files={"README": b"r\n"}, env=git_env)
    stale = {"a.yaml": b"a\n", "stale.yaml": b"s\n", "deep/stale.yaml": b"d\n"}
    publish(repo=repo, branch="main", files=stale, path="apps/web", env=git_env)
    publish(repo=repo, branch="main", files={"a.yaml": b"x\n"}, path="apps/webby", env=git_env)
    result = publish(
        repo=repo, branch="main", files={"a.yaml": b"a2\n"}, path="apps/web", prune=True,
        env=git_env,
    )  # fmt: skip
    assert result.changed
    assert tree(git_env, repo, "main") == {
        "README": "r\n",
        "apps/web/a.yaml": "a2\n",
        "apps/webby/a.yaml": "x\n",  # a sibling sharing the prefix string is not pruned
    }
    head = commits(git_env, repo, "main")[0]
    changed = git(git_env, "--git-dir", repo, "show", "--format=", "--name-only", head).split()
    assert sorted(changed) == ["apps/web/a.yaml", "apps/web/deep/stale.yaml", "apps/web/stale.yaml"]


def test_prune_of_the_whole_branch(tmp_path: Path, git_env: dict) -> None:
    repo = bare(tmp_path, git_env)
    publish(repo=repo, branch="main", files={"a": b"1", "b/c": b"2"}, env=git_env)
    publish(repo=repo, branch="main", files={"d": b"3"}, prune=True, env=git_env)
    assert tree(git_env, repo, "main") == {"d": "3"}


def test_identity_and_default_message(tmp_path: Path, git_env: dict) -> None:
    repo = bare(tmp_path, git_env)
    env = {
        **git_env,
        "GITHUB_RUN_ID": "42",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
    }
    context = {"service": "web", "environment": "prod", "images": "r.io/web:1@sha256:ab r.io/x:2"}
    publish(
        repo=repo, branch="main", files={"a": b"1"}, env=env, context=context,
        author=("Ann Author", "ann@example.com"), committer=("Cy Committer", "cy@example.com"),
    )  # fmt: skip
    fmt = "%an <%ae>|%cn <%ce>|%ad"
    shown = git(git_env, "--git-dir", repo, "log", "-1", f"--format={fmt}", "--date=iso", "main")
    assert shown.strip() == (
        "Ann Author <ann@example.com>|Cy Committer <cy@example.com>|2021-03-04 05:06:07 +0000"
    )
    text = message(git_env, repo, "main")
    assert text.startswith("Publish web to prod\n\nRendered from commit 0123456789abcdef")
    assert "Build: https://github.com/acme/shop/actions/runs/42" in text
    assert "Skrender-Source-Commit: 0123456789abcdef0123456789abcdef01234567\n" in text
    assert "Skrender-Image: r.io/web:1@sha256:ab\nSkrender-Image: r.io/x:2\n" in text


def test_custom_message_keeps_trailers(tmp_path: Path, git_env: dict) -> None:
    repo = bare(tmp_path, git_env)
    publish(
        repo=repo, branch="main", files={"a": b"1"}, env=git_env, message="deploy it",
        context={"source_commit": "abc123"},
    )  # fmt: skip
    assert message(git_env, repo, "main") == "deploy it\n\nSkrender-Source-Commit: abc123\n"


def test_default_message_ci_systems() -> None:
    assert ci_build_url({"CI_JOB_URL": "https://gitlab.example/j/1"}) == (
        "https://gitlab.example/j/1"
    )
    assert ci_build_url({"BUILD_URL": "https://user:pw@jenkins/job/3/"}) == (
        "https://***@jenkins/job/3/"
    )
    assert ci_build_url({"BUILDKITE_BUILD_URL": "https://bk/b/9"}) == "https://bk/b/9"
    assert ci_build_url({}) is None
    text = default_message({}, {"CI_COMMIT_SHA": "feed", "CI_JOB_URL": "https://gl/j/1"})
    assert text == (
        "Publish rendered manifests\n\nRendered from commit feed.\nBuild: https://gl/j/1\n\n"
        "Skrender-Source-Commit: feed\nSkrender-Build-URL: https://gl/j/1\n"
    )


def test_bad_names_are_refused_before_any_network(tmp_path: Path, git_env: dict) -> None:
    repo = bare(tmp_path, git_env)
    with pytest.raises(PublishError, match="not a valid branch name"):
        publish(repo=repo, branch="a..b", files={"a": b""}, env=git_env)
    with pytest.raises(PublishError, match="not a relative path"):
        publish(repo=repo, branch="main", files={"../a": b""}, env=git_env)
    with pytest.raises(PublishError, match="not a relative path"):
        publish(repo=repo, branch="main", files={"a": b""}, path="x/.git", env=git_env)
    assert git(git_env, "--git-dir", repo, "for-each-ref") == ""


def test_missing_repository_is_a_one_line_error(tmp_path: Path, git_env: dict) -> None:
    with pytest.raises(PublishError) as info:
        publish(repo=str(tmp_path / "nope.git"), branch="main", files={"a": b""}, env=git_env)
    assert "\n" not in str(info.value)
    assert str(tmp_path / "nope.git") in str(info.value)


def _interloper_hook(repo: str, once: bool) -> None:
    """A pre-receive hook that moves the pushed branch first: the push then loses the race."""
    guard = 'if [ -e "$GIT_DIR/moved" ]; then exit 0; fi; touch "$GIT_DIR/moved"' if once else ""
    hook = Path(repo) / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        f"{guard}\n"
        "unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n"
        "while read old new ref; do\n"
        "  blob=$(echo theirs | git hash-object -w --stdin)\n"
        '  tree=$(printf "100644 blob %s\\ttheirs.txt\\n" "$blob" | git mktree)\n'
        '  commit=$(echo interloper | git commit-tree -p "$old" "$tree")\n'
        '  git update-ref "$ref" "$commit" "$old"\n'
        "done\n"
    )
    hook.chmod(0o755)


def test_lost_race_is_refetched_and_reapplied(tmp_path: Path, git_env: dict) -> None:
    repo = bare(tmp_path, git_env)
    publish(repo=repo, branch="main", files={"a": b"1"}, env=git_env)
    _interloper_hook(repo, once=True)
    result = publish(repo=repo, branch="main", files={"a": b"2"}, env=git_env)
    assert result.changed and result.attempts == 2
    assert tree(git_env, repo, "main") == {"a": "2", "theirs.txt": "theirs\n"}
    assert len(commits(git_env, repo, "main")) == 3


def test_retries_are_bounded(tmp_path: Path, git_env: dict) -> None:
    repo = bare(tmp_path, git_env)
    publish(repo=repo, branch="main", files={"a": b"1"}, env=git_env)
    _interloper_hook(repo, once=False)
    with pytest.raises(PublishError, match="gave up after 3 attempts"):
        publish(repo=repo, branch="main", files={"a": b"2"}, env=git_env, max_attempts=3)


def test_hook_rejection_is_not_retried(tmp_path: Path, git_env: dict) -> None:
    repo = bare(tmp_path, git_env)
    hook = Path(repo) / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho protected >&2\nexit 1\n")
    hook.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(PublishError, match=r"rejected: .*pre-receive hook declined"):
        publish(repo=repo, branch="main", files={"a": b"2"}, env=git_env)
    assert time.monotonic() - started < 5


def test_user_cwd_repository_is_untouched(
    tmp_path: Path, git_env: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    git(git_env, "init", "--quiet", str(work))
    before = sorted(p.name for p in (work / ".git").iterdir())
    monkeypatch.chdir(work)
    repo = bare(tmp_path, git_env)
    publish(repo=repo, branch="main", files={"a": b"1"}, env={**git_env, "GIT_DIR": ".git"})
    assert sorted(p.name for p in (work / ".git").iterdir()) == before
    assert git(git_env, "for-each-ref", cwd=work) == ""


# --- CLI ---------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skrender")
    publish_cmd.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_cli_publishes_files_and_directories(
    tmp_path: Path, git_env: dict, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    for key, value in git_env.items():
        monkeypatch.setenv(key, value)
    repo = bare(tmp_path, git_env)
    (tmp_path / "out" / "sub").mkdir(parents=True)
    (tmp_path / "out" / "sub" / "svc.yaml").write_text("kind: Service\n")
    (tmp_path / "single.yaml").write_text("kind: Pod\n")
    sources = [str(tmp_path / "out"), str(tmp_path / "single.yaml")]
    argv = ["publish", "--repo", repo, "--branch", "prod", "--path", "web", "--author",
            "Bot <bot@example.com>", *sources]  # fmt: skip
    assert publish_cmd.run(_parser().parse_args(argv)) == 0
    head = commits(git_env, repo, "prod")[0]
    assert capsys.readouterr().err == f"published 2 file(s) to prod as {head[:7]}\n"
    assert tree(git_env, repo, "prod") == {
        "web/sub/svc.yaml": "kind: Service\n",
        "web/single.yaml": "kind: Pod\n",
    }
    assert publish_cmd.run(_parser().parse_args(argv)) == 0
    assert capsys.readouterr().err == "prod already up to date; nothing to commit\n"
    assert publish_cmd.run(_parser().parse_args([*argv[:-2], str(tmp_path / "missing")])) == 1
    assert capsys.readouterr().err.startswith("publish: reading ")


# --- real servers --------------------------------------------------------------------------


@pytest.mark.integration
def test_git_daemon_round_trip(git_daemon: GitServer, git_env: dict) -> None:
    url = git_daemon.create("daemon-round-trip.git")
    result = publish(repo=url, branch="main", files={"a.yaml": b"a\n"}, env=git_env)
    assert result.changed
    local = str(git_daemon.root / "daemon-round-trip.git")
    assert tree(git_env, local, "main") == {"a.yaml": "a\n"}
    again = publish(repo=url, branch="main", files={"a.yaml": b"a\n"}, env=git_env)
    assert not again.changed


def _cli_process(url: str, branch: str, name: str, env: dict[str, str]) -> subprocess.Popen:
    argv = [sys.executable, "-m", "engine.commands.publish", "--repo", url, "--branch", branch,
            "--path", "apps", "--max-attempts", "8", name]  # fmt: skip
    return subprocess.Popen(
        argv, cwd=env["WORKDIR"], env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.integration
def test_concurrent_publishers_lose_nothing(
    git_daemon: GitServer, git_env: dict, tmp_path: Path
) -> None:
    url = git_daemon.create("concurrent.git")
    publish(repo=url, branch="main", files={"seed.yaml": b"seed\n"}, path="apps", env=git_env)
    jobs = []
    for number in range(10):
        workdir = tmp_path / f"w{number}"
        workdir.mkdir()
        (workdir / f"svc{number}.yaml").write_text(f"n: {number}\n")
        branch = "main" if number < 8 else "other"  # two publishers on a different branch
        env = {**git_env, "WORKDIR": str(workdir)}
        jobs.append(_cli_process(url, branch, f"svc{number}.yaml", env))
    results = [(job.wait(timeout=120), job.stderr.read() if job.stderr else "") for job in jobs]
    assert all(code == 0 for code, _ in results), results
    local = str(git_daemon.root / "concurrent.git")
    expected = {f"apps/svc{n}.yaml": f"n: {n}\n" for n in range(8)}
    assert tree(git_env, local, "main") == {"apps/seed.yaml": "seed\n", **expected}
    assert len(commits(git_env, local, "main")) == 9  # linear: seed + one per publisher
    assert git(git_env, "--git-dir", local, "rev-list", "--merges", "main") == ""
    assert tree(git_env, local, "other") == {f"apps/svc{n}.yaml": f"n: {n}\n" for n in (8, 9)}


_KILL_SCRIPT = """
import sys
from engine.gitops.publish import publish
files = {f"f{i}.yaml": (sys.argv[2] * 2000 + str(i)).encode() for i in range(200)}
publish(repo=sys.argv[1], branch="main", files=files, path="apps", prune=True)
"""


@pytest.mark.integration
def test_killed_publisher_leaves_branch_old_or_new(
    git_daemon: GitServer, git_env: dict, tmp_path: Path
) -> None:
    url = git_daemon.create("killed.git")
    local = str(git_daemon.root / "killed.git")
    # TMPDIR: a killed publisher cannot remove its private repository; pytest's tmp_path will.
    env = {**git_env, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}

    def start(marker: str) -> subprocess.Popen:
        argv = [sys.executable, "-c", _KILL_SCRIPT, url, marker]
        return subprocess.Popen(argv, env=env, cwd=tmp_path, start_new_session=True)

    started = time.monotonic()
    assert start("a").wait(timeout=60) == 0
    full = time.monotonic() - started
    first = tree(git_env, local, "main")
    # A complete state of the branch: the first publish's, or one whole later publish's.
    # (The server may finish receiving a push after its client was killed, so a state can
    # show up one step late: what must never appear is a mix of two publishes.)
    complete = [first]
    # Kill points spread over a whole publish, dense near the end where the push happens.
    for fraction, marker in zip((0.3, 0.6, 0.8, 0.9, 0.95, 1.0), "bcdefg", strict=True):
        complete.append({k: f"{marker * 2000}{k[6:-5]}" for k in first})
        publisher = start(marker)
        time.sleep(full * fraction)
        os.killpg(publisher.pid, signal.SIGKILL)
        publisher.wait()
        now = tree(git_env, local, "main")
        assert now in complete, f"torn update after {fraction:.0%} of a publish"
    git(git_env, "--git-dir", local, "fsck", "--strict")


@pytest.mark.integration
def test_http_basic_auth_token_never_shown(
    git_http: GitServer, git_env: dict, capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    git_http.create("secret.git")
    token = git_http.password
    url = git_http.authed_url("secret.git")
    result = publish(repo=url, branch="main", files={"a": b"1"}, env=git_env)
    assert result.changed
    local = str(git_http.root / "secret.git")
    assert token not in message(git_env, local, "main")
    assert tree(git_env, local, "main") == {"a": "1"}

    wrong = git_http.authed_url("secret.git", password="tok-wrong-0123456789abcdef")
    with pytest.raises(PublishError) as info:
        publish(repo=wrong, branch="main", files={"a": b"2"}, env=git_env)
    assert "tok-wrong" not in str(info.value) and "***@" in str(info.value)

    with pytest.raises(PublishError) as info:
        publish(repo=git_http.authed_url("absent.git"), branch="main", files={"a": b""},
                env=git_env)  # fmt: skip
    assert token not in str(info.value)

    for key, value in git_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BUILD_URL", f"https://ci:{token}@jenkins.example/job/1/")
    argv = ["publish", "--repo", url, "--branch", "main", "--path", "cli", "/dev/null"]
    assert publish_cmd.run(_parser().parse_args(argv)) == 0
    err = capsys.readouterr().err
    assert err.startswith("published 1 file(s) to main") and token not in err
    text = message(git_env, local, "main")
    assert token not in text and "Build: https://***@jenkins.example/job/1/" in text
    argv[2] = wrong
    assert publish_cmd.run(_parser().parse_args(argv)) == 1
    err = capsys.readouterr().err
    assert "tok-wrong" not in err and err.count("\n") == 1


def test_redact() -> None:
    assert redact("fatal: https://u:p4ss@h/x and git@github.com:a/b") == (
        "fatal: https://***@h/x and git@github.com:a/b"
    )
    assert redact("token s3cr3t leaked", ["s3cr3t"]) == "token *** leaked"
