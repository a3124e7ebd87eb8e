"""Image references: parsing, sanitizing, default-repo substitution and the -i/-a flag values.

Everything here is a pure function.  Parsing follows skaffold's ``docker.ParseReference``
(``pkg/skaffold/docker/reference.go``): the distribution reference grammar *without*
normalisation, after stripping ``ko://`` and lower-casing the name.  :func:`registry_name` is the
other, normalising parse (go-containerregistry's ``name`` package) used to talk to registries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from engine.core.errors import DigestError, ManifestError, UsageError

# --- the distribution reference grammar (github.com/distribution/reference/regexp.go) ---------
# Go's regexp picks the same submatches as a backtracking engine (leftmost-first), so Python's
# `re` with the same pattern yields the same groups.  re.ASCII: Go's \w is ASCII-only.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = _DOMAIN_COMPONENT + r"(?:\." + _DOMAIN_COMPONENT + r")*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_AND_PORT = r"(?:" + _DOMAIN_NAME + "|" + _IPV6 + r")(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_PATH_COMPONENT = _ALNUM + r"(?:" + _SEPARATOR + _ALNUM + r")*"
_REMOTE_NAME = _PATH_COMPONENT + r"(?:/" + _PATH_COMPONENT + r")*"
_NAME = r"(?:" + _DOMAIN_AND_PORT + r"/)?" + _REMOTE_NAME
_REFERENCE = r"(" + _NAME + r")(?::(" + _TAG + r"))?(?:@(" + _DIGEST + r"))?"

# Always used with fullmatch: Go's `$` does not match before a trailing newline, Python's does.
_REFERENCE_RE = re.compile(_REFERENCE, re.ASCII)
_REFERENCE_CI_RE = re.compile(_REFERENCE, re.ASCII | re.IGNORECASE)
_NAME_SPLIT_RE = re.compile(r"(?:(" + _DOMAIN_AND_PORT + r")/)?(" + _REMOTE_NAME + r")", re.ASCII)
_GO_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_DIGEST_HEX_LEN = {"sha256": 64, "sha384": 96, "sha512": 128}
_NAME_MAX = 255

# --- default repo (pkg/skaffold/docker/default_repo.go) -----------------------------------------
_GCP_PROJECT = r"[a-z][a-z0-9-]{4,28}[a-z0-9]"
_PREFIX_RE = re.compile(_DOMAIN_AND_PORT + "/" + _GCP_PROJECT + "/?", re.ASCII)
_ESCAPE_RE = re.compile(r"[/._:@]")

_KO_PREFIX = "ko://"


class ImageReference(NamedTuple):
    """skaffold's parsed image name (``docker.ImageReference``).

    ``repo`` and ``name`` are only set when the base name has a ``/`` (as in skaffold).
    """

    base_name: str
    domain: str
    repo: str
    name: str
    tag: str
    digest: str


def sanitize_image_name(image: str) -> str:
    """Strip ``ko://`` and lower-case the name part, keeping the tag's case (SanitizeImageName)."""
    image = image.removeprefix(_KO_PREFIX)
    match = _REFERENCE_CI_RE.fullmatch(image)
    if match:
        name = match.group(1)
        image = image.replace(name, name.lower(), 1)
    return image


def _digest_error(digest: str) -> str | None:
    """go-digest's ``Digest.Validate`` failure message, or None when valid."""
    i = digest.find(":")
    if i <= 0 or i + 1 == len(digest):
        return "invalid checksum digest format"
    algorithm, encoded = digest[:i], digest[i + 1 :]
    size = _DIGEST_HEX_LEN.get(algorithm)
    if size is None:
        if not _GO_DIGEST_RE.fullmatch(digest):
            return "invalid checksum digest format"
        return "unsupported digest algorithm"
    if len(encoded) != size:
        return "invalid checksum digest length"
    if not re.fullmatch(r"[a-f0-9]+", encoded):
        return "invalid checksum digest format"
    return None


def _parse(image: str) -> ImageReference | str:
    """Parse like skaffold; return the reference or the Go error message."""
    image = sanitize_image_name(image)
    match = _REFERENCE_RE.fullmatch(image)
    if match is None:
        if image == "":
            return "repository name must have at least one component"
        if _REFERENCE_RE.fullmatch(image.lower()):
            return "repository name must be lowercase"
        return "invalid reference format"
    base = match.group(1)
    split = _NAME_SPLIT_RE.fullmatch(base)
    domain = (split.group(1) or "") if split else ""
    path = split.group(2) if split else base
    if len(path) > _NAME_MAX:
        return f"repository name must not be more than {_NAME_MAX} characters"
    digest = match.group(3) or ""
    if digest:
        problem = _digest_error(digest)
        if problem:
            return problem
    repo, _, name = base.rpartition("/")
    if not repo:
        name = ""
    return ImageReference(base, domain, repo, name, match.group(2) or "", digest)


def parse_reference(image: str) -> ImageReference:
    """skaffold's ``docker.ParseReference``; ManifestError ``<image>: <reason>`` on bad input."""
    parsed = _parse(image)
    if isinstance(parsed, str):
        raise ManifestError(f"{image}: {parsed}")
    return parsed


def try_parse_reference(image: str) -> ImageReference | None:
    """skaffold's ``docker.ParseReference``, or None when the image does not parse."""
    parsed = _parse(image)
    return None if isinstance(parsed, str) else parsed


def is_valid_reference(image: str) -> bool:
    """Whether skaffold's ``docker.ParseReference`` accepts ``image``."""
    return not isinstance(_parse(image), str)


def apply_default_repo(
    image: str, default_repo: str | None, *, multi_level: bool | None = None
) -> str:
    """Put ``image`` (``name[:tag][@digest]``) under ``default_repo`` (spec §5.2).

    ``multi_level`` is the global ``multi-level-repo`` setting (None when unset).  Raises
    ManifestError with skaffold's bare reason (e.g. ``invalid reference format``).
    """
    if not default_repo:
        return image
    parsed = _parse(image)
    if isinstance(parsed, str):
        raise ManifestError(parsed)
    replaced = _replace_repo(default_repo, multi_level, parsed.base_name)
    if parsed.tag:
        replaced += ":" + parsed.tag
    if parsed.digest:
        replaced += "@" + parsed.digest
    return replaced


def _prefix(text: str) -> str:
    match = _PREFIX_RE.match(text)
    return match.group(0) if match else ""


def _replace_repo(default_repo: str, multi_level: bool | None, base: str) -> str:
    # default_repo.go: a raw string prefix, not a path-component prefix
    if base.startswith(default_repo):
        return base
    original_prefix = _prefix(base)
    repo_prefix = _prefix(default_repo)
    if _supports_multi_level(repo_prefix, multi_level):
        if original_prefix == repo_prefix:
            return default_repo + "/" + base[len(original_prefix) :]
        return (default_repo + "/" + base)[:_NAME_MAX]
    return (default_repo + "/" + _ESCAPE_RE.sub("_", base))[:_NAME_MAX]


def _supports_multi_level(repo_prefix: str, multi_level: bool | None) -> bool:
    if "gcr.io" in repo_prefix or "-docker.pkg.dev" in repo_prefix:
        return True
    return bool(multi_level)


# --- go-containerregistry's normalising parse (pkg/name) -----------------------------------------
_DEFAULT_REGISTRY = "index.docker.io"
_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_REPO_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-./")
# url.Parse("//"+host) accepts these ASCII characters in a host (net/url shouldEscape, encodeHost)
_HOST_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&'()*+,;=:[]<>\"%"
)


class RegistryName(NamedTuple):
    """Where a reference lives for registry API calls (go-containerregistry defaults)."""

    registry: str
    repository: str
    reference: str


def _check_element(element: str, allowed: frozenset[str], low: int, high: int) -> bool:
    return low <= len(element) <= high and all(ch in allowed for ch in element)


def _valid_registry(host: str) -> bool:
    """Approximates ``url.Parse("//"+host).Host == host``."""
    if any(ord(ch) < 0x80 and ch not in _HOST_CHARS for ch in host):
        return False
    if re.search(r"%(?![0-9A-Fa-f]{2})", host):
        return False
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return False
        port = host[end + 1 :]
    else:
        colon = host.rfind(":")
        port = host[colon:] if colon >= 0 else ""
    return port == "" or (port.startswith(":") and port[1:].isdigit()) or port == ":"


def _new_repository(name: str) -> tuple[str, str] | None:
    if not name:
        return None
    registry, repo = "", name
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first):
        registry, repo = first, rest
    if not _check_element(repo, _REPO_CHARS, 2, 255) or not _valid_registry(registry):
        return None
    if registry in ("", "docker.io"):
        registry = _DEFAULT_REGISTRY
    if registry == _DEFAULT_REGISTRY and "/" not in repo:
        repo = "library/" + repo
    return registry, repo


def _new_tag(name: str) -> RegistryName | None:
    base, tag = name, ""
    parts = name.split(":")
    if len(parts) > 1 and "/" not in parts[-1]:
        base, tag = ":".join(parts[:-1]), parts[-1]
        if not tag or not _check_element(tag, _TAG_CHARS, 1, 128):
            return None
    repo = _new_repository(base)
    if repo is None:
        return None
    return RegistryName(repo[0], repo[1], tag or "latest")


def _new_digest(name: str) -> RegistryName | None:
    parts = name.split("@")
    if len(parts) != 2 or not parts[1].startswith("sha256:"):
        return None
    if not re.fullmatch(r"[a-f0-9]{64}", parts[1][len("sha256:") :]):
        return None
    base = parts[0]
    tagged = _new_tag(base)
    if tagged is not None:
        return RegistryName(tagged.registry, tagged.repository, parts[1])
    repo = _new_repository(base)
    if repo is None:
        return None
    return RegistryName(repo[0], repo[1], parts[1])


def registry_name(image: str) -> RegistryName:
    """go-containerregistry ``name.ParseReference`` with default options (a tag wins, then a
    digest; with both, the digest is the reference).  DigestError when unparseable."""
    parsed = _new_tag(image) or _new_digest(image)
    if parsed is None:
        raise DigestError(f'parsing reference "{image}": could not parse reference: {image}')
    return parsed


# --- -i/--images and -a/--build-artifacts (cmd/skaffold/app/flags/) -----------------------------
def parse_images_flag(value: str, *, flag_value: str | None = None) -> tuple[str, str]:
    """One ``-i`` entry → ``(imageName, tag)`` (flags/image.go ``convertImageToArtifact``).

    ``flag_value`` is the whole (comma-separated) flag value, quoted in the error like pflag does;
    it defaults to ``value``.
    """
    whole = value if flag_value is None else flag_value
    image_name, sep, tag = value.partition("=")
    problem: str | None = None
    if value == "":
        problem = "cannot add an empty image value"
    elif sep:
        parsed = _parse(tag)
        problem = parsed if isinstance(parsed, str) else None
    else:
        parsed = _parse(value)
        if isinstance(parsed, str):
            problem = parsed
        else:
            image_name, tag = parsed.base_name, value
    if problem is not None:
        raise UsageError(f'invalid argument "{whole}" for "-i, --images" flag: {value}: {problem}')
    return image_name, tag


_ARTIFACT_FIELDS = ("imageName", "tag", "runtimeType")


def build_output_json(
    builds: Sequence[tuple[str, str]], runtime_types: Mapping[str, str] | None = None
) -> str:
    """The ``-a`` file: skaffold's ``BuildOutput`` through its ``{{json .}}`` template.

    cmd/skaffold/app/cmd/build.go writes ``--file-output`` (and ``-q``) with the template
    function ``json`` of cmd/skaffold/app/flags/template.go: a json.Encoder with HTML escaping
    off, its trailing newline trimmed.  No builds is a nil slice there: ``{"builds":null}``.
    ``runtimeType`` (graph.Artifact, omitempty) comes from the artifact's config.
    """
    import json

    runtime = runtime_types or {}
    entries: list[dict[str, str]] | None = None
    if builds:
        entries = []
        for name, tag in builds:
            entry = {"imageName": name, "tag": tag}
            if runtime.get(name):
                entry["runtimeType"] = runtime[name]
            entries.append(entry)
    text = json.dumps({"builds": entries}, ensure_ascii=False, separators=(",", ":"))
    # encoding/json escapes these two even with SetEscapeHTML(false); Python does not.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def parse_build_artifacts(text: str, source: str) -> list[tuple[str, str]]:
    """skaffold's ``-a`` JSON (``{"builds":[{"imageName","tag"}]}``) → ``[(imageName, tag)]``.

    Go encoding/json rules: keys match field names case-insensitively (last one wins), unknown
    keys are ignored, ``null`` leaves a field empty.  UsageError like pflag on bad content.
    """
    import json

    def fail(reason: str) -> UsageError:
        return UsageError(
            f'invalid argument "{source}" for "-a, --build-artifacts" flag: '
            f"setting template flag: {reason}"
        )

    def reject_constant(name: str) -> object:
        raise ValueError(name)

    try:
        data = json.loads(text, parse_constant=reject_constant)
    except ValueError as exc:
        raise fail(_go_json_syntax_error(text, exc)) from None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise fail(
            f"json: cannot unmarshal {_json_kind(data)} into Go value of type flags.BuildOutput"
        )
    builds: object = None
    for key, value in data.items():
        if key.casefold() == "builds":
            builds = value
    if builds is None:
        return []
    if not isinstance(builds, list):
        raise fail(
            f"json: cannot unmarshal {_json_kind(builds)} into Go struct field "
            "BuildOutput.builds of type []graph.Artifact"
        )
    return [_artifact_entry(entry, fail) for entry in builds]


def _artifact_entry(entry: object, fail: Callable[[str], UsageError]) -> tuple[str, str]:
    fields = {"imageName": "", "tag": "", "runtimeType": ""}
    if entry is None:
        return "", ""
    if not isinstance(entry, dict):
        raise fail(
            f"json: cannot unmarshal {_json_kind(entry)} into Go struct field "
            "BuildOutput.builds of type graph.Artifact"
        )
    for key, value in entry.items():
        field = next((f for f in _ARTIFACT_FIELDS if f == key), None) or next(
            (f for f in _ARTIFACT_FIELDS if f.casefold() == key.casefold()), None
        )
        if field is None or value is None:
            continue
        if not isinstance(value, str):
            raise fail(
                f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
                f"Artifact.builds.{field} of type string"
            )
        fields[field] = value
    return fields["imageName"], fields["tag"]


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _go_json_syntax_error(text: str, exc: ValueError) -> str:
    """An approximation of Go's encoding/json syntax error wording."""
    if not text.strip():
        return "unexpected end of JSON input"
    pos = getattr(exc, "pos", None)
    if isinstance(pos, int) and pos < len(text):
        return f"invalid character {text[pos]!r} looking for beginning of value"
    return "unexpected end of JSON input"
