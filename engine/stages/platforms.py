"""Target platforms, checked as skaffold checks them when it creates its runner
(pkg/skaffold/platform/resolver.go: NewResolver): ``--platform``, each config's
``build.platforms`` and each artifact's ``platforms`` are parsed with containerd's parser
(vendor/github.com/containerd/platforms/platforms.go: Parse, database.go) and skaffold's
own lists (platform.go: isKnownOS, isKnownArch), and an artifact's constraints must meet the
target platforms.

skrender renders without building, so a platform changes nothing it prints; what skaffold
refuses fails the render with skaffold's message (exit 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from engine.core.errors import ConfigError

_SPECIFIER = re.compile(r"^[A-Za-z0-9_.-]+$")
_OS_TEXT = r"^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$"
_OS = re.compile(_OS_TEXT)

# containerd's lists (database.go) ...
_CONTAINERD_OS = frozenset((
    "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux",
    "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows", "zos",
))  # fmt: skip
_CONTAINERD_ARCH = frozenset((
    "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le", "loong64",
    "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "riscv", "riscv64",
    "s390", "s390x", "sparc", "sparc64", "wasm",
))  # fmt: skip
# ... and skaffold's own, a little shorter (platform.go: isKnownOS, isKnownArch)
_SKAFFOLD_OS = _CONTAINERD_OS - {"ios"}
_SKAFFOLD_ARCH = _CONTAINERD_ARCH - {"loong64"}
_SUGGESTION = (
    "Check that the value provided to --platform flag is a valid platform and formatted "
    "correctly, like linux/amd64, linux/arm64, linux/arm/v7, etc.."
)
_INVALID = "invalid argument"  # containerd's errInvalidArgument
_PREFIX = "creating runner: getting target platforms: "


class Platform(NamedTuple):
    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()

    def format(self) -> str:
        """containerd's Format: ``os/arch[/variant]``."""
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


class Matcher(NamedTuple):
    """platform.Matcher: every platform (``all``) or a list."""

    all: bool = False
    platforms: tuple[Platform, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.all and not self.platforms

    def __str__(self) -> str:
        return "all" if self.all else ",".join(p.format() for p in self.platforms)

    def intersect(self, other: Matcher) -> Matcher:
        """Matcher.Intersect: each of ``self`` that strictly matches one of ``other``."""
        if self.all:
            return other
        if other.all:
            return self
        return Matcher(
            platforms=tuple(p for p in self.platforms for q in other.platforms if _match(p, q))
        )


def check(cli: Sequence[str], configs: Sequence[Any]) -> None:
    """NewResolver's checks for ``--platform`` (``cli``) and every config's platforms."""
    from_cli = _parse_list(cli)
    for config in configs:
        build = config.raw.get("build")
        pipeline = _strs(build.get("platforms")) if isinstance(build, Mapping) else []
        targets = from_cli if not from_cli.empty else _parse_list(pipeline)
        for artifact in config.artifacts:
            wanted = _strs(artifact.raw.get("platforms"))
            constraints = _parse_list(wanted)
            if not constraints.empty and not targets.empty and targets.intersect(constraints).empty:
                raise ConfigError(
                    f"{_PREFIX}build target platforms {_q(str(targets))} do not match platform "
                    f"constraints [{' '.join(_q(w) for w in wanted)}] defined for artifact "
                    f"{_q(artifact.image)}"
                )


def _parse_list(values: Sequence[str]) -> Matcher:
    """platform.Parse: ``all`` (any case) wins; anything else must be a known os/arch."""
    parsed: list[Platform] = []
    for value in values:
        if value.lower() == "all":
            return Matcher(all=True)
        try:
            platform = parse(value)
            if platform.os not in _SKAFFOLD_OS:
                raise ValueError(f"unknown operating system {_q(platform.os)}")
            if platform.architecture not in _SKAFFOLD_ARCH:
                raise ValueError(f"unknown architecture {_q(platform.architecture)}")
        except ValueError as exc:
            raise ConfigError(
                f"{_PREFIX}failed to parse platforms: unable to recognise platform {_q(value)}: "
                f"{exc}. {_SUGGESTION}"
            ) from None
        parsed.append(platform)
    return Matcher(platforms=tuple(parsed))


def parse(specifier: str) -> Platform:
    """containerd's platforms.Parse, normalised; ValueError with its message."""
    if "*" in specifier:
        raise ValueError(f"{_q(specifier)}: wildcards not yet supported: {_INVALID}")
    parts = specifier.split("/", 3)  # SplitN(specifier, "/", 4)
    match = _OS.match(parts[0])
    if match is None:
        raise ValueError(
            f"{_q(parts[0])} is an invalid OS component of {_q(specifier)}: OSAndVersion "
            f"specifier component must match {_q(_OS_TEXT)}: {_INVALID}"
        )
    os_name = _normalize_os(match.group(1))
    version = _decode_option(match.group(2) or "", f"{_q(specifier)} has an invalid OS version "
                             f"{_q(match.group(2) or '')}: ")  # fmt: skip
    features = _features(specifier, match.group(3) or "")
    for part in parts[1:]:
        if not _SPECIFIER.match(part):
            raise ValueError(
                f"{_q(part)} is an invalid component of {_q(specifier)}: platform specifier "
                f"component must match {_q(_SPECIFIER.pattern)}: {_INVALID}"
            )
    if len(parts) == 1:
        # an OS alone gets the host's architecture; else it may be an architecture alone
        if os_name in _CONTAINERD_OS:
            return Platform(os_name, _host_arch(), "", version, features)
        arch, variant = _normalize_arch(parts[0], "")
        if arch == "arm" and variant == "v7":
            variant = ""
        if arch in _CONTAINERD_ARCH:
            return Platform(_host_os(), arch, variant, version, features)
        raise ValueError(f"{_q(specifier)}: unknown operating system or architecture: {_INVALID}")
    if len(parts) == 2:
        arch, variant = _normalize_arch(parts[1], "")
        if arch == "arm" and variant == "v7":
            variant = ""
        return Platform(os_name, arch, variant, version, features)
    if len(parts) == 3:
        arch, variant = _normalize_arch(parts[1], parts[2])
        if arch == "arm64" and variant == "":
            variant = "v8"
        return Platform(os_name, arch, variant, version, features)
    raise ValueError(f"{_q(specifier)}: cannot parse platform specifier: {_INVALID}")


def _match(platform: Platform, other: Platform) -> bool:
    """platforms.OnlyStrict(platform).Match(other): equal once both are normalised."""
    return _normalized(platform)[:4] == _normalized(other)[:4] and set(other.os_features) <= set(
        platform.os_features
    )


def _normalized(platform: Platform) -> Platform:
    arch, variant = _normalize_arch(platform.architecture, platform.variant)
    return platform._replace(os=_normalize_os(platform.os), architecture=arch, variant=variant)


def _normalize_os(name: str) -> str:
    name = name.lower()
    return "darwin" if name == "macos" else name


def _normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    """containerd's normalizeArch (database.go)."""
    arch, variant = arch.lower(), variant.lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        return "arm64", {"8": "", "v8": "", "v8.0": "", "9": "v9", "9.0": "v9", "v9.0": "v9"}.get(
            variant, variant
        )
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        return "arm", {"": "v7", "7": "v7", "5": "v5", "6": "v6", "8": "v8"}.get(variant, variant)
    return arch, variant


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _decode_option(value: str, context: str) -> str:
    """decodeOSOption: url.PathUnescape when there is a ``%``."""
    if "%" not in value:
        return value
    bad = _BAD_ESCAPE.search(value)
    if bad is not None:  # url.EscapeError: "%" and at most two characters after it
        raise ValueError(f"{context}invalid URL escape {_q(value[bad.start() : bad.start() + 3])}")
    from urllib.parse import unquote

    return unquote(value)


def _features(specifier: str, raw: str) -> tuple[str, ...]:
    """parseOSFeatures (after the leading "+")."""
    if not raw:
        return ()
    features: list[str] = []
    for item in raw[1:].split("+"):
        item = item.strip()
        if not item:
            raise ValueError(
                f"{_q(specifier)} has invalid OS features: empty os feature: {_INVALID}"
            )
        feature = _decode_option(
            item, f"{_q(specifier)} has invalid OS features: invalid os feature {_q(item)}: "
        )
        if feature:
            features.append(feature)
    return tuple(features)


def _strs(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _host_os() -> str:
    import platform  # runtime.GOOS, for an architecture given alone

    return platform.system().lower() or "linux"


def _host_arch() -> str:
    import platform  # runtime.GOARCH, for an OS given alone

    return _normalize_arch(platform.machine() or "amd64", "")[0]


def _q(text: str) -> str:
    from engine.golang.gofmt import go_quote

    return go_quote(text)
