"""A content-addressed cache of kustomize output, safe to share between runs.

An entry is keyed by a hash of everything one ``kustomize build`` reads: its argv, the
working directory, the identity of the kustomize executable (path, size, mtime: a new
binary means a new key, without paying for a ``version`` subprocess), and the bytes of every
local file the kustomization tree references (kustomization files, resources, bases,
components, patches, generator sources, ...).  Anything the walk cannot vouch for disables
the cache for that build: a remote resource (URL, git), a missing path, helm charts,
plugins, an unknown kustomization field or build flag.  Only successful builds are stored;
entries are written atomically, so a reader sees a whole entry or none.

Layout under the cache directory::

    kustomize/v1/out/<2 hex>/<key>       kustomize stdout, byte for byte
    kustomize/v1/deps/<2 hex>/<key>.json the paths one kustomization file references
    config/v1/<code stamp>/<2 hex>/<key>.json  a parsed skaffold.yaml (:class:`ConfigStore`)
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.core import proc
from engine.gitops import cachedirs

_LAYOUT = "kustomize/v1"
# Parsed kustomization files kept per build kept (an overlay, its bases, their components)
DEPS_PER_BUILD = 4
_KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

# Fields that hold nothing but inline data.
_INLINE_FIELDS = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "namePrefix",
        "nameSuffix",
        "namespace",
        "commonLabels",
        "labels",
        "commonAnnotations",
        "images",
        "replicas",
        "vars",
        "sortOptions",
        "buildMetadata",
        "generatorOptions",
    }
)
# Fields listing paths: directories are kustomizations (recursed), files are hashed.
_PATH_LIST_FIELDS = frozenset(
    {"resources", "bases", "components", "crds", "configurations", "patchesStrategicMerge"}
)
# Fields listing plugin configurations (a file, a kustomization directory or inline YAML).
_PLUGIN_FIELDS = frozenset({"generators", "transformers", "validators"})
# Fields of objects holding a ``path``.
_OBJECT_PATH_FIELDS = frozenset({"patches", "patchesJson6902", "replacements"})
_GENERATOR_FIELDS = frozenset({"configMapGenerator", "secretGenerator"})
# Plugin configs naming any of these keys read more files (or the network): not cacheable.
_PLUGIN_FILE_KEYS = frozenset(
    {"path", "paths", "files", "envs", "env", "chartHome", "repo", "valuesFile", "exec", "url"}
)
# kustomize build flags that cannot make a build read anything the walk does not see.
_SAFE_FLAGS = frozenset(
    {
        "--load-restrictor",
        "--load_restrictor",
        "--reorder",
        "--stack-trace",
        "--enable-managedby-label",
        "--as-current-user",
    }
)
_FLAGS_WITH_VALUE = frozenset({"--load-restrictor", "--load_restrictor", "--reorder"})


class Uncacheable(Exception):
    """The build reads something the walk cannot hash (the reason is the message)."""


@dataclass
class CacheStats:
    """What a :class:`KustomizeCache` did during this process."""

    hits: int = 0
    misses: int = 0
    uncacheable: int = 0
    reasons: dict[str, str] = field(default_factory=dict)  # path -> why it was not cached


class KustomizeCache:
    """Runs kustomize through a content-addressed cache and a concurrency limit.

    ``runner(argv, cwd=..., env=...)`` has the signature of ``engine.stages.sources.run_kustomize``
    and returns the same bytes on a hit as on a miss.  ``directory`` None disables storage
    (the concurrency limit still applies).  ``jobs`` bounds concurrent kustomize processes.
    """

    def __init__(self, directory: str | None, *, jobs: int = 0, slots: Any = None) -> None:
        self.directory = os.path.join(directory, _LAYOUT) if directory else None
        self.stats = CacheStats()
        # ``slots``: a semaphore shared with other processes (bulk's forked workers)
        self._slots: Any = slots or threading.BoundedSemaphore(max(1, jobs or os.cpu_count() or 1))
        self._lock = threading.Lock()
        self._binaries: dict[tuple[str, str], str] = {}
        self._deps_memo: dict[tuple[str, str], list[tuple[str, str]]] = {}

    # -- the runner

    def runner(self, argv: Sequence[str], *, cwd: str, env: Mapping[str, str] | None) -> bytes:
        """kustomize's stdout for ``argv``: from the cache when its inputs are unchanged."""
        return self.run(argv, cwd=cwd, env=env)[0]

    def run(
        self, argv: Sequence[str], *, cwd: str, env: Mapping[str, str] | None
    ) -> tuple[bytes, str]:
        """(stdout, how): ``how`` is ``hit``, ``miss`` (run and stored) or ``uncached``."""
        key: str | None = None
        if self.directory is not None:
            try:
                key = self.key(argv, cwd=cwd, env=env)
            except Uncacheable as exc:
                with self._lock:
                    self.stats.uncacheable += 1
                    self.stats.reasons[argv[-1] if argv else cwd] = str(exc)
        if key is not None:
            cached = self._read(key)
            if cached is not None:
                with self._lock:
                    self.stats.hits += 1
                return cached, "hit"
        with self._slots:
            out = proc.run(argv, cwd=cwd, env=env).stdout
        if key is None:
            return out, "uncached"
        with self._lock:
            self.stats.misses += 1
        self._write(key, out)
        return out, "miss"

    # -- keys

    def key(self, argv: Sequence[str], *, cwd: str, env: Mapping[str, str] | None) -> str:
        """The content hash of one build; raises :class:`Uncacheable` when there is none."""
        path = _build_path(argv)
        target = path if os.path.isabs(path) else os.path.join(cwd, path)
        digest = hashlib.sha256()
        for part in ("argv", *argv, "cwd", cwd, "binary", self._binary_id(argv[0], env)):
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        for name, content_hash in self.inputs(target):
            digest.update(f"{name}\0{content_hash}\0".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def inputs(self, kustomization_dir: str) -> list[tuple[str, str]]:
        """(path, sha256 of its bytes) of every local file the kustomization tree reads.

        Raises :class:`Uncacheable` when the tree reads anything else.
        """
        found: dict[str, str] = {}
        self._walk_dir(os.path.normpath(kustomization_dir), found, set())
        return sorted(found.items())

    def _binary_id(self, name: str, env: Mapping[str, str] | None) -> str:
        search = (env or os.environ).get("PATH", os.environ.get("PATH"))
        memo_key = (name, search or "")
        with self._lock:
            known = self._binaries.get(memo_key)
        if known is not None:
            return known
        resolved = proc.which(name, search)
        if resolved is None:
            raise Uncacheable(f"{name}: not found on PATH")
        real = os.path.realpath(resolved)
        st = os.stat(real)
        ident = f"{real}:{st.st_size}:{st.st_mtime_ns}"
        with self._lock:
            self._binaries[memo_key] = ident
        return ident

    # -- the walk

    def _walk_dir(self, directory: str, found: dict[str, str], stack: set[str]) -> None:
        if directory in stack:
            raise Uncacheable(f"{directory}: kustomization cycle")
        kfile = _kustomization_file(directory)
        if kfile is None:
            raise Uncacheable(f"{directory}: no kustomization file")
        data = _read_bytes(kfile)
        content_hash = hashlib.sha256(data).hexdigest()
        found[kfile] = content_hash
        stack.add(directory)
        try:
            for kind, rel in self._deps(kfile, data, content_hash):
                self._visit(kind, os.path.normpath(os.path.join(directory, rel)), found, stack)
        finally:
            stack.discard(directory)

    def _visit(self, kind: str, path: str, found: dict[str, str], stack: set[str]) -> None:
        if os.path.isdir(path):
            if kind == "file":
                raise Uncacheable(f"{path}: a directory where a file is expected")
            self._walk_dir(path, found, stack)
        elif os.path.isfile(path):
            if kind == "plugin":
                _check_plugin_config(path)
            if path not in found:
                found[path] = hashlib.sha256(_read_bytes(path)).hexdigest()
        else:
            # kustomize would try it as a remote target (or fail): nothing local to hash
            raise Uncacheable(f"{path}: not a local file or directory")

    def _deps(self, kfile: str, data: bytes, content_hash: str) -> list[tuple[str, str]]:
        """(kind, relative path) referenced by one kustomization file, memoised by content."""
        memo_key = (kfile, content_hash)
        with self._lock:
            known = self._deps_memo.get(memo_key)
        if known is not None:
            return known
        deps = self._load_deps(memo_key)
        if deps is None:
            deps = kustomization_deps(data, kfile)
            self._store_deps(memo_key, deps)
        with self._lock:
            self._deps_memo[memo_key] = deps
        return deps

    def _deps_path(self, memo_key: tuple[str, str]) -> str | None:
        if self.directory is None:
            return None
        name = hashlib.sha256("\0".join(memo_key).encode("utf-8", "surrogateescape")).hexdigest()
        return os.path.join(self.directory, "deps", name[:2], name + ".json")

    def _load_deps(self, memo_key: tuple[str, str]) -> list[tuple[str, str]] | None:
        path = self._deps_path(memo_key)
        if path is None:
            return None
        try:
            with open(path, encoding="utf-8") as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            return None
        cachedirs.touch(path)  # a hit is a use: trim() keeps what runs use
        if not isinstance(record, dict):
            return None
        if record.get("uncacheable"):
            raise Uncacheable(str(record["uncacheable"]))
        deps = record.get("deps")
        if not isinstance(deps, list):
            return None
        return [(str(kind), str(rel)) for kind, rel in deps]

    def _store_deps(self, memo_key: tuple[str, str], deps: list[tuple[str, str]]) -> None:
        path = self._deps_path(memo_key)
        if path is not None:
            _store(path, json.dumps({"deps": deps}).encode("utf-8"))

    # -- entries

    def _entry_path(self, key: str) -> str:
        assert self.directory is not None
        return os.path.join(self.directory, "out", key[:2], key)

    def trim(self, keep: int) -> int:
        """Delete all but the ``keep`` most recently used builds (and the most recently used
        parsed kustomization files, a few per build); returns how many builds went."""
        if self.directory is None:
            return 0
        cachedirs.keep_recent(os.path.join(self.directory, "deps"), DEPS_PER_BUILD * keep)
        return cachedirs.keep_recent(os.path.join(self.directory, "out"), keep)

    def _read(self, key: str) -> bytes | None:
        path = self._entry_path(key)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        cachedirs.touch(path)  # a hit is a use: trim() keeps what runs use
        return data

    def _write(self, key: str, data: bytes) -> None:
        _store(self._entry_path(key), data)


def kustomization_deps(data: bytes, source: str) -> list[tuple[str, str]]:
    """(kind, relative path) for every local path a kustomization file references.

    kind is ``any`` (a directory is a kustomization, a file is read), ``file`` or ``plugin``
    (a plugin configuration file, checked for further file references).  Raises
    :class:`Uncacheable` for anything that cannot be hashed.
    """
    from engine import yamlv3
    from engine.core.errors import SkrenderError

    try:
        docs = yamlv3.load_all(data, source=source)
    except SkrenderError as exc:
        raise Uncacheable(f"{source}: {exc}") from None
    doc = docs[0] if docs else None
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise Uncacheable(f"{source}: not a mapping")
    deps: list[tuple[str, str]] = []
    for name, value in doc.items():
        deps.extend(_field_deps(str(name), value, source))
    return deps


def _field_deps(name: str, value: object, source: str) -> list[tuple[str, str]]:
    if name in _INLINE_FIELDS or value is None:
        return []
    if name in _PATH_LIST_FIELDS:
        # patchesStrategicMerge entries may be inline patches: those are in the file's bytes
        return [("any", e) for e in _strings(value, name, source) if "\n" not in e]
    if name in _PLUGIN_FIELDS:
        return [("plugin", e) for e in _strings(value, name, source) if "\n" not in e]
    if name in _OBJECT_PATH_FIELDS:
        return [("file", p) for p in _object_paths(value, name, source)]
    if name in _GENERATOR_FIELDS:
        return [("file", p) for p in _generator_files(value, name, source)]
    if name == "openapi":
        if isinstance(value, dict) and set(value) <= {"path", "version"}:
            path = value.get("path")
            return [("file", str(path))] if path else []
        raise Uncacheable(f"{source}: openapi: unsupported form")
    # helmCharts, helmGlobals, unknown fields: not something the walk can vouch for
    raise Uncacheable(f"{source}: {name}: not cacheable")


def _strings(value: object, name: str, source: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Uncacheable(f"{source}: {name}: expected a list of strings")
    return [str(v) for v in value]


def _object_paths(value: object, name: str, source: str) -> list[str]:
    if not isinstance(value, list):
        raise Uncacheable(f"{source}: {name}: expected a list")
    paths: list[str] = []
    for item in value:
        if not isinstance(item, dict):
            raise Uncacheable(f"{source}: {name}: expected mappings")
        path = item.get("path")
        if path:
            paths.append(str(path))
    return paths


def _generator_files(value: object, name: str, source: str) -> list[str]:
    if not isinstance(value, list):
        raise Uncacheable(f"{source}: {name}: expected a list")
    paths: list[str] = []
    for item in value:
        if not isinstance(item, dict):
            raise Uncacheable(f"{source}: {name}: expected mappings")
        for entry in item.get("files") or []:
            # "key=path" or "path"
            paths.append(str(entry).split("=", 1)[-1])
        paths.extend(str(entry) for entry in item.get("envs") or [])
        if item.get("env"):
            paths.append(str(item["env"]))
    return paths


def _check_plugin_config(path: str) -> None:
    """A plugin configuration that names more files (or a chart, or an executable) is not
    cacheable: which files it reads depends on the plugin."""
    from engine import yamlv3
    from engine.core.errors import SkrenderError

    try:
        docs = yamlv3.load_all(_read_bytes(path), source=path)
    except SkrenderError as exc:
        raise Uncacheable(f"{path}: {exc}") from None
    for doc in docs:
        if _mentions_file_keys(doc):
            raise Uncacheable(f"{path}: plugin configuration reads other files")


def _mentions_file_keys(value: object) -> bool:
    if isinstance(value, dict):
        return any(str(k) in _PLUGIN_FILE_KEYS or _mentions_file_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions_file_keys(v) for v in value)
    return False


def _build_path(argv: Sequence[str]) -> str:
    """The kustomization path of a ``kustomize build``/``kubectl kustomize`` argv; raises
    :class:`Uncacheable` for any flag that could make it read more than the walk sees."""
    # kubectl kustomize ARGS, or kustomize build ARGS
    if len(argv) >= 2 and argv[1] in ("kustomize", "build"):
        args = list(argv[2:])
    else:
        raise Uncacheable(f"{' '.join(argv)}: not a kustomize build")
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-"):
            flag = arg.split("=", 1)[0]
            if flag not in _SAFE_FLAGS:
                raise Uncacheable(f"{arg}: build flag not cacheable")
            if flag in _FLAGS_WITH_VALUE and "=" not in arg:
                i += 1
        else:
            positional.append(arg)
        i += 1
    if len(positional) != 1:
        raise Uncacheable(f"{' '.join(argv)}: expected one kustomization path")
    path = positional[0]
    if "://" in path or path.startswith("git@"):
        raise Uncacheable(f"{path}: remote kustomization")
    return path


def _kustomization_file(directory: str) -> str | None:
    found = [
        os.path.join(directory, name)
        for name in _KUSTOMIZATION_NAMES
        if os.path.isfile(os.path.join(directory, name))
    ]
    if len(found) > 1:
        # kustomize refuses several kustomization files: leave that error to kustomize
        raise Uncacheable(f"{directory}: more than one kustomization file")
    return found[0] if found else None


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise Uncacheable(f"{path}: {exc.strerror}") from None


def _store(path: str, data: bytes) -> None:
    """Write a cache file atomically; a cache that cannot be written is merely not used."""
    from engine.core.errors import SkrenderError
    from engine.core.output import write_atomic

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, data)
    except (OSError, SkrenderError):
        pass


class ConfigStore:
    """Parsed skaffold configs (``engine.skaffold.config.parse_file`` results) that survive runs.

    Parsing an old apiVersion means upgrading it through every later schema, the largest
    part of loading a config; a warm bulk run reads the result instead.  An entry is keyed by
    the file's path and content hash and filed under a stamp of skrender's own source code,
    so a changed file or a changed skrender never reads an old entry.  Only plain data is
    stored (string keys; strings, numbers, booleans, null): anything else (a YAML timestamp,
    a non-string map key) is parsed each run, as JSON could not return it unchanged.
    """

    def __init__(self, directory: str) -> None:
        self.root = os.path.join(directory, "config", "v1")
        self.directory = os.path.join(self.root, _code_stamp())

    def prune(self) -> None:
        """Remove the entries of other skrender code (other stamps): never read again."""
        cachedirs.remove_other_stamps(self.root, os.path.basename(self.directory))

    def trim(self, keep: int) -> int:
        """Delete all but the ``keep`` most recently used parses; returns how many went."""
        return cachedirs.keep_recent(self.directory, keep)

    def _path(self, path: str, digest: bytes) -> str:
        key = hashlib.sha256(path.encode("utf-8", "surrogateescape") + b"\0" + digest).hexdigest()
        return os.path.join(self.directory, key[:2], key + ".json")

    def get(self, path: str, digest: bytes) -> list[tuple[str, dict[str, Any]]] | None:
        """The stored parse of this content, or None (missing or unreadable entry)."""
        entry = self._path(path, digest)
        try:
            with open(entry, encoding="utf-8") as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            return None
        cachedirs.touch(entry)  # a hit is a use: trim() keeps what runs use
        if not isinstance(record, list) or not all(
            isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and isinstance(e[1], dict)
            for e in record
        ):
            return None
        return [(version, doc) for version, doc in record]

    def put(self, path: str, digest: bytes, parsed: list[tuple[str, dict[str, Any]]]) -> None:
        """Store a parse made of plain data; anything else is not stored."""
        if all(_plain(doc) for _, doc in parsed):
            data = json.dumps([[v, d] for v, d in parsed], ensure_ascii=False, allow_nan=True)
            _store(self._path(path, digest), data.encode("utf-8"))


def _plain(value: object) -> bool:
    """JSON returns exactly this value: str keys; str, int, float, bool, None leaves."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


_stamp: list[str] = []


def code_stamp() -> str:
    """A hash of skrender's Python sources (computed once per process)."""
    return _code_stamp()


def _code_stamp() -> str:
    """A hash of skrender's Python sources: entries written by other code are never read."""
    if not _stamp:
        package = os.path.dirname(os.path.abspath(__file__))
        digest = hashlib.sha256()
        for directory, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(f for f in files if f.endswith(".py")):
                path = os.path.join(directory, name)
                digest.update(os.path.relpath(path, package).encode("utf-8") + b"\0")
                with open(path, "rb") as handle:
                    digest.update(hashlib.sha256(handle.read()).digest())
        _stamp.append(digest.hexdigest()[:24])
    return _stamp[0]


def default_cache_dir(env: Mapping[str, str] | None = None) -> str:
    """$XDG_CACHE_HOME/skrender, else ~/.cache/skrender."""
    environ = os.environ if env is None else env
    base = environ.get("XDG_CACHE_HOME") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".cache"
    )
    return os.path.join(base, "skrender")
