"""skrender bulk's reports: progress with ETA, counts and phases, --dry-run diffs, --check."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_bulk import ENVS, ROOT, _branches, _git_out, _options, monorepo  # noqa: F401

from engine import cli
from engine.commands import bulk as bulk_command
from engine.core.errors import ConfigError, UsageError
from engine.gitops import bulk


def _argv(repo: Path, out: Path, *extra: str) -> list[str]:
    argv = ["bulk", str(repo), "--out", str(out), "--no-cache", "--progress", "none"]
    for env in ENVS:
        argv += ["--env", f"{env.name}={','.join(env.args)}"]
    return [*argv, "--default-repo", "gcr.io/p", *extra]


def _bulk(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _bump_replicas(repo: Path, service: int = 1) -> str:
    """Change one service's production overlay; its production branch name."""
    directory = Path(bulk.discover_services([str(repo)])[service].directory)
    kustomization = directory / "kubernetes" / "overlays" / "production" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("count: 3", "count: 5"))
    return f"{directory.name}/production"


# --- progress ---------------------------------------------------------------------------------


def test_durations_and_eta_formatting() -> None:
    assert bulk_command.format_duration(0) == "0:00"
    assert bulk_command.format_duration(59.6) == "1:00"
    assert bulk_command.format_duration(3725) == "1:02:05"
    assert bulk_command.eta_seconds(10.0, 0, 5) is None  # nothing done: no estimate
    assert bulk_command.eta_seconds(10.0, 2, 6) == pytest.approx(20.0)
    assert bulk_command.eta_seconds(10.0, 6, 6) == 0.0
    assert bulk_command.timing_text(3.0, 0, 4) == "elapsed 0:03  eta -"


def test_progress_lines_show_elapsed_and_eta() -> None:
    now = [100.0]
    stream = io.StringIO()
    progress = bulk_command.Progress(stream, "plain", clock=lambda: now[0])
    outcome = SimpleNamespace(status="ok", service="foo", environment="dev", seconds=0.5)
    now[0] = 110.0
    progress.update(outcome, 1, 4)
    now[0] = 170.0
    progress.update(SimpleNamespace(**{**vars(outcome), "status": "failed"}), 2, 4)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "[1/4] foo dev: ok (0.50s)  elapsed 0:10  eta 0:30"
    assert lines[1] == "[2/4] foo dev: FAILED (0.50s)  elapsed 1:10  eta 1:10"
    bar = io.StringIO()
    drawn = bulk_command.Progress(bar, "bar", clock=lambda: now[0])
    now[0] = 230.0
    drawn.update(outcome, 3, 4)
    assert "3/4  failed 0  elapsed 1:00  eta 0:20  foo/dev" in bar.getvalue()


# --- counts and phases ----------------------------------------------------------------------


def test_counts_after_first_publish_noop_and_one_change(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bare = tmp_path / "manifests.git"
    _git_out("init", "--quiet", "--bare", str(bare))
    out = tmp_path / "out"
    argv = _argv(monorepo, out, "--publish", "--repo", bare.as_uri())

    def summary() -> dict[str, object]:
        code, _, err = _bulk(capsys, *argv)
        assert code == 0, err
        report = json.loads((out / "report.json").read_text())
        summary: dict[str, object] = report["summary"]
        assert summary["total"] == summary["ok"] == 8  # the keys that were there stay
        assert list(summary["phases"]) == ["discover", "render", "publish"]  # type: ignore[call-overload]
        assert f"published {summary['published']}," in err
        assert [r["changed"] for r in report["renders"]].count(True) == summary["changed"]
        return summary

    def counts(summary: dict[str, object]) -> tuple[object, ...]:
        keys = ("rendered", "changed", "unchanged", "published", "failed")
        return tuple(summary[k] for k in keys)

    assert counts(summary()) == (8, 8, 0, 8, 0)
    assert counts(summary()) == (8, 0, 8, 0, 0)
    _bump_replicas(monorepo)
    assert counts(summary()) == (8, 1, 7, 1, 0)


def test_changed_without_publishing_follows_the_files_in_out(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    first = bulk.run_bulk(_options(monorepo, out, None))
    assert first.counts() == {
        "rendered": 8,
        "failed": 0,
        "changed": 8,
        "unchanged": 0,
        "published": 0,
    }
    _bump_replicas(monorepo, 2)
    again = bulk.run_bulk(_options(monorepo, out, None))
    changed = [(o.service, o.environment) for o in again.changed]
    assert changed == [(bulk.discover_services([str(monorepo)])[2].name, "production")]
    assert list(again.phases) == ["render"]


# --- --dry-run and --check ------------------------------------------------------------------


def test_dry_run_pushes_nothing_and_its_diff_is_what_publish_commits(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bare = tmp_path / "manifests.git"
    _git_out("init", "--quiet", "--bare", str(bare))
    out = tmp_path / "out"
    publish = _argv(monorepo, out, "--publish", "--repo", bare.as_uri())
    assert _bulk(capsys, *publish)[0] == 0
    changed = _bump_replicas(monorepo)
    services = [s.name for s in bulk.discover_services([str(monorepo)])]
    removed = f"{services[3]}/develop"  # a branch someone deleted: publish makes it again
    _git_out("--git-dir", str(bare), "update-ref", "-d", f"refs/heads/{removed}")
    before = _branches(bare)
    files_before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    dry_out = tmp_path / "dry-out"  # a fresh OUT: a dry run must not create it either
    dry_run = _argv(monorepo, dry_out, "--publish", "--repo", bare.as_uri(), "--dry-run")
    code, stdout, err = _bulk(capsys, *dry_run)
    assert code == 0, err
    assert _branches(bare) == before
    assert not dry_out.exists()
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == files_before
    assert f"would change: {changed}\n" in err and f"would change: {removed}\n" in err
    assert "(dry run: nothing written or pushed)" in err
    diffs = _split_diffs(stdout)
    assert sorted(diffs) == sorted([changed, removed])
    new_lines = diffs[removed].splitlines()
    assert new_lines[3:5] == ["--- /dev/null", "+++ b/manifest.yaml"]
    assert new_lines[5].startswith("@@ -0,0 +1,") and all(x[0] == "+" for x in new_lines[6:])

    assert _bulk(capsys, *publish)[0] == 0
    after = _branches(bare)
    assert {b for b in after if after[b] != before.get(b)} == {changed, removed}
    git_dir = ("--git-dir", str(bare), "-c", "core.abbrev=7")
    assert diffs[changed] == _git_out(*git_dir, "diff", f"{changed}^", changed)
    assert diffs[removed] == _git_out(*git_dir, "show", "--format=", removed)


def _split_diffs(stdout: str) -> dict[str, str]:
    """The dry run's output: branch -> its diff."""
    diffs: dict[str, str] = {}
    branch = ""
    for line in stdout.splitlines(keepends=True):
        if line.startswith("# branch "):
            branch = line[len("# branch ") :].strip()
            diffs[branch] = ""
        else:
            diffs[branch] += line
    return diffs


def test_check_exit_codes(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bare = tmp_path / "manifests.git"
    _git_out("init", "--quiet", "--bare", str(bare))
    out = tmp_path / "out"
    publish = _argv(monorepo, out, "--publish", "--repo", bare.as_uri())
    check = [*publish, "--check"]
    code, stdout, err = _bulk(capsys, *check)
    assert (code, stdout) == (2, "")  # every branch is new; no diff without --dry-run
    assert err.count("would change: ") == 8 and _branches(bare) == {}
    assert _bulk(capsys, *publish)[0] == 0
    assert _bulk(capsys, *check)[0] == 0
    changed = _bump_replicas(monorepo)
    code, _, err = _bulk(capsys, *check)
    assert code == 2 and err.count("would change: ") == 1 and f"would change: {changed}" in err
    service = bulk.discover_services([str(monorepo)])[0]
    (Path(service.directory) / "skaffold.yaml").write_text("apiVersion: nope\n")
    code, _, err = _bulk(capsys, *check)
    assert code == 1 and f"FAILED {service.name} develop" in err


def test_check_without_publish_compares_out(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    assert _bulk(capsys, *_argv(monorepo, out))[0] == 0
    assert _bulk(capsys, *_argv(monorepo, out, "--check"))[0] == 0
    changed = _bump_replicas(monorepo)
    manifest = out / changed / "manifest.yaml"
    previous = manifest.read_bytes()
    code, stdout, err = _bulk(capsys, *_argv(monorepo, out, "--dry-run", "--check"))
    assert code == 2 and f"would change: {changed}\n" in err
    assert manifest.read_bytes() == previous  # nothing written
    assert stdout.startswith(f"diff --git a/{changed}/manifest.yaml b/{changed}/manifest.yaml\n")
    lines = stdout.splitlines()
    assert any(line.startswith("-") and line.endswith("replicas: 3") for line in lines)
    assert any(line.startswith("+") and line.endswith("replicas: 5") for line in lines)
    with pytest.raises(UsageError, match="--report"):
        cli_args = _argv(monorepo, out, "--dry-run", "--report", "-")
        bulk_command.run(_parsed(cli_args))


def _parsed(argv: list[str]) -> object:
    from engine.commands import _parser

    return _parser.parse(bulk_command.command(), argv[1:])


# --- --shard auto -----------------------------------------------------------------------------


def test_auto_shard_reads_job_completion_index(monorepo: Path, tmp_path: Path) -> None:  # noqa: F811
    home = tmp_path / "fresh-home"
    home.mkdir()
    base = {"PATH": os.environ["PATH"], "HOME": str(home), "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "engine", "bulk", str(monorepo), "--list", "--env", "d="]
    every = bulk.discover_services([str(monorepo)])
    listed = []
    for index in (0, 1, 2):  # svc000..svc003 hash to shards 3, 1, 3, 1 of 3
        env = {**base, "JOB_COMPLETION_INDEX": str(index)}
        done = subprocess.run([*argv, "--shard", "auto/3"], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        names = [line.split("\t")[0] for line in done.stdout.splitlines()]
        assert names == [s.name for s in bulk.shard(every, index + 1, 3)]
        listed.append(names)
    assert sorted(listed[0] + listed[1] + listed[2]) == [s.name for s in every]
    assert listed[0] and listed[2] and not set(listed[0]) & set(listed[2])
    done = subprocess.run([*argv, "--shard", "auto/2"], capture_output=True, text=True, env=base)
    assert done.returncode == 127 and "JOB_COMPLETION_INDEX is not set" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("spec", "index", "message"),
    [("auto", "0", "needs the shard count"), ("auto/2", "2", "below 2"), ("auto/2", "x", "'x'")],
)
def test_auto_shard_refusals(spec: str, index: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        bulk.parse_shard(spec, {"JOB_COMPLETION_INDEX": index})
    assert bulk.parse_shard("auto/3", {"JOB_COMPLETION_INDEX": "2"}) == (3, 3)


def test_dry_run_and_check_cost_a_fixed_number_of_git_round_trips(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bare = tmp_path / "manifests.git"
    _git_out("init", "--quiet", "--bare", str(bare))
    publish = _argv(monorepo, tmp_path / "out", "--publish", "--repo", bare.as_uri())
    assert _bulk(capsys, *publish)[0] == 0
    _bump_replicas(monorepo, 0)
    _bump_replicas(monorepo, 2)

    def git_commands(*extra: str) -> list[str]:
        trace = tmp_path / f"trace{len(extra)}.json"
        monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))
        assert _bulk(capsys, *publish, *extra)[0] == 2
        monkeypatch.delenv("GIT_TRACE2_EVENT")
        events = [json.loads(line) for line in trace.read_text().splitlines()]
        names = [e["name"] for e in events if e.get("event") == "cmd_name"]
        return [n for n in names if n in ("ls-remote", "fetch", "push")]

    # the diffs need the two old manifests: one more fetch, whatever their number
    assert sorted(git_commands("--check", "--dry-run")) == ["fetch", "fetch", "ls-remote"]
    assert sorted(git_commands("--check")) == ["fetch", "ls-remote"]


def test_errors_building_an_environments_request_name_it(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    def parse_request(args: object, cwd: str, env: object) -> object:
        raise ConfigError("rules.yaml: line 1: bad")  # as a flag file that cannot be read

    options = _options(monorepo, tmp_path / "out", None)
    options = dataclasses.replace(options, parse_request=parse_request)
    result = bulk.run_bulk(options)
    assert {o.error for o in result.outcomes} == {
        f"environment {e.name}: rules.yaml: line 1: bad" for e in ENVS
    }
    assert {o.exit_code for o in result.outcomes} == {1}


def test_check_against_an_unreachable_repository_fails_every_render(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = (tmp_path / "no-such.git").as_uri()
    report = tmp_path / "report.json"
    argv = _argv(monorepo, tmp_path / "out", "--publish", "--repo", missing, "--check")
    code, stdout, err = _bulk(capsys, *argv, "--report", str(report))
    assert (code, stdout) == (1, "")
    summary = json.loads(report.read_text())["summary"]
    assert (summary["rendered"], summary["failed"], summary["changed"]) == (8, 8, 0)
    assert summary["dry_run"] is True and list(summary["phases"]) == [
        "discover",
        "render",
        "compare",
    ]
    assert err.count("FAILED ") == 8 and "no-such.git" in err
    assert not (tmp_path / "out").exists()


def test_dry_run_of_renders_sharing_a_branch_below_a_path(
    monorepo: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # one branch per environment, each service in its own directory: several renders per branch
    config = tmp_path / "skrender-bulk.yaml"
    config.write_text('publish:\n  branch: "env/{environment}"\n  path: "apps/{service}"\n')
    bare = tmp_path / "manifests.git"
    _git_out("init", "--quiet", "--bare", str(bare))
    publish = _argv(monorepo, tmp_path / "out", "--config", str(config), "--publish")
    publish += ["--repo", bare.as_uri()]
    assert _bulk(capsys, *publish)[0] == 0
    assert sorted(_branches(bare)) == ["env/develop", "env/production"]
    first, third = _bump_replicas(monorepo, 0), _bump_replicas(monorepo, 2)
    before = _branches(bare)
    code, stdout, err = _bulk(capsys, *publish, "--dry-run", "--check")
    assert code == 2 and _branches(bare) == before
    assert err.count("would change: env/production\n") == 2
    chunks = stdout.split("# branch env/production\n")
    assert chunks[0] == "" and len(chunks) == 3
    assert chunks[1].startswith(f"diff --git a/apps/{first.split('/')[0]}/manifest.yaml ")
    assert chunks[2].startswith(f"diff --git a/apps/{third.split('/')[0]}/manifest.yaml ")
    assert _bulk(capsys, *publish)[0] == 0
    old, new = before["env/production"], _branches(bare)["env/production"]
    git_dir = ("--git-dir", str(bare), "-c", "core.abbrev=7")
    assert chunks[1] + chunks[2] == _git_out(*git_dir, "diff", old, new)
