"""Every failure a user can see.  One base class; only the CLI maps them to exit codes.

Messages follow skaffold's wording where skaffold has one (its first line is what CI logs
and users grep for) and add the file and field where skaffold does not say them.
"""

from __future__ import annotations


class SkrenderError(Exception):
    """Base of every error skrender reports to the user; ``exit_code`` is the process status."""

    exit_code: int = 1


class UsageError(SkrenderError):
    """A bad command line (unknown flag, bad flag value): fix the invocation."""

    exit_code = 127


class ConfigError(SkrenderError):
    """skaffold.yaml cannot be loaded, upgraded, profiled or validated: fix the named field."""


class TemplateError(SkrenderError):
    """A Go template could not be parsed or executed: fix the template text."""


class YamlError(SkrenderError):
    """A YAML document is malformed or too large to decode: fix the named file and line."""


class ManifestError(SkrenderError):
    """A Kubernetes manifest cannot be read or transformed: fix the manifest."""


class TaggerError(SkrenderError):
    """A tag policy is invalid (construction errors are fatal, as in skaffold)."""


class DigestError(SkrenderError):
    """A digest could not be resolved from the registry: check that the image was pushed."""


class ToolError(SkrenderError):
    """An external program failed; skrender exits with that program's status, as skaffold does."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code if exit_code > 0 else 1


class PublishError(SkrenderError):
    """Rendered manifests could not be published to the manifest repository."""


class BuildError(SkrenderError):
    """An image could not be built or pushed."""


class HelmError(SkrenderError):
    """Helm failed to build dependencies or render a chart (skaffold: DEPLOY_HELM_USER_ERR)."""


def said_once(message: str) -> str:
    """``message`` with nothing said twice, for reports and one-line summaries: a leading
    ``prefix: `` that repeats (``publish: publish: ...``) is kept once, and so is a line that
    repeats an earlier one (a cause wrapped, then logged again)."""
    lines: list[str] = []
    for line in message.strip().splitlines():
        line = line.rstrip()
        head, sep, rest = line.partition(": ")
        while sep and rest.startswith(head + sep):
            rest = rest[len(head) + len(sep) :]
        line = head + sep + rest
        if line and line not in lines:
            lines.append(line)
    return "\n".join(lines)
