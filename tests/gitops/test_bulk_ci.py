"""Scaling skrender bulk out: shards publishing to one git daemon, and the CI examples."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from fixtures_git import GitServer
from test_bulk import ENVS, ROOT, monorepo  # noqa: F401

from engine import yamlv3
from engine.gitops import bulk

EXAMPLES = ROOT / "examples" / "bulk-ci"
SHARDS = 3  # the 4 test services hash to shards 3, 1, 3, 1: one shard is empty


def _publish(repo: Path, url: str, tmp_path: Path, *extra: str) -> tuple[dict[str, str], int]:
    """Run ``skrender bulk --publish`` in a fresh process; (branch -> tip, pushes made)."""
    trace = tmp_path / f"trace-{len(list(tmp_path.glob('trace-*')))}.json"
    argv = [sys.executable, "-m", "engine", "bulk", str(repo), "--publish", "--repo", url]
    argv += ["--out", str(tmp_path / "out"), "--no-cache", "--default-repo", "gcr.io/p"]
    for env in ENVS:
        argv += ["--env", f"{env.name}={','.join(env.args)}"]
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_TRACE2_EVENT": str(trace)}
    done = subprocess.run([*argv, *extra], capture_output=True, text=True, env=environ)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in trace.read_text().splitlines()] if trace.exists() else []
    pushes = [e for e in events if e.get("event") == "cmd_name" and e.get("name") == "push"]
    return _tips(url), len(pushes)


def _tips(url: str) -> dict[str, str]:
    """branch -> tip commit, as the server lists them."""
    listed = subprocess.run(["git", "ls-remote", "--heads", url], capture_output=True, text=True)
    return {
        line.split("\t")[1].removeprefix("refs/heads/"): line.split("\t")[0]
        for line in listed.stdout.splitlines()
    }


def test_shards_publish_disjoint_branches_in_one_push_each(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
    git_daemon: GitServer,
) -> None:
    whole_url = git_daemon.create(f"whole-{tmp_path.name}.git")
    sharded_url = git_daemon.create(f"sharded-{tmp_path.name}.git")
    whole, pushes = _publish(monorepo, whole_url, tmp_path)
    assert pushes == 1 and len(whole) == 8

    services = bulk.discover_services([str(monorepo)])
    seen: dict[str, str] = {}
    for k in range(1, SHARDS + 1):
        tips, pushes = _publish(monorepo, sharded_url, tmp_path, "--shard", f"{k}/{SHARDS}")
        mine = {f"{s.name}/{e.name}" for s in bulk.shard(services, k, SHARDS) for e in ENVS}
        added = {b: t for b, t in tips.items() if b not in seen}
        assert set(added) == mine  # exactly this shard's branches were created...
        assert {b: tips[b] for b in seen} == seen  # ...and no other shard's was touched
        assert pushes == (1 if mine else 0)
        seen.update(added)
    assert set(seen) == set(whole)
    # the same manifests whichever way the work was split: the union is the unsharded run
    trees = {b: _tree_of(sharded_url, tip, tmp_path) for b, tip in seen.items()}
    assert trees == {b: _tree_of(whole_url, tip, tmp_path) for b, tip in whole.items()}


def _tree_of(url: str, commit: str, tmp_path: Path) -> str:
    scratch = tmp_path / "inspect.git"
    if not scratch.exists():
        subprocess.run(["git", "init", "--quiet", "--bare", str(scratch)], check=True)
    git = ["git", "--git-dir", str(scratch)]
    subprocess.run([*git, "fetch", "--quiet", url, commit], check=True, capture_output=True)
    done = subprocess.run([*git, "rev-parse", f"{commit}^{{tree}}"], capture_output=True, text=True)
    return done.stdout.strip()


# --- the examples ---------------------------------------------------------------------------


def _load(name: str) -> Any:
    path = EXAMPLES / name
    docs = yamlv3.load_all(path.read_bytes(), source=str(path))
    assert len(docs) == 1, name
    return docs[0]


def _bulk_commands(workflow: Any) -> dict[str, list[str]]:
    """job name -> its `skrender bulk` run lines."""
    return {
        name: [s["run"] for s in job["steps"] if "skrender bulk" in s.get("run", "")]
        for name, job in workflow["jobs"].items()
    }


def test_github_actions_example_matrix_matches_its_shard_count() -> None:
    workflow = _load("github-actions.yaml")
    commands = _bulk_commands(workflow)
    assert set(commands) == {"check", "publish"}
    for name, runs in commands.items():
        job = workflow["jobs"][name]
        assert len(runs) == 1
        match = re.search(r"--shard \$\{\{ matrix\.shard \}\}/(\d+)", runs[0])
        assert match, runs[0]
        count = int(match.group(1))
        assert job["strategy"]["matrix"]["shard"] == list(range(1, count + 1))
        assert str(count) == str(workflow["env"]["SHARDS"])
        assert "--publish" in runs[0]
    assert "--check" in commands["check"][0] and "--dry-run" in commands["check"][0]
    assert "--check" not in commands["publish"][0]
    assert workflow["jobs"]["check"]["if"] == "github.event_name == 'pull_request'"


def test_kubernetes_indexed_job_example_matches_its_shard_count() -> None:
    job = _load("k8s-indexed-job.yaml")
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    (container,) = spec["template"]["spec"]["containers"]
    args = container["args"]
    assert args[0] == "bulk" and "--publish" in args
    shard = args[args.index("--shard") + 1]
    count = int(shard.removeprefix("auto/"))
    assert shard == f"auto/{count}" and spec["completions"] == spec["parallelism"] == count
    # what each pod gets: JOB_COMPLETION_INDEX 0..count-1 -> shards 1..count
    shards = [bulk.parse_shard(shard, {"JOB_COMPLETION_INDEX": str(i)}) for i in range(count)]
    assert shards == [(k, count) for k in range(1, count + 1)]


def test_dry_run_over_git_daemon_reads_old_manifests_blob_lessly(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
    git_daemon: GitServer,
) -> None:
    name = f"filtered-{tmp_path.name}.git"
    url = git_daemon.create(name)
    # the server honours --filter=blob:none: the tips come without blobs, the old manifests
    # of the branches that changed are fetched by id afterwards
    subprocess.run(
        ["git", "--git-dir", str(git_daemon.root / name), "config", "uploadpack.allowFilter", "1"],
        check=True,
    )
    before, _ = _publish(monorepo, url, tmp_path)
    services = bulk.discover_services([str(monorepo)])
    for service in (services[1], services[2]):
        overlay = Path(service.directory) / "kubernetes" / "overlays" / "production"
        kustomization = overlay / "kustomization.yaml"
        kustomization.write_text(kustomization.read_text().replace("count: 3", "count: 4"))
    argv = [sys.executable, "-m", "engine", "bulk", str(monorepo), "--publish", "--repo", url]
    argv += ["--out", str(tmp_path / "out"), "--no-cache", "--default-repo", "gcr.io/p"]
    for env in ENVS:
        argv += ["--env", f"{env.name}={','.join(env.args)}"]
    trace = tmp_path / "dry-run-trace.json"
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_TRACE2_EVENT": str(trace)}
    done = subprocess.run([*argv, "--dry-run"], capture_output=True, text=True, env=environ)
    assert done.returncode == 0, done.stderr
    assert _tips(url) == before
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    commands = [e["name"] for e in events if e.get("event") == "cmd_name"]
    # the tips, then both old manifests at once (not one lazy fetch each), no push
    assert commands.count("fetch") == 2 and "push" not in commands
    branch = f"{services[1].name}/production"
    header, diff = done.stdout.split("# branch ")[1].split("\n", 1)
    assert header == branch
    after, _ = _publish(monorepo, url, tmp_path)
    scratch = tmp_path / "inspect.git"
    _tree_of(url, after[branch], tmp_path)  # fetches the new tip (and its parent's objects)
    subprocess.run(
        ["git", "--git-dir", str(scratch), "fetch", "--quiet", url, before[branch]], check=True
    )
    shown = subprocess.run(
        ["git", "--git-dir", str(scratch), "-c", "core.abbrev=7", "diff", before[branch],
         after[branch]],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert diff == shown.stdout


def _example_git_config(
    workflow_env: dict[str, Any], host_url: str, username: str
) -> dict[str, str]:
    """The examples' GIT_CONFIG_* credential helper, aimed at ``host_url`` instead of GitHub
    (whose user name for a token is ``x-access-token``)."""
    count = int(workflow_env["GIT_CONFIG_COUNT"])
    config = {"GIT_CONFIG_COUNT": str(count)}
    for i in range(count):
        key = str(workflow_env[f"GIT_CONFIG_KEY_{i}"])
        config[f"GIT_CONFIG_KEY_{i}"] = key.replace("https://github.com", host_url.rstrip("/"))
        value = str(workflow_env[f"GIT_CONFIG_VALUE_{i}"])
        config[f"GIT_CONFIG_VALUE_{i}"] = value.replace("x-access-token", username)
    return config


def _kubernetes_env(job: Any) -> dict[str, Any]:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def test_examples_pass_the_token_through_a_credential_helper_not_argv(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
    git_http: GitServer,
) -> None:
    """Both examples publish with ``--repo`` free of credentials: the token comes from
    MANIFEST_TOKEN through the GIT_CONFIG_* helper they set.  Run that helper, as written,
    against a smart HTTP server with basic auth; git's trace shows no argv holding it."""
    workflow = _load("github-actions.yaml")
    job = _load("k8s-indexed-job.yaml")
    for name, settings in (("actions", workflow["env"]), ("job", _kubernetes_env(job))):
        repo = f"creds-{name}.git"
        git_http.create(repo)
        url = git_http.url + repo
        trace = tmp_path / f"trace-{name}.json"
        environ = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HOME": str(tmp_path / "home"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TRACE2_EVENT": str(trace),
            "MANIFEST_TOKEN": git_http.password,
            **_example_git_config(settings, git_http.url, git_http.username),
        }
        argv = [sys.executable, "-m", "engine", "bulk", str(monorepo), "--publish", "--repo", url]
        argv += ["--out", str(tmp_path / name), "--no-cache", "--default-repo", "gcr.io/p"]
        for env in ENVS:
            argv += ["--env", f"{env.name}={','.join(env.args)}"]
        done = subprocess.run(argv, capture_output=True, text=True, env=environ)
        assert done.returncode == 0, done.stderr
        assert git_http.password not in done.stdout + done.stderr
        assert set(_tips(git_http.authed_url(repo))) == {
            f"{s.name}/{e.name}" for s in bulk.discover_services([str(monorepo)]) for e in ENVS
        }
        argvs = [
            " ".join(e.get("argv", []))
            for e in map(json.loads, trace.read_text().splitlines())
            if e.get("event") == "start"
        ]
        assert argvs and not any(git_http.password in a for a in argvs)
