"""``skrender publish``: commit rendered manifests to a branch of a GitOps repository.

Argument parsing and the one-line summary live here; the work is
:func:`engine.gitops.publish.publish`.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from engine.core.errors import PublishError

_IDENT = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>]*)>\s*$")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``publish`` and its flags on the CLI's sub-command parsers."""
    parser = subparsers.add_parser(
        "publish",
        help="commit rendered manifests to a branch of a manifest repository",
        description=(
            "Commit FILEs to BRANCH of REPO without a checkout (shallow fetch, git plumbing, "
            "push).  A FILE is stored under --path by its base name; a directory contributes "
            "its files by their paths inside it.  Nothing is committed when nothing changed."
        ),
    )
    parser.add_argument("--branch", required=True, help="branch to commit to (created if missing)")
    add_target_flags(parser, message_flags=("-m", "--message"))
    parser.add_argument("--service", default="", help="service named in the default message")
    parser.add_argument("--environment", default="", help="environment named in the message")
    parser.add_argument(
        "--image", action="append", default=[], help="image reference for the message (repeat)"
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="rendered file or directory")
    parser.set_defaults(run=run)


def add_target_flags(
    parser: argparse.ArgumentParser, message_flags: tuple[str, ...] = ("-m", "--message")
) -> None:
    """The flags saying where and how to commit, shared with ``skrender gitops``: --repo,
    --path, --message, --prune, --author, --committer, --source-commit, --max-attempts.

    ``message_flags`` lets a command whose ``-m`` means something else keep only --message.
    """
    parser.add_argument("--repo", required=True, help="git URL or path of the manifest repo")
    parser.add_argument("--path", default="", help="directory inside the branch (default: root)")
    parser.add_argument(
        *message_flags, dest="message", default=None, help="commit message (default: template)"
    )
    parser.add_argument(
        "--prune", action="store_true", help="remove files under --path that are not given"
    )
    parser.add_argument("--author", default=None, metavar="'NAME <EMAIL>'", help="commit author")
    parser.add_argument("--committer", default=None, metavar="'NAME <EMAIL>'", help="committer")
    parser.add_argument(
        "--source-commit", default="", help="source commit (default: from the CI variables)"
    )
    parser.add_argument(
        "--max-attempts", type=int, default=8, help="push attempts when the branch moves"
    )


def run(args: argparse.Namespace) -> int:
    """Publish as ``args`` says; print a one-line summary to stderr.  0 on success, 1 on error."""
    from engine.gitops.publish import one_line, publish, redact

    try:
        files = collect_files(args.files)
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
        print(f"publish: {one_line(redact(str(exc)))}", file=sys.stderr)
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


if __name__ == "__main__":  # pragma: no cover - handy while engine/cli.py is being written
    _parser = argparse.ArgumentParser(prog="skrender")
    add_parser(_parser.add_subparsers(dest="command", required=True))
    sys.exit(run(_parser.parse_args(["publish", *sys.argv[1:]])))
