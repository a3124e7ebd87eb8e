"""What git printed, read: the outcome of each ref of a push, and the cause of a failure.

git's text (and the server's, relayed as ``remote: ...``) is untrusted: :func:`one_line`
turns it into one line safe for a terminal or a CI log before it reaches a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal, NamedTuple

# Push statuses (``git push --porcelain``) and server errors that mean "the branch moved
# under us": re-fetch and rebuild.  Anything else a server refuses is final.
_LOST_RACE = re.compile(
    r"non-fast-forward|fetch first|stale info|but expected|reference already exists"
    r"|incorrect old value|\.lock'?: File exists"
)
# The per-ref statuses an atomic push gives the refs it took down with the culprit.
_COLLATERAL = re.compile(r"atomic push failed|atomic transaction failed")
# receive-pack's own words for the ref that failed (its status only says "failed ...").
_REMOTE_REF_ERROR = re.compile(r"(?:remote: )?error: (cannot lock ref '(?P<ref>[^']+)'.*)")


class RefOutcome(NamedTuple):
    """``pushed``; ``lost`` a race (rebuild on the new tip); ``again`` (refused only because
    another ref of the atomic push was: push as it is); ``refused`` for good, with ``cause``."""

    kind: Literal["pushed", "lost", "again", "refused"]
    cause: str = ""


def push_outcomes(refs: Iterable[str], stdout: str, stderr: str) -> dict[str, RefOutcome] | None:
    """The outcome of each of ``refs`` from ``git push --porcelain``'s output; None when git
    reported no ref at all (it failed before pushing: see :func:`git_cause`)."""
    statuses = _porcelain_statuses(stdout)
    if not statuses:
        return None
    causes = _remote_ref_errors(stderr)
    outcomes: dict[str, RefOutcome] = {}
    for ref in refs:
        flag, summary = statuses.get(ref, ("!", "no status reported"))
        cause = causes.get(ref)
        if flag != "!":
            outcomes[ref] = RefOutcome("pushed")
        elif _LOST_RACE.search(cause or summary):
            outcomes[ref] = RefOutcome("lost", cause or summary)
        elif _COLLATERAL.search(summary) and cause is None:
            outcomes[ref] = RefOutcome("again", summary)
        else:
            outcomes[ref] = RefOutcome("refused", cause or _with_remote_hint(summary, stderr))
    if not any(o.kind in ("lost", "refused") for o in outcomes.values()):
        # An atomic failure that names no ref (a hook, a quota): it is every ref's.
        cause = git_cause(stderr) or "atomic push failed"
        outcomes = {
            ref: RefOutcome("refused", cause) if o.kind == "again" else o
            for ref, o in outcomes.items()
        }
    return outcomes


def git_cause(stderr: str) -> str:
    """What git says went wrong, once: its first ``fatal:`` (else last ``error:``) line with
    the lines that continue it (``unable to connect ...`` is followed by the errno line)."""
    lines = [line.rstrip() for line in stderr.splitlines()]
    for prefix in ("fatal:", "error:"):
        starts = [i for i, line in enumerate(lines) if line.startswith(prefix)]
        if not starts:
            continue
        first = starts[0] if prefix == "fatal:" else starts[-1]
        parts = [lines[first][len(prefix) :].strip()]
        for line in lines[first + 1 :]:
            if not line.strip() or line.startswith(("fatal:", "error:", "warning:", "hint:")):
                break
            parts.append(line.strip())
        return " ".join(parts)
    rest = [line.strip() for line in lines if line.strip()]
    return rest[-1] if rest else ""


def one_line(text: str) -> str:
    """``text`` as one line safe for a terminal or a CI log: control characters escaped.

    (A minimal stand-in until :mod:`engine.core.sanitize` exists.)
    """
    out = []
    for ch in text:
        code = ord(ch)
        if code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{code:02x}"))
        else:
            out.append(ch)
    return "".join(out)


def _porcelain_statuses(stdout: str) -> dict[str, tuple[str, str]]:
    """ref -> (flag, summary) from ``git push --porcelain``."""
    statuses: dict[str, tuple[str, str]] = {}
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and ":" in parts[1]:
            statuses[parts[1].rsplit(":", 1)[1]] = (parts[0], parts[2])
    return statuses


def _remote_ref_errors(stderr: str) -> dict[str, str]:
    """ref -> receive-pack's error for it (``cannot lock ref 'refs/heads/x': ...``)."""
    found: dict[str, str] = {}
    for line in stderr.splitlines():
        match = _REMOTE_REF_ERROR.search(line.strip())
        if match:
            found.setdefault(match.group("ref"), match.group(1).strip())
    return found


def _with_remote_hint(summary: str, stderr: str) -> str:
    """A rejection's summary, with the server's last words when it said any."""
    lines = stderr.splitlines()
    said = [line[len("remote:") :].strip() for line in lines if line.startswith("remote:")]
    said = [line for line in said if line]
    hint = said[-1] if said else ""
    return f"{summary}: {hint}" if hint and hint not in summary else summary
