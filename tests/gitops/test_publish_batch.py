"""publish_many: many branches in one round trip, against real git servers.

Costs are checked by counting what git did (GIT_TRACE2_EVENT in the environment the publish
gives git), not by timing: the benchmarks time it.
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest
from fixtures_git import GitServer

from engine.core.errors import PublishError
from engine.gitops.publish import PublishResult, Target, publish, publish_many


def git(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["git", *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def heads(env: dict[str, str], repo: str) -> dict[str, str]:
    out = git(env, "--git-dir", repo, "for-each-ref", "--format=%(refname:short) %(objectname)")
    return dict(line.split(" ") for line in out.splitlines())


def show(env: dict[str, str], repo: str, spec: str) -> str:
    return git(env, "--git-dir", repo, "show", spec)


def traced(env: dict[str, str], trace: Path) -> dict[str, str]:
    return {**env, "GIT_TRACE2_EVENT": str(trace)}


def git_commands(trace: Path) -> list[str]:
    """The git commands run (top-level processes and their children), in order."""
    names = []
    for line in trace.read_text().splitlines():
        event = json.loads(line)
        if event.get("event") == "cmd_name":
            names.append(event["name"])
    trace.unlink()
    return names


def targets(count: int, version: str) -> list[Target]:
    return [
        Target(
            branch=f"svc{n // 2}/env{n % 2}",
            files={"manifest.yaml": f"name: svc{n // 2}\nversion: {version}\n".encode()},
            path=f"svc{n // 2}",
            message=f"Publish svc{n // 2}\n",
        )
        for n in range(count)
    ]


@pytest.mark.integration
def test_many_branches_one_push_and_unchanged_costs_no_push(
    git_daemon: GitServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    url = git_daemon.create("batch.git")
    local = str(git_daemon.root / "batch.git")
    trace = tmp_path / "trace.json"
    env = traced(git_env, trace)

    first = publish_many(repo=url, targets=targets(40, "1"), env=env)
    assert all(r.changed and r.error is None and r.attempts == 1 for r in first)
    commands = git_commands(trace)
    assert commands.count("push") == 1 and commands.count("ls-remote") == 1
    assert "fetch" not in commands  # no branch existed: nothing to fetch
    assert len(heads(git_env, local)) == 40
    assert show(git_env, local, "svc7/env1:svc7/manifest.yaml") == "name: svc7\nversion: 1\n"

    again = publish_many(repo=url, targets=targets(40, "1"), env=env)
    assert [r.changed for r in again] == [False] * 40
    assert all(r.commit is None for r in again)
    commands = git_commands(trace)
    assert "push" not in commands and "var" not in commands  # no commit even built
    assert commands.count("ls-remote") == 1 and commands.count("fetch") == 1

    # Two of forty change: one push, and only those two branches move.
    before = heads(git_env, local)
    changed = targets(40, "1")
    changed[3] = Target(changed[3].branch, {"manifest.yaml": b"v2\n"}, path="svc1")
    changed[30] = Target(changed[30].branch, {"manifest.yaml": b"v2\n"}, path="svc15")
    results = publish_many(repo=url, targets=changed, env=env)
    assert [n for n, r in enumerate(results) if r.changed] == [3, 30]
    assert git_commands(trace).count("push") == 1
    after = heads(git_env, local)
    assert {b for b in after if after[b] != before[b]} == {"svc1/env1", "svc15/env0"}
    assert (
        git(git_env, "--git-dir", local, "rev-parse", "svc1/env1^").strip() == before["svc1/env1"]
    )


@pytest.mark.integration
def test_targets_on_one_branch_commit_in_order(
    git_daemon: GitServer, git_env: dict[str, str]
) -> None:
    url = git_daemon.create("shared-branch.git")
    local = str(git_daemon.root / "shared-branch.git")
    batch = [
        Target("manifests", {"manifest.yaml": f"{name}\n".encode()}, path=name, message=f"{name}\n")
        for name in ("web", "api", "db")
    ]
    results = publish_many(repo=url, targets=batch, env=git_env)
    assert [r.changed for r in results] == [True, True, True]
    log = git(git_env, "--git-dir", local, "log", "--format=%H %s", "manifests").splitlines()
    assert [line.split(" ", 1) for line in log] == [
        [results[2].commit, "db"], [results[1].commit, "api"], [results[0].commit, "web"],
    ]  # fmt: skip
    # The same again: nothing; one of them changed: one commit on top.
    assert not any(r.changed for r in publish_many(repo=url, targets=batch, env=git_env))
    batch[1] = Target("manifests", {"manifest.yaml": b"api2\n"}, path="api", message="api2\n")
    results = publish_many(repo=url, targets=batch, env=git_env)
    assert [r.changed for r in results] == [False, True, False]
    assert show(git_env, local, "manifests:api/manifest.yaml") == "api2\n"
    assert show(git_env, local, "manifests:web/manifest.yaml") == "web\n"


def _interloper_hook(repo: str, branch: str) -> None:
    """A pre-receive hook that moves ``branch`` once before the push lands: a lost race."""
    hook = Path(repo) / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        'if [ -e "$GIT_DIR/moved" ]; then exit 0; fi; touch "$GIT_DIR/moved"\n'
        "unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n"
        f"ref=refs/heads/{branch}\n"
        'old=$(git rev-parse "$ref")\n'
        "blob=$(echo theirs | git hash-object -w --stdin)\n"
        'tree=$(printf "100644 blob %s\\ttheirs.txt\\n" "$blob" | git mktree)\n'
        'commit=$(echo interloper | git commit-tree -p "$old" "$tree")\n'
        'git update-ref "$ref" "$commit" "$old"\n'
    )
    hook.chmod(0o755)


def test_a_lost_race_rebuilds_only_that_branch(tmp_path: Path, git_env: dict[str, str]) -> None:
    repo = str(tmp_path / "race.git")
    git(git_env, "init", "--quiet", "--bare", repo)
    publish_many(repo=repo, targets=targets(6, "1"), env=git_env)
    _interloper_hook(repo, "svc1/env0")
    trace = tmp_path / "trace.json"
    results = publish_many(repo=repo, targets=targets(6, "2"), env=traced(git_env, trace))
    assert all(r.changed and r.error is None for r in results)
    assert [r.attempts for r in results] == [1, 1, 2, 1, 1, 1]
    commands = git_commands(trace)
    assert commands.count("push") == 2 and commands.count("fetch") == 2
    assert show(git_env, repo, "svc1/env0:theirs.txt") == "theirs\n"  # the interloper kept
    assert show(git_env, repo, "svc1/env0:svc1/manifest.yaml") == "name: svc1\nversion: 2\n"


@pytest.mark.integration
def test_server_refusals_are_git_s_cause_and_not_retried(
    git_daemon: GitServer, git_env: dict[str, str], tmp_path: Path
) -> None:
    url = git_daemon.create("refusals.git")
    local = str(git_daemon.root / "refusals.git")
    publish(repo=url, branch="ok/branch", files={"a": b"1"}, env=git_env)
    long_name = "x" * 256
    batch = [
        Target("ok/branch/sub", {"a": b"2"}),
        Target(f"ok/{long_name}", {"a": b"3"}),
        Target("fine", {"a": b"4"}),
    ]
    trace = tmp_path / "trace.json"
    results = publish_many(repo=url, targets=batch, env=traced(git_env, trace))
    sub, long, fine = results
    assert sub.error is not None and "cannot lock ref 'refs/heads/ok/branch/sub'" in sub.error
    assert "'refs/heads/ok/branch' exists" in sub.error
    assert long.error is not None and "cannot lock ref" in long.error
    assert "File name too long" in long.error
    assert "kept moving" not in sub.error + long.error
    assert fine == PublishResult("fine", fine.commit, True, 1)
    assert git_commands(trace).count("push") == 3  # the batch, without each refused ref
    assert sorted(heads(git_env, local)) == ["fine", "ok/branch"]


def test_branch_names_git_refuses_do_no_work(tmp_path: Path, git_env: dict[str, str]) -> None:
    repo = str(tmp_path / "names.git")
    git(git_env, "init", "--quiet", "--bare", repo)
    for name in ("HEAD", "@", "a..b", "-x", "x.lock", "a b", "@{-1}"):
        with pytest.raises(PublishError, match="not a valid branch name"):
            publish(repo=repo, branch=name, files={"a": b""}, env=git_env)
    batch = [Target("a", {"f": b"1"}), Target("a/b", {"f": b"2"}), Target("c", {"f": b"3"})]
    results = publish_many(repo=repo, targets=batch, env=git_env)
    for result in results[:2]:
        assert result.error and "cannot process 'refs/heads/a' and 'refs/heads/a/b'" in result.error
    assert results[2].changed
    assert sorted(heads(git_env, repo)) == ["c"]


@pytest.mark.parametrize("name", [".git ", "git~1", ".GIT.", ".g\u200cit", "a/.git::$DATA"])
def test_paths_git_would_drop_are_errors(
    tmp_path: Path, git_env: dict[str, str], name: str
) -> None:
    repo = str(tmp_path / "paths.git")
    git(git_env, "init", "--quiet", "--bare", repo)
    with pytest.raises(PublishError, match="not a relative path inside the branch"):
        publish(repo=repo, branch="main", files={name: b"x"}, env=git_env)
    with pytest.raises(PublishError, match="not a relative path inside the branch"):
        publish(repo=repo, branch="main", files={"a": b"x"}, path=name, env=git_env)
    assert heads(git_env, repo) == {}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_errors_say_git_s_cause_once(tmp_path: Path, git_env: dict[str, str]) -> None:
    url = f"git://127.0.0.1:{_closed_port()}/x.git"
    with pytest.raises(PublishError) as info:
        publish(repo=url, branch="main", files={"a": b""}, env=git_env)
    text = str(info.value)
    assert "Connection refused" in text and text.count(url) == 1 and "\n" not in text
    missing = str(tmp_path / "nope.git")
    with pytest.raises(PublishError) as info:
        publish(repo=missing, branch="main", files={"a": b""}, env=git_env)
    assert "does not appear to be a git repository" in str(info.value)
    assert not str(info.value).startswith("publish:")


def test_server_text_is_one_safe_line(tmp_path: Path, git_env: dict[str, str]) -> None:
    repo = str(tmp_path / "hostile.git")
    git(git_env, "init", "--quiet", "--bare", repo)
    hook = Path(repo) / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nprintf 'no\\033[31m way\\n::error::pwned\\r\\n' >&2\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(PublishError) as info:
        publish(repo=repo, branch="main", files={"a": b"1"}, env=git_env)
    text = str(info.value)
    assert "\n" not in text and "\r" not in text and "\x1b" not in text
    assert "pre-receive hook declined" in text


@pytest.mark.integration
def test_concurrent_batches_lose_no_update(git_daemon: GitServer, git_env: dict[str, str]) -> None:
    import threading

    url = git_daemon.create("concurrent-batches.git")
    local = str(git_daemon.root / "concurrent-batches.git")
    branches = [f"b{n}" for n in range(10)]
    results: dict[int, list[PublishResult]] = {}

    def publisher(number: int) -> None:
        batch = [Target(b, {"m.yaml": f"{number}\n".encode()}, path=f"w{number}") for b in branches]
        results[number] = publish_many(repo=url, targets=batch, env=git_env, max_attempts=20)

    threads = [threading.Thread(target=publisher, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(r.changed and r.error is None for batch in results.values() for r in batch)
    for branch in branches:
        listing = git(git_env, "--git-dir", local, "ls-tree", "-r", "--name-only", branch).split()
        assert listing == [f"w{n}/m.yaml" for n in range(4)]
        assert len(git(git_env, "--git-dir", local, "rev-list", branch).split()) == 4
