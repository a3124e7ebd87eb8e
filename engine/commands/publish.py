"""``skrender publish``: commit rendered manifests to a branch of a GitOps repository.

Argument parsing and the one-line summary live here; the work is
:func:`engine.gitops.publish.publish`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from engine.core.errors import PublishError

_IDENT = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>]*)>\s*$")


def command() -> Any:
    """``skrender publish``: where to commit (--repo, --branch, ...) and the FILEs."""
    from engine.commands._parser import Command
    from engine.golang.pflag import ARRAY, Flag

    return Command(
        "publish",
        summary="commit rendered manifests to a branch of a manifest repository",
        description=(
            "Commit FILEs to BRANCH of REPO without a checkout (shallow fetch, git plumbing, "
            "push).  A FILE is stored under --path by its base name; a directory contributes "
            "its files by their paths inside it.  Nothing is committed when nothing changed."
        ),
        flags=(
            Flag("branch", usage="branch to commit to (created if missing)"),
            *target_flags(message_shorthand="m"),
            Flag("service", default="", usage="service named in the default message"),
            Flag("environment", default="", usage="environment named in the message"),
            Flag("image", kind=ARRAY, default=[], usage="image reference for the message (repeat)"),
        ),
        args="FILE...",
        min_args=1,
        required=("branch", "repo"),
    )


def target_flags(message_shorthand: str = "") -> tuple[Any, ...]:
    """The flags saying where and how to commit, shared with ``skrender gitops``: --repo,
    --path, --message, --prune, --author, --committer, --source-commit, --max-attempts.

    ``message_shorthand`` is "" for a command whose ``-m`` means something else (gitops)."""
    from engine.golang.pflag import BOOL, INT, Flag

    return (
        Flag("repo", usage="git URL or path of the manifest repo"),
        Flag("path", default="", usage="directory inside the branch (default: root)"),
        Flag("message", message_shorthand, usage="commit message (default: template)"),
        Flag(
            "prune",
            kind=BOOL,
            default=False,
            usage="remove files under --path that are not given",
        ),
        Flag("author", metavar="'NAME <EMAIL>'", usage="commit author"),
        Flag("committer", metavar="'NAME <EMAIL>'", usage="committer"),
        Flag("source-commit", default="", usage="source commit (default: from the CI variables)"),
        Flag("max-attempts", kind=INT, default=8, usage="push attempts when the branch moves"),
    )


def run(args: Any) -> int:
    """Publish as ``args`` says; print a one-line summary to stderr.  0 on success, 1 on error."""
    from engine.gitops.publish import one_line, publish, redact

    try:
        files = collect_files(args.args)
        result = publish(
            repo=args.repo,
            branch=args.branch,
            files=files,
            path=args.path,
            message=args.message,
            prune=args.prune,
            author=parse_ident(args.author, "--author"),
            committer=parse_ident(args.committer, "--committer"),
            max_attempts=args.max_attempts,
            context={
                "service": args.service,
                "environment": args.environment,
                "images": " ".join(args.image),
                "source_commit": args.source_commit,
            },
        )
    except PublishError as exc:
        print(error_line("publish", one_line(redact(str(exc)))), file=sys.stderr)
        return exc.exit_code
    if result.changed and result.commit:
        count = len(files)
        print(
            f"published {count} file(s) to {result.branch} as {result.commit[:7]}",
            file=sys.stderr,
        )
    else:
        print(f"{result.branch} already up to date; nothing to commit", file=sys.stderr)
    return 0


def collect_files(paths: list[str]) -> dict[str, bytes]:
    """Name in the branch -> content: a file by its base name, a directory's files by path."""
    files: dict[str, bytes] = {}
    for raw in paths:
        source = Path(raw)
        if source.is_dir():
            entries = [
                (p.relative_to(source).as_posix(), p)
                for p in sorted(source.rglob("*"))
                if p.is_file() and ".git" not in p.relative_to(source).parts
            ]
        else:
            entries = [(source.name, source)]
        for name, file in entries:
            if name in files:
                raise PublishError(f"{raw}: two files would be stored as {name}")
            files[name] = _read(file)
    return files


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise PublishError(f"reading {file}: {exc.strerror or exc}") from None


def parse_ident(value: str | None, flag: str) -> tuple[str, str] | None:
    """``'Name <email>'`` -> (name, email)."""
    if value is None:
        return None
    match = _IDENT.match(value)
    if not match or not match.group("name"):
        raise PublishError(f"{flag} {value!r}: expected 'Name <email>'")
    return match.group("name"), match.group("email")


def error_line(command: str, message: str) -> str:
    """``<command>: <message>``, each thing said once (:func:`engine.core.errors.said_once`):
    a message that already starts with ``<command>: `` is not prefixed again."""
    from engine.core.errors import said_once

    text = said_once(f"{command}: {message}") or f"{command}: failed"
    return text
