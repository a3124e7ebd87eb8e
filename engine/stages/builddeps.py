"""The files a ko, custom, buildpacks, Bazel or Jib artifact depends on, as skaffold lists them.

These lists feed the inputDigest tagger (``pkg/skaffold/graph/dependencies.go``):

* ko, buildpacks and custom ``dependencies.paths``: ``pkg/skaffold/build/list/list.go`` -
  doublestar globs under the workspace, directories walked without following links, files
  matching an ``ignore`` pattern left out (``build/ko``, ``build/buildpacks``, ``build/custom``);
* custom ``dependencies.command``: the command, split on single spaces, run in the workspace;
  its stdout is a JSON list of paths (``build/custom/dependencies.go``);
* Bazel: ``bazel info workspace`` and a ``bazel query`` of the target's source files
  (``build/bazel/dependencies.go``);
* Jib: the Maven or Gradle plugin's ``_skaffold-files-v2`` goal, whose JSON lists build files and
  inputs, walked like skaffold does (``build/jib/jib.go``, ``maven.go``, ``gradle.go``).

Custom ``dependencies.dockerfile`` and kaniko artifacts go through :mod:`engine.stages.dockerfile`.
Paths come back relative to the workspace unless a tool reported them outside it.  Any failure
raises :class:`DependencyError`; the tagger then falls back as skaffold does.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping, Sequence
from typing import Any

from engine.core import proc
from engine.core.errors import SkrenderError
from engine.golang import doublestar, filepath

# skaffold's defaults (schema/defaults/defaults.go, build/ko/dependencies.go)
DEFAULT_PATHS = (".",)
KO_DEFAULT_PATHS = ("**/*.go",)

_BAZEL_QUERY = "kind('source file', deps('{0}')) union buildfiles(deps('{0}'))"
_BAZEL_WORKSPACE_FILES = ("WORKSPACE", "WORKSPACE.bazel", "MODULE.bazel")
_JIB_MINIMUM_VERSION = "1.4.0"  # build/jib/maven.go and gradle.go: MinimumJib*Version
_JIB_JSON = re.compile(rb"BEGIN JIB JSON\r?\n(\{.*\})")
_GRADLE_FILES = (
    "build.gradle", "build.gradle.kts", "gradle.properties", "settings.gradle",
    "gradlew", "gradlew.bat", "gradlew.cmd",
)  # fmt: skip


class DependencyError(SkrenderError):
    """An artifact's dependency list cannot be computed (skaffold then tags ``latest``)."""


# ---------------------------------------------------------------- list.Files


def list_files(workspace: str, patterns: Sequence[str], excludes: Sequence[str]) -> list[str]:
    """Files under ``workspace`` matching ``patterns`` minus ``excludes``, sorted, relative."""
    root = os.path.abspath(workspace)
    found: set[str] = set()
    for pattern in patterns:
        try:
            expanded = doublestar.glob(filepath.join(root, pattern))
        except doublestar.BadPattern as exc:
            raise DependencyError(str(exc)) from None
        except RecursionError:  # `**` follows links: a link cycle never ends (in skaffold too)
            raise DependencyError(f"pattern {proc.go_quote(pattern)}: symbolic link loop") from None
        if not expanded:
            raise DependencyError(f"pattern {proc.go_quote(pattern)} did not match any file")
        for start in expanded:
            _walk_files(root, start, excludes, found)
    return sorted(found)


def _walk_files(root: str, start: str, excludes: Sequence[str], found: set[str]) -> None:
    """skaffold ``walk.From(start).When(notExcluded).WhenIsFile()``: links are not followed."""
    try:
        info = os.lstat(start)
    except OSError as exc:
        raise DependencyError(f"walking {proc.go_quote(start)}: {_reason(exc)}") from None
    if not stat.S_ISDIR(info.st_mode):
        if not _excluded(root, start, excludes):
            found.add(os.path.relpath(start, root))
        return
    pending = [start]
    while pending:
        directory = pending.pop()
        if _excluded(root, directory, excludes):
            continue  # filepath.SkipDir: nothing below an excluded directory
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            raise DependencyError(f"walking {proc.go_quote(start)}: {_reason(exc)}") from None
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            elif not _excluded(root, entry.path, excludes):
                found.add(os.path.relpath(entry.path, root))


def _excluded(root: str, path: str, excludes: Sequence[str]) -> bool:
    rel = os.path.relpath(path, root)
    try:
        return any(doublestar.path_match(pattern, rel) for pattern in excludes)
    except doublestar.BadPattern as exc:
        raise DependencyError(str(exc)) from None


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


# ---------------------------------------------------------------- builders


def _strings(value: Any) -> list[str] | None:
    """A YAML list of strings, or None when the field is absent (null)."""
    if value is None:
        return None
    if not isinstance(value, list):
        return []
    return ["" if v is None else str(v) for v in value]


def ko_dependencies(workspace: str, ko: Mapping[str, Any]) -> list[str]:
    """``build/ko/dependencies.go``: ``**/*.go`` unless ``paths`` or ``ignore`` is given."""
    deps = ko.get("dependencies")
    deps = deps if isinstance(deps, Mapping) else {}
    paths, ignore = _strings(deps.get("paths")), _strings(deps.get("ignore"))
    if paths is None and ignore is None:
        paths, ignore = list(KO_DEFAULT_PATHS), []
    return list_files(workspace, paths or [], ignore or [])


def paths_dependencies(workspace: str, deps: Mapping[str, Any] | None) -> list[str]:
    """Buildpacks and custom ``dependencies.paths``/``ignore`` (absent: ``paths: ["."]``)."""
    if deps is None:
        return list_files(workspace, DEFAULT_PATHS, [])
    return list_files(
        workspace, _strings(deps.get("paths")) or [], _strings(deps.get("ignore")) or []
    )


def command_dependencies(workspace: str, command: str, env: Mapping[str, str]) -> list[str]:
    """``build/custom/dependencies.go``: run the command, read a JSON list of paths."""
    argv = command.split(" ")
    try:
        done = proc.run(argv, cwd=workspace, env=env)
    except SkrenderError as exc:
        raise DependencyError(
            f"getting dependencies from command: {proc.go_quote(command)}: {exc}"
        ) from None
    try:
        parsed = json.loads(done.stdout)
    except ValueError as exc:
        raise DependencyError(f"unmarshalling dependency output into string array: {exc}") from None
    if parsed is None:
        return []
    # json.Unmarshal into []string: null elements are "", anything else but strings fails
    if not isinstance(parsed, list) or not all(p is None or isinstance(p, str) for p in parsed):
        raise DependencyError(
            "unmarshalling dependency output into string array: not a list of strings"
        )
    return ["" if p is None else p for p in parsed]


# ---------------------------------------------------------------- Bazel


def bazel_dependencies(workspace: str, target: str, env: Mapping[str, str]) -> list[str]:
    """``build/bazel/dependencies.go``: the target's source files and the workspace files."""
    abs_dir = _real(os.path.abspath(workspace))
    try:
        info = proc.run(["bazel", "info", "workspace"], cwd=abs_dir, env=env)
    except SkrenderError as exc:
        raise DependencyError(
            f"unable to find the WORKSPACE file: getting bazel workspace: {exc}"
        ) from None
    bazel_root = _real(info.stdout.decode("utf-8", "replace").strip())
    workspace_files = [
        name for name in _BAZEL_WORKSPACE_FILES if os.path.exists(os.path.join(bazel_root, name))
    ]
    query = _BAZEL_QUERY.format(target)
    argv = ["bazel", "query", query, "--noimplicit_deps", "--order_output=no", "--output=label"]
    try:
        done = proc.run(argv, cwd=workspace, env=env)
    except SkrenderError as exc:
        raise DependencyError(f"getting bazel dependencies: {exc}") from None
    deps: list[str] = []
    for label in done.stdout.decode("utf-8", "replace").split("\n"):
        if not label or label.startswith(("@", "//external")):
            continue
        deps.append(os.path.relpath(os.path.join(bazel_root, _label_path(label)), abs_dir))
    deps += [os.path.relpath(os.path.join(bazel_root, name), abs_dir) for name in workspace_files]
    return deps


def _label_path(label: str) -> str:
    """``//pkg:file`` -> ``pkg/file`` (skaffold ``depToPath``)."""
    return label.removeprefix("//").replace(":", "/", 1).removeprefix("/")


def _real(path: str) -> str:
    """Go ``filepath.EvalSymlinks``: the path must exist."""
    if not os.path.lexists(path):
        raise DependencyError(f"unable to resolve symlinks in {proc.go_quote(path)}")
    return os.path.realpath(path)


# ---------------------------------------------------------------- Jib


def jib_dependencies(workspace: str, jib: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """``build/jib/jib.go`` GetDependencies: ask the Jib Maven or Gradle plugin."""
    plugin = _jib_plugin(workspace, jib, env)
    project = str(jib.get("project") or "")
    flags = _strings(jib.get("args")) or []
    if plugin == "maven":
        args = _jib_required() + flags
        args += ["--projects", project, "--also-make"] if project else ["--non-recursive"]
        args += ["jib:_skaffold-files-v2", "--quiet", "--batch-mode"]
        argv = [_wrapper(workspace, "mvnw", "mvn"), *args]
    else:
        task = f":{project}:_jibSkaffoldFilesV2" if project else ":_jibSkaffoldFilesV2"
        args = ["_skaffoldFailIfJibOutOfDate", f"-Djib.requiredVersion={_JIB_MINIMUM_VERSION}"]
        argv = [_wrapper(workspace, "gradlew", "gradle"), *args, task, "-q", "--console=plain"]
    name = "Jib Maven Plugin" if plugin == "maven" else "Jib Gradle Plugin"
    try:
        files = _jib_files(argv, workspace, env)
    except DependencyError as exc:
        raise DependencyError(
            f"could not fetch dependencies for workspace {workspace}: "
            f"{name}: initial Jib dependency refresh failed: {exc}"
        ) from None
    deps: list[str] = []
    roots = _roots(workspace)
    ignored = files.get("ignore", [])
    _jib_walk(files.get("inputs", []), ignored, roots, deps)
    _jib_walk(files.get("build", []), ignored, roots, deps)
    return sorted(deps)


def _jib_required() -> list[str]:
    return [
        "jib:_skaffold-fail-if-jib-out-of-date",
        f"-Djib.requiredVersion={_JIB_MINIMUM_VERSION}",
    ]


def _jib_plugin(workspace: str, jib: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """``DeterminePluginType``: a working JVM, then ``type``, then the build files present."""
    if not _jvm_works(env):
        why = "no working JVM available"
    elif jib.get("type") in ("maven", "gradle"):
        return str(jib["type"])
    elif any(os.path.isfile(os.path.join(workspace, f)) for f in _GRADLE_FILES):
        return "gradle"
    elif os.path.isfile(os.path.join(workspace, "pom.xml")) or os.path.isdir(
        os.path.join(workspace, ".mvn")
    ):
        return "maven"
    else:
        why = f"unable to determine Jib plugin type for {workspace}"
    raise DependencyError(f"unable to determine Jib plugin type for {workspace}: {why}")


_jvm_checked: dict[str, bool] = {}


def _jvm_works(env: Mapping[str, str]) -> bool:
    """``jib.JVMFound``: ``java -version`` succeeds (checked once per PATH)."""
    path = env.get("PATH", "")
    if path not in _jvm_checked:
        try:
            proc.run(["java", "-version"], env=env)
            _jvm_checked[path] = True
        except SkrenderError:
            _jvm_checked[path] = False
    return _jvm_checked[path]


def _wrapper(workspace: str, wrapper: str, executable: str) -> str:
    """``util.CommandWrapper``: the project's wrapper script when it has one."""
    candidate = os.path.abspath(os.path.join(workspace, wrapper))
    return candidate if os.path.isfile(candidate) else executable


def _jib_files(argv: Sequence[str], workspace: str, env: Mapping[str, str]) -> dict[str, list[str]]:
    try:
        done = proc.run(argv, cwd=workspace, env=env)
    except SkrenderError as exc:
        raise DependencyError(f"failed to get Jib dependencies: {exc}") from None
    match = _JIB_JSON.search(done.stdout)
    if match is None:
        raise DependencyError("failed to get Jib dependencies")
    # skaffold doubles every backslash before decoding (Windows paths in the plugin's JSON).
    line = match.group(1).replace(b"\\", b"\\\\")
    try:
        parsed = json.loads(line)
    except ValueError as exc:
        raise DependencyError(f"failed to get Jib dependencies: {exc}") from None
    if not isinstance(parsed, dict):
        raise DependencyError("failed to get Jib dependencies")
    return {key: _strings(parsed.get(key)) or [] for key in ("build", "inputs", "ignore")}


def _roots(workspace: str) -> list[str]:
    """``calculateRoots``: the absolute workspace, its symlink-free form first if different."""
    path = os.path.abspath(workspace)
    canonical = _real(path)
    return [path] if canonical == path else [canonical, path]


def _jib_walk(
    watched: Sequence[str], ignored: Sequence[str], roots: Sequence[str], out: list[str]
) -> None:
    """``walkFiles``: files as they are, directories walked; ignored prefixes left out."""
    for dep in watched:
        if _ignored(dep, ignored):
            continue
        try:
            info = os.stat(dep)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DependencyError(f"unable to stat file {proc.go_quote(dep)}: {exc}") from None
        if not stat.S_ISDIR(info.st_mode):
            out.append(_relativize(dep, roots))
            continue
        pending = [dep]
        while pending:
            directory = pending.pop()
            if _ignored(directory, ignored):
                continue
            try:
                entries = list(os.scandir(directory))
            except OSError as exc:
                raise DependencyError(f"filepath walk: {exc}") from None
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif not _ignored(entry.path, ignored) and os.path.exists(entry.path):
                    out.append(_relativize(entry.path, roots))


def _ignored(path: str, ignored: Sequence[str]) -> bool:
    return any(path.startswith(prefix) for prefix in ignored)


def _relativize(path: str, roots: Sequence[str]) -> str:
    if not os.path.isabs(path):
        return path
    for root in roots:
        rel = os.path.relpath(path, root)
        if not rel.startswith("../"):
            return rel
    return path
