"""``skrender gitops``: render one service and publish the result, in one step.

    skrender gitops -p production --default-repo REGISTRY --repo MANIFEST_REPO

renders exactly what ``skrender render`` prints (same flags, :func:`engine.pipeline.render`) and
commits it as ``manifest.yaml`` to the branch ``<service>/<environment>`` of the manifest repo
(:func:`engine.gitops.publish.publish`).  The service is the base name of the skaffold config's
directory; the environment is the ``-p`` profiles joined by ``-``, or ``develop`` without one.
The commit message names both, the image references rendered and the source commit
(``git rev-parse HEAD`` of the service's repository).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

DEFAULT_FILE_NAME = "manifest.yaml"


@dataclass(frozen=True)
class Target:
    """Where one service's manifests go."""

    service: str
    environment: str
    branch: str
    path: str
    file_name: str


def command() -> Any:
    """``gitops``: skaffold's render flags plus publish's target flags."""
    from engine.commands import _flags
    from engine.commands import publish as publish_cmd
    from engine.commands._parser import Command
    from engine.gitops.services import DEFAULT_BRANCH_TEMPLATE, DEFAULT_ENVIRONMENT
    from engine.golang.pflag import BOOL, Flag

    return Command(
        "gitops",
        summary="render a service and commit the manifests to its environment branch",
        description=(
            "Render like `skrender render`, then commit the output to a branch of a manifest "
            "repository (nothing is committed when nothing changed).  --branch-template and "
            "--path take the placeholders {service} and {environment}."
        ),
        flags=(
            *_flags.ALL_FLAGS,
            # -m is render's --module here, so the commit message is --message only
            *publish_cmd.target_flags(message_shorthand=""),
            Flag(
                "service",
                usage="service name (default: base name of the skaffold config's directory)",
            ),
            Flag(
                "environment",
                usage=f"environment (default: -p values joined by '-', or {DEFAULT_ENVIRONMENT})",
            ),
            Flag("branch-template", default=DEFAULT_BRANCH_TEMPLATE, usage="branch to publish to"),
            Flag(
                "file-name",
                default=DEFAULT_FILE_NAME,
                usage="file the manifests are stored as, under --path",
            ),
            Flag(
                "dry-run",
                kind=BOOL,
                default=False,
                usage="render and print the manifests and the target; publish nothing",
            ),
        ),
        resolved_later=_flags.ALL_FLAGS,
        required=("repo",),
    )


def run(args: Any) -> int:
    """Render, then publish; a one-line summary on stderr.  0 on success."""
    from engine.commands import _flags
    from engine.commands.publish import error_line
    from engine.commands.render import write_text
    from engine.core.errors import PublishError
    from engine.core.output import write_output
    from engine.gitops.publish import redact
    from engine.pipeline import render

    cwd = os.getcwd()
    env = _flags.load_env(cwd)
    _flags.resolve_flags(args, env)
    target = resolve_target(args, cwd)
    request = _flags.render_request(args, cwd, env)
    result = render(request)
    write_text(sys.stderr, result.pre_hook_log)
    for warning in result.warnings:
        sys.stderr.write(f"WARN {warning}\n")
    write_text(sys.stderr, result.post_hook_log)
    # What render prints on stdout before the manifests (notices, pre-render hook output) goes
    # to stderr here: stdout carries only --dry-run's manifests.
    notices = "".join(line + "\n" for line in result.notices) + result.hook_output
    content = result.text.encode("utf-8", "surrogateescape")  # hook output may not be UTF-8
    if args.output:
        write_output(os.path.join(cwd, args.output), content)
    shown = "/".join(p for p in (target.path, target.file_name) if p)
    if args.dry_run:
        write_text(sys.stdout, notices + result.text)
        sys.stdout.flush()
        print(f"dry run: would publish {shown} to {target.branch}", file=sys.stderr)
        return 0
    write_text(sys.stderr, notices)
    try:
        outcome = _publish(args, target, result.builds, content, cwd, env)
    except PublishError as exc:
        print(error_line("gitops", redact(str(exc))), file=sys.stderr)
        return exc.exit_code
    if outcome.changed and outcome.commit:
        print(f"published {shown} to {outcome.branch} as {outcome.commit[:7]}", file=sys.stderr)
    else:
        print(f"{outcome.branch} already up to date; nothing to commit", file=sys.stderr)
    return 0


def resolve_target(args: Any, cwd: str) -> Target:
    """Service, environment, branch and path from the flags (templates expanded)."""
    from engine.gitops import services

    service = args.service or services.service_name(_service_dir(args, cwd))
    environment = args.environment or services.environment_name(args.profile)
    values = {"service": service, "environment": environment}
    return Target(
        service=service,
        environment=environment,
        branch=services.expand(args.branch_template, values, flag="--branch-template"),
        path=services.expand(args.path, values, flag="--path"),
        file_name=args.file_name,
    )


def source_commit(directory: str) -> str:
    """``git rev-parse HEAD`` in ``directory``, or "" outside a git work tree."""
    from engine.core import git
    from engine.core.errors import ToolError

    try:
        return git.run_git(directory, "rev-parse", "HEAD")
    except ToolError:
        return ""


def _service_dir(args: Any, cwd: str) -> str:
    """The directory of the skaffold config (-f is relative to the working directory)."""
    return os.path.dirname(os.path.join(cwd, args.filename)) or cwd


def _publish(
    args: Any,
    target: Target,
    builds: tuple[tuple[str, str], ...],
    content: bytes,
    cwd: str,
    env: dict[str, str],
) -> Any:
    from engine.commands.publish import parse_ident
    from engine.gitops.publish import publish

    return publish(
        repo=args.repo,
        branch=target.branch,
        files={target.file_name: content},
        path=target.path,
        message=args.message,
        prune=args.prune,
        author=parse_ident(args.author, "--author"),
        committer=parse_ident(args.committer, "--committer"),
        max_attempts=args.max_attempts,
        env=env,
        context={
            "service": target.service,
            "environment": target.environment,
            "images": " ".join(reference for _, reference in builds),
            "source_commit": args.source_commit or source_commit(_service_dir(args, cwd)),
        },
    )
