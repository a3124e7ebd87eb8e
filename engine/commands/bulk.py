"""``skrender bulk``: render (and publish) every service x environment of a monorepo.

Progress goes to stderr: a bar on a terminal, one plain line per render otherwise (CI logs);
a summary table and every failure at the end.  Exit 0 when every render succeeded, 1 when
any failed.  The work is :func:`engine.gitops.bulk.run_bulk`.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO


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
            Flag("shard", metavar="K/N", usage="render shard K of N"),
            Flag("publish", kind=BOOL, default=False, usage="commit each render to a branch"),
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
    """Run the bulk render; 0 when every render succeeded, 1 otherwise."""
    import gc

    gc.enable()  # a long run: cycles must be collected (cli.main disables it for short commands)
    from engine.commands import _flags
    from engine.gitops import bulk, kcache
    from engine.gitops.services import DEFAULT_BRANCH_TEMPLATE

    cwd = os.getcwd()
    config = _load_config(args, cwd)
    environments = _environments(args, config)
    roots = args.args or ["."]
    selected = bulk.discover_services(
        roots,
        patterns=args.service or list(config.services),
        exclude=list(args.exclude) + list(config.exclude),
        base=_config_base(args, cwd) if not args.args else None,
    )
    if args.shard:
        index, count = bulk.parse_shard(args.shard)
        selected = bulk.shard(selected, index, count)
    if args.changed_since:
        changed = bulk.changed_paths(roots[0], args.changed_since)
        selected = bulk.select_changed(selected, environments, changed, _flags.parse_render_request)
    if args.list:
        for service in selected:
            sys.stdout.write(f"{service.name}\t{service.directory}\n")
        return 0
    repo = args.repo or config.publish_repo
    if args.publish and not repo:
        from engine.core.errors import UsageError

        raise UsageError("--publish needs --repo (or publish.repo in the bulk config)")
    options = bulk.BulkOptions(
        services=tuple(selected),
        environments=environments,
        out_dir=os.path.abspath(args.out),
        parse_request=_flags.parse_render_request,
        jobs=args.jobs,
        cache_dir=None if args.no_cache else (args.cache_dir or kcache.default_cache_dir()),
        publish_repo=repo if args.publish else None,
        branch_template=args.branch_template or config.branch_template or DEFAULT_BRANCH_TEMPLATE,
        publish_path=config.publish_path,
    )
    display = Progress(sys.stderr, _progress_mode(args.progress, sys.stderr))
    result = bulk.run_bulk(options, display.update)
    display.finish()
    report = args.report or os.path.join(options.out_dir, "report.json")
    _write_report(report, result.as_json(), sys.stdout)
    print_summary(sys.stderr, result)
    return 1 if result.failed else 0


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
    """A one-line bar redrawn in place (terminal) or one line per finished render (CI)."""

    def __init__(self, stream: TextIO, mode: str) -> None:
        self.stream = stream
        self.mode = mode
        self.failed = 0

    def update(self, outcome: Any, done: int, total: int) -> None:
        """Called after each render."""
        if outcome.status != "ok":
            self.failed += 1
        if self.mode == "plain":
            status = "ok" if outcome.status == "ok" else "FAILED"
            self.stream.write(
                f"[{done}/{total}] {outcome.service} {outcome.environment}: {status} "
                f"({outcome.seconds:.2f}s)\n"
            )
        elif self.mode == "bar":
            width = 30
            filled = width * done // max(total, 1)
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
                f"  failed {self.failed}  {outcome.service}/{outcome.environment}"[:120].ljust(120)
            )
        self.stream.flush()

    def finish(self) -> None:
        """End the bar's line."""
        if self.mode == "bar":
            self.stream.write("\n")
            self.stream.flush()


def print_summary(stream: TextIO, result: Any) -> None:
    """A table per environment (ok / failed / seconds), the cache counts, every failure."""
    per_env: dict[str, list[Any]] = {}
    for outcome in result.outcomes:
        per_env.setdefault(outcome.environment, []).append(outcome)
    stream.write(f"{'environment':<20} {'ok':>6} {'failed':>7} {'render s':>9}\n")
    for name, outcomes in per_env.items():
        failed = sum(1 for o in outcomes if o.status != "ok")
        seconds = sum(o.seconds for o in outcomes)
        stream.write(f"{name:<20} {len(outcomes) - failed:>6} {failed:>7} {seconds:>9.2f}\n")
    cache = result.cache
    stream.write(
        f"{len(result.outcomes)} renders in {result.seconds:.2f}s; kustomize cache: "
        f"{cache.get('hits', 0)} hits, {cache.get('misses', 0)} misses, "
        f"{cache.get('uncacheable', 0)} uncacheable\n"
    )
    for outcome in result.failed:
        stream.write(f"FAILED {outcome.service} {outcome.environment}: {one_line(outcome.error)}\n")
    stream.flush()


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
