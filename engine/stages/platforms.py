"""Target platforms (``--platform``), checked as skaffold checks them when it creates its
runner (pkg/skaffold/platform/platform.go: Parse, resolver.go: NewResolver) with containerd's
parser (vendor/github.com/containerd/platforms/platforms.go: Parse).

skrender renders without building, so a platform changes nothing it prints; a value skaffold
refuses fails the render as it fails skaffold's (exit 1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.core.errors import ConfigError

_SPECIFIER = re.compile(r"^[A-Za-z0-9_.-]+$")
_OS = re.compile(r"^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$")
_SPECIFIER_TEXT = "^[A-Za-z0-9_.-]+$"
_OS_TEXT = r"^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$"

# containerd's lists (database.go) ...
_CONTAINERD_OS = frozenset(
    [
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "hurd",
        "illumos",
        "ios",
        "js",
        "linux",
        "nacl",
        "netbsd",
        "openbsd",
        "plan9",
        "solaris",
        "windows",
        "zos",
    ]
)
_CONTAINERD_ARCH = frozenset(
    [
        "386",
        "amd64",
        "amd64p32",
        "arm",
        "armbe",
        "arm64",
        "arm64be",
        "ppc64",
        "ppc64le",
        "loong64",
        "mips",
        "mipsle",
        "mips64",
        "mips64le",
        "mips64p32",
        "mips64p32le",
        "ppc",
        "riscv",
        "riscv64",
        "s390",
        "s390x",
        "sparc",
        "sparc64",
        "wasm",
    ]
)
# ... and skaffold's own, a little shorter (platform.go: isKnownOS, isKnownArch)
_SKAFFOLD_OS = _CONTAINERD_OS - {"ios"}
_SKAFFOLD_ARCH = _CONTAINERD_ARCH - {"loong64"}
_SUGGESTION = (
    "Check that the value provided to --platform flag is a valid platform and formatted "
    "correctly, like linux/amd64, linux/arm64, linux/arm/v7, etc.."
)
_INVALID = "invalid argument"  # containerd's errInvalidArgument


def check_cli_platforms(values: Sequence[str]) -> None:
    """Refuse a ``--platform`` value skaffold refuses, with skaffold's message."""
    for value in values:
        if value.lower() == "all":
            return  # platform.All: the rest is not looked at
        try:
            os_name, arch = parse(value)
            if os_name not in _SKAFFOLD_OS:
                raise ValueError(f"unknown operating system {_q(os_name)}")
            if arch not in _SKAFFOLD_ARCH:
                raise ValueError(f"unknown architecture {_q(arch)}")
        except ValueError as exc:
            raise ConfigError(
                "creating runner: getting target platforms: failed to parse platforms: "
                f"unable to recognise platform {_q(value)}: {exc}. {_SUGGESTION}"
            ) from None


def parse(specifier: str) -> tuple[str, str]:
    """containerd's platforms.Parse: (os, architecture), normalised; ValueError as it fails."""
    if "*" in specifier:
        raise ValueError(f"{_q(specifier)}: wildcards not yet supported: {_INVALID}")
    parts = specifier.split("/", 3)
    os_name = ""
    for i, part in enumerate(parts):
        if i == 0:
            match = _OS.match(part)
            if match is None:
                raise ValueError(
                    f"{_q(part)} is an invalid OS component of {_q(specifier)}: OSAndVersion "
                    f"specifier component must match {_q(_OS_TEXT)}: {_INVALID}"
                )
            os_name = match.group(1).lower()  # normalizeOS
            os_name = "darwin" if os_name == "macos" else os_name
            _decode_option(specifier, match.group(2) or "", match.group(3) or "")
        elif not _SPECIFIER.match(part):
            raise ValueError(
                f"{_q(part)} is an invalid component of {_q(specifier)}: platform specifier "
                f"component must match {_q(_SPECIFIER_TEXT)}: {_INVALID}"
            )
    if len(parts) == 1:
        if os_name in _CONTAINERD_OS:
            return os_name, _host_arch()
        arch = _normalize_arch(parts[0])
        if arch in _CONTAINERD_ARCH:
            return _host_os(), arch
        raise ValueError(f"{_q(specifier)}: unknown operating system or architecture: {_INVALID}")
    if len(parts) in (2, 3):
        return os_name, _normalize_arch(parts[1])
    raise ValueError(f"{_q(specifier)}: cannot parse platform specifier: {_INVALID}")


def _decode_option(specifier: str, version: str, features: str) -> None:
    """decodeOSOption / parseOSFeatures: only their errors matter here."""
    if "%" in version and not _valid_escapes(version):
        raise ValueError(
            f"{_q(specifier)} has an invalid OS version {_q(version)}: "
            f"invalid URL escape {_q(_bad_escape(version))}"
        )
    if features:
        for raw in features[1:].split("+"):
            raw = raw.strip()
            if not raw:
                raise ValueError(
                    f"{_q(specifier)} has invalid OS features: empty os feature: {_INVALID}"
                )
            if "%" in raw and not _valid_escapes(raw):
                raise ValueError(
                    f"{_q(specifier)} has invalid OS features: invalid os feature {_q(raw)}: "
                    f"invalid URL escape {_q(_bad_escape(raw))}"
                )


_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _valid_escapes(text: str) -> bool:
    return _ESCAPE.search(text) is None


def _bad_escape(text: str) -> str:
    # url.EscapeError holds the bad escape: "%" and at most two characters after it
    match = _ESCAPE.search(text)
    assert match is not None
    return text[match.start() : match.start() + 3]


def _normalize_arch(arch: str) -> str:
    arch = arch.lower()
    return {"i386": "386", "x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64",
            "armhf": "arm", "armel": "arm"}.get(arch, arch)  # fmt: skip


def _host_os() -> str:
    import platform  # runtime.GOOS, for a bare architecture

    return platform.system().lower() or "linux"


def _host_arch() -> str:
    import platform  # runtime.GOARCH, for a bare OS

    return _normalize_arch(platform.machine() or "amd64")


def _q(text: str) -> str:
    from engine.golang.gofmt import go_quote

    return go_quote(text)
