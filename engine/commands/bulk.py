"""``skrender bulk``: render (and publish) every service x environment of a monorepo.

Progress goes to stderr: a bar on a terminal, one plain line per render otherwise (CI logs),
each with the time elapsed and an estimate of the time left; a summary table, the counts
(rendered / changed / unchanged / published / failed), the time per phase and every failure
at the end.  ``--dry-run`` prints on stdout the diff of every branch (or file) that would
change.  Exit 0 when every render succeeded, 1 when any failed; with ``--check``, 2 when all
succeeded and something would change.  The work is :func:`engine.gitops.bulk.run_bulk`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any, BinaryIO, TextIO

# --check: every render succeeded and at least one branch (or file) would change.
EXIT_WOULD_CHANGE = 2


def command() -> Any:
    """``bulk`` and its flags."""
    from engine.commands._parser import Command, choice
    from engine.golang.pflag import ARRAY, BOOL, INT, Flag

    return Command(
        "bulk",
        summary="render (and publish) every service x environment of a monorepo",
        description=(
            "Render every service (a directory with a skaffold.yaml below ROOTs, or --service "
            "globs; named after the directory) in every environment (a named set of render "
            "flags) exactly as `skrender render` run in the service directory would, into "
            "OUT/<service>/<environment>/manifest.yaml, with a JSON report."
        ),
        flags=(
            Flag("config", usage="bulk config (default: ./skrender-bulk.yaml)"),
            Flag("service", kind=ARRAY, default=[], usage="service directory glob (repeatable)"),
            Flag(
                "exclude",
                kind=ARRAY,
                default=[],
                usage="glob of service names or paths to skip (repeatable)",
            ),
            Flag(
                "env",
                kind=ARRAY,
                default=[],
                metavar="NAME=ARGS",
                usage="environment: render args, comma-separated (production=-p,production)",
            ),
            Flag("default-repo", usage="default repo for every environment"),
            Flag("out", default="rendered", usage="output directory"),
            Flag("report", usage="JSON report (default: OUT/report.json; - for stdout)"),
            Flag("jobs", "j", INT, default=0, usage="parallel kustomize builds"),
            Flag("cache-dir", usage="cache directory (default: ~/.cache/skrender)"),
            Flag(
                "no-cache",
                kind=BOOL,
                default=False,
                usage="no persistent caches (kustomize, configs)",
            ),
            Flag(
                "changed-since", metavar="REV", usage="only services whose inputs changed since REV"
            ),
            Flag(
                "shard",
                metavar="K/N",
                usage="render shard K of N (auto/N: K from a Kubernetes Indexed Job's "
                "JOB_COMPLETION_INDEX + 1)",
            ),
            Flag("publish", kind=BOOL, default=False, usage="commit each render to a branch"),
            Flag(
                "dry-run",
                kind=BOOL,
                default=False,
                usage="write and push nothing: print the diff of each branch (with --publish) "
                "or output file that would change",
            ),
            Flag(
                "check",
                kind=BOOL,
                default=False,
                usage="like --dry-run without the diffs; exit 2 when anything would change",
            ),
            Flag("repo", usage="manifest repository for --publish"),
            Flag("branch-template", usage="branch per render (default: {service}/{environment})"),
            Flag(
                "progress",
                default="auto",
                convert=choice(("auto", "bar", "plain", "none")),
                usage="progress display on stderr: auto (a bar on a terminal), bar, plain or none",
            ),
            Flag("list", kind=BOOL, default=False, usage="list the selected services and exit"),
        ),
        args="[ROOT...]",
    )


def run(args: Any) -> int:
    """Run the bulk render; 0 when every render succeeded, 1 otherwise (``--check``: 2 when
    they all succeeded and something would change)."""
    import gc

    gc.enable()  # a long run: cycles must be collected (cli.main disables it for short commands)
    from engine.gitops import bulk

    started = time.perf_counter()
    if args.dry_run and args.report == "-":
        from engine.core.errors import UsageError

        raise UsageError("--dry-run prints its diffs on stdout: give --report a file")
    cwd = os.getcwd()
    config = _load_config(args, cwd)
    environments = _environments(args, config)
    selected = _select(args, config, environments, cwd)
    if args.list:
        for service in selected:
            sys.stdout.write(f"{service.name}\t{service.directory}\n")
        return 0
    options = _options(args, config, environments, selected)
    discovered = time.perf_counter() - started
    display = Progress(sys.stderr, _progress_mode(args.progress, sys.stderr))
    result = bulk.run_bulk(options, display.update)
    result.phases = {"discover": discovered, **result.phases}
    result.seconds += discovered
    display.finish()
    if args.dry_run:
        write_diffs(sys.stdout.buffer, result)
    # a dry run writes nothing it was not asked to: a report only with --report
    default_report = os.path.join(options.out_dir, "report.json")
    report = args.report or (None if options.dry_run else default_report)
    if report is not None:
        _write_report(report, result.as_json(), sys.stdout)
    print_summary(sys.stderr, result)
    if result.failed:
        return 1
    return EXIT_WOULD_CHANGE if args.check and result.changed else 0


def _select(args: Any, config: Any, environments: tuple[Any, ...], cwd: str) -> list[Any]:
    """The services to render: discovered (or globbed), excluded, sharded, changed."""
    from engine.commands import _flags
    from engine.gitops import bulk

    roots = args.args or ["."]
    selected = bulk.discover_services(
        roots,
        patterns=args.service or list(config.services),
        exclude=list(args.exclude) + list(config.exclude),
        base=_config_base(args, cwd) if not args.args else None,
    )
    if args.shard:
        index, count = bulk.parse_shard(args.shard, os.environ)
        selected = bulk.shard(selected, index, count)
    if args.changed_since:
        changed = bulk.changed_paths(roots[0], args.changed_since)
        selected = bulk.select_changed(selected, environments, changed, _flags.parse_render_request)
    return selected


def _options(args: Any, config: Any, environments: tuple[Any, ...], selected: list[Any]) -> Any:
    from engine.commands import _flags
    from engine.core.errors import UsageError
    from engine.gitops import bulk, kcache
    from engine.gitops.services import DEFAULT_BRANCH_TEMPLATE

    repo = args.repo or config.publish_repo
    if args.publish and not repo:
        raise UsageError("--publish needs --repo (or publish.repo in the bulk config)")
    return bulk.BulkOptions(
        services=tuple(selected),
        environments=environments,
        out_dir=os.path.abspath(args.out),
        parse_request=_flags.parse_render_request,
        jobs=args.jobs,
        cache_dir=None if args.no_cache else (args.cache_dir or kcache.default_cache_dir()),
        publish_repo=repo if args.publish else None,
        branch_template=args.branch_template or config.branch_template or DEFAULT_BRANCH_TEMPLATE,
        publish_path=config.publish_path,
        dry_run=args.dry_run or args.check,
        diff=args.dry_run,  # --check alone needs no diff (nor the old manifests)
    )


def _config_base(args: Any, cwd: str) -> str:
    return os.path.dirname(os.path.abspath(args.config)) if args.config else cwd


def _load_config(args: Any, cwd: str) -> Any:
    from engine.gitops import bulk

    path = args.config
    if path is None:
        default = os.path.join(cwd, bulk.CONFIG_FILE)
        if not os.path.exists(default):
            return bulk.BulkConfig()
        path = default
    return bulk.load_config(path)


def _environments(args: Any, config: Any) -> tuple[Any, ...]:
    import dataclasses

    from engine.core.errors import UsageError
    from engine.gitops import bulk

    envs = [bulk.parse_env_spec(spec) for spec in args.env] or list(config.environments)
    if not envs:
        raise UsageError("no environments: give --env NAME=ARGS or a skrender-bulk.yaml")
    names = [e.name for e in envs]
    if len(set(names)) != len(names):
        raise UsageError(f"environment names must be unique: {', '.join(names)}")
    if args.default_repo is not None:
        envs = [
            e
            if e.default_repo is not None
            else dataclasses.replace(e, default_repo=args.default_repo)
            for e in envs
        ]
    return tuple(envs)


def _progress_mode(requested: str, stream: TextIO) -> str:
    if requested != "auto":
        return requested
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    return "bar" if is_tty and not os.environ.get("CI") else "plain"


class Progress:
    """A one-line bar redrawn in place (terminal) or one line per finished render (CI), each
    with the time elapsed and the time left at the mean rate so far."""

    def __init__(
        self, stream: TextIO, mode: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream
        self.mode = mode
        self.failed = 0
        self._clock = clock
        self._start = clock()

    def update(self, outcome: Any, done: int, total: int) -> None:
        """Called after each render."""
        if outcome.status != "ok":
            self.failed += 1
        timing = timing_text(self._clock() - self._start, done, total)
        if self.mode == "plain":
            status = "ok" if outcome.status == "ok" else "FAILED"
            self.stream.write(
                f"[{done}/{total}] {outcome.service} {outcome.environment}: {status} "
                f"({outcome.seconds:.2f}s)  {timing}\n"
            )
        elif self.mode == "bar":
            width = 30
            filled = width * done // max(total, 1)
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  failed "
                f"{self.failed}  {timing}  {outcome.service}/{outcome.environment}"[:120].ljust(120)
            )
        self.stream.flush()

    def finish(self) -> None:
        """End the bar's line."""
        if self.mode == "bar":
            self.stream.write("\n")
            self.stream.flush()


def eta_seconds(elapsed: float, done: int, total: int) -> float | None:
    """Seconds left at the mean rate so far; None before the first render is done."""
    if done <= 0:
        return None
    return max(0.0, elapsed / done * (total - done))


def timing_text(elapsed: float, done: int, total: int) -> str:
    """``elapsed 0:12  eta 1:03`` (``eta -`` while nothing is done)."""
    eta = eta_seconds(elapsed, done, total)
    return f"elapsed {format_duration(elapsed)}  eta {'-' if eta is None else format_duration(eta)}"


def format_duration(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on (whole seconds, rounded)."""
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def print_summary(stream: TextIO, result: Any) -> None:
    """A table per environment (ok / failed / changed / seconds), the counts, the time per
    phase, the cache counts, what would change (dry run) and every failure."""
    per_env: dict[str, list[Any]] = {}
    for outcome in result.outcomes:
        per_env.setdefault(outcome.environment, []).append(outcome)
    stream.write(f"{'environment':<20} {'ok':>6} {'failed':>7} {'changed':>8} {'render s':>9}\n")
    for name, outcomes in per_env.items():
        failed = sum(1 for o in outcomes if o.status != "ok")
        changed = sum(1 for o in outcomes if o.changed)
        seconds = sum(o.seconds for o in outcomes)
        stream.write(
            f"{name:<20} {len(outcomes) - failed:>6} {failed:>7} {changed:>8} {seconds:>9.2f}\n"
        )
    stream.write(
        f"{len(result.outcomes)} renders in {result.seconds:.2f}s; kustomize cache: "
        f"{_cache_counts(result.cache)}; render cache: {_cache_counts(result.render_cache)}\n"
    )
    counts = result.counts()
    verb = "would change" if result.dry_run else "changed"
    stream.write(
        f"rendered {counts['rendered']}, {verb} {counts['changed']}, unchanged "
        f"{counts['unchanged']}, published {counts['published']}, failed {counts['failed']}"
        f"{' (dry run: nothing written or pushed)' if result.dry_run else ''}\n"
    )
    phases = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in result.phases.items())
    stream.write(f"phases: {phases}\n")
    if result.dry_run:
        for outcome in result.changed:
            stream.write(f"would change: {changed_name(outcome)}\n")
    for outcome in result.failed:
        stream.write(f"FAILED {outcome.service} {outcome.environment}: {one_line(outcome.error)}\n")
    stream.flush()


def changed_name(outcome: Any) -> str:
    """What a change is to: the branch when publishing, else ``service/environment``."""
    if outcome.publish is not None:
        return str(outcome.publish["branch"])
    return f"{outcome.service}/{outcome.environment}"


def write_diffs(stream: BinaryIO, result: Any) -> None:
    """Every dry-run diff, each branch's under a ``# branch NAME`` line (``git apply`` and
    ``patch`` skip such lines)."""
    for outcome in result.changed:
        if not outcome.diff:
            continue
        if outcome.publish is not None:
            stream.write(f"# branch {outcome.publish['branch']}\n".encode())
        stream.write(outcome.diff)
    stream.flush()


def _cache_counts(cache: dict[str, int]) -> str:
    return (
        f"{cache.get('hits', 0)} hits, {cache.get('misses', 0)} misses, "
        f"{cache.get('uncacheable', 0)} uncacheable"
    )


def _write_report(path: str, report: dict[str, Any], stdout: Any) -> None:
    """The JSON report to ``path``; ``-`` is stdout (the summary goes to stderr)."""
    text = json.dumps(report, indent=2) + "\n"
    if path == "-":
        stdout.write(text)
        stdout.flush()
        return
    from engine.core.output import write_output

    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    write_output(path, text.encode("utf-8"))


def one_line(error: str) -> str:
    """A (multi-line) error on one line: git's cause often comes on the line after
    "fatal: unable to connect to HOST:", so no line is dropped."""
    from engine.core.errors import said_once

    lines = [line.strip() for line in said_once(error).splitlines() if line.strip()]
    text = ""
    for line in lines:
        text += line if not text else (" " if text.endswith(":") else "; ") + line
    return text or "failed"
