"""Services of a monorepo, and the names GitOps derives from them.

A *service* is a directory holding a skaffold config (``skaffold.yaml``).  Its name is the base
name of that directory (``services/foo/skaffold.yaml`` -> ``foo``): it is known without loading
the config, it is what people call the directory, and it stays stable when the config's
``metadata.name`` changes (or is missing, as in most configs).

Branch names, paths and Application names are written as templates with ``{service}`` and
``{environment}`` placeholders (``{service}/{environment}``); :func:`expand` fills them in.
"""

from __future__ import annotations

import fnmatch
import glob
import itertools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from engine.core.errors import ConfigError, UsageError

DEFAULT_CONFIG = "skaffold.yaml"
DEFAULT_ENVIRONMENT = "develop"  # the environment of a render without profiles
DEFAULT_BRANCH_TEMPLATE = "{service}/{environment}"
PLACEHOLDERS = ("service", "environment")

# Directories never searched for services: VCS metadata, dependency caches.
_SKIPPED_DIRS = frozenset({"node_modules", "vendor", "__pycache__"})
# "{{", "}}", a "{name}" placeholder, a lone brace, or a run of other text
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]|[^{}]+")


@dataclass(frozen=True)
class Service:
    """One service: its name, its directory (absolute) and the config file in it."""

    name: str
    directory: str
    config: str  # absolute path of the skaffold config
    relative: str  # directory relative to the root it was found below ("." for the root)


def service_name(directory: str) -> str:
    """The name of the service in ``directory``: the directory's base name."""
    name = os.path.basename(os.path.normpath(os.path.abspath(directory)))
    if not name or name == os.sep:
        raise ConfigError(f"{directory}: cannot name a service after the file-system root")
    return name


def environment_name(profiles: Sequence[str], default: str = DEFAULT_ENVIRONMENT) -> str:
    """The environment a render with ``profiles`` targets: the active names joined by ``-``.

    A ``-name`` entry deactivates a profile, so it names no environment.  Without any active
    profile the environment is ``default``.
    """
    active = [p for p in profiles if p and not p.startswith("-")]
    return "-".join(active) if active else default


def find_services(
    roots: Iterable[str],
    *,
    config_name: str = DEFAULT_CONFIG,
    cwd: str | None = None,
    exclude: Sequence[str] = (),
) -> list[Service]:
    """Every directory holding ``config_name`` at or below ``roots``, in path order.

    Hidden directories (``.git``...), ``node_modules`` and ``vendor`` are not searched and
    symbolic links to directories are not followed.  Services matching an ``exclude`` glob
    (see :func:`is_excluded`) are left out.  Two services with the same name are an error:
    their branches and Argo CD Applications would collide.
    """
    base = os.path.abspath(cwd or os.getcwd())
    found: dict[str, Service] = {}
    for root in roots:
        top = os.path.normpath(os.path.join(base, root))
        if not os.path.isdir(top):
            raise ConfigError(f"{root}: not a directory")
        for directory in _walk(top):
            config = os.path.join(directory, config_name)
            if directory in found or not os.path.isfile(config):
                continue
            relative = os.path.relpath(directory, top).replace(os.sep, "/")
            found[directory] = Service(service_name(directory), directory, config, relative)
    return _select(found.values(), base, exclude)


def match_services(
    patterns: Iterable[str],
    *,
    config_name: str = DEFAULT_CONFIG,
    cwd: str | None = None,
    exclude: Sequence[str] = (),
) -> list[Service]:
    """The directories matching the glob ``patterns`` (relative to ``cwd``) that hold
    ``config_name``, in name order; ``exclude`` and duplicate names as in
    :func:`find_services`."""
    base = os.path.abspath(cwd or os.getcwd())
    found: dict[str, Service] = {}
    for pattern in patterns:
        for hit in sorted(glob.glob(os.path.join(base, pattern))):
            directory = os.path.normpath(hit)
            config = os.path.join(directory, config_name)
            if directory in found or not os.path.isfile(config):
                continue
            relative = os.path.relpath(directory, base).replace(os.sep, "/")
            found[directory] = Service(service_name(directory), directory, config, relative)
    return _select(found.values(), base, exclude)


def is_excluded(service: Service, exclude: Sequence[str]) -> bool:
    """``service`` matches a glob of ``exclude``: by name (``legacy-*``) or by its path
    relative to the root it was found below (``services/legacy/*``)."""
    return any(
        fnmatch.fnmatchcase(service.name, pattern) or fnmatch.fnmatchcase(service.relative, pattern)
        for pattern in exclude
    )


def expand(template: str, values: Mapping[str, str], *, flag: str) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]``; ``{{``/``}}`` are braces.

    An unknown placeholder is a usage error naming ``flag`` and the valid placeholders.
    """
    # One left-to-right scan, as Python's str.format reads "{{{service}}}" ("{" + value +
    # "}"); replacing "{{" and "}}" first would pair the wrong braces.
    parts: list[str] = []
    for match in _TOKEN.finditer(template):
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])
        elif match.group(1) is not None:
            key = match.group(1)
            if key not in values:
                valid = ", ".join("{" + k + "}" for k in values)
                raise UsageError(
                    f"{flag} {template!r}: unknown placeholder {{{key}}} (use {valid})"
                )
            parts.append(values[key])
        elif token in ("{", "}"):
            raise UsageError(f"{flag} {template!r}: unbalanced brace (write {{{{ or }}}} for one)")
        else:
            parts.append(token)
    return "".join(parts)


def _walk(top: str) -> Iterable[str]:
    for directory, subdirs, _files in os.walk(top):
        # os.walk honours in-place pruning; sorting makes the order independent of the disk.
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        yield directory


def _select(found: Iterable[Service], base: str, exclude: Sequence[str]) -> list[Service]:
    """Drop excluded services (before the duplicate check: excluding one of two services
    with the same name resolves the clash), sort by name, refuse duplicate names."""
    kept = [s for s in found if not is_excluded(s, exclude)]
    services = sorted(kept, key=lambda s: (s.name, s.directory))
    _check_unique(services, base)
    return services


def _check_unique(services: Sequence[Service], base: str) -> None:
    for first, second in itertools.pairwise(services):
        if first.name == second.name:
            a = os.path.relpath(first.directory, base)
            b = os.path.relpath(second.directory, base)
            raise ConfigError(
                f"two services are named {first.name!r}: {a} and {b} "
                "(search narrower roots, or rename a directory)"
            )
