"""Render lifecycle hooks: ``manifests.hooks.before`` / ``after`` (host hooks only).

skaffold (``pkg/skaffold/render/renderer/render_mux.go``) runs every config's pre-render hooks
before any renderer, then, per config that produced documents, its post-render hooks on that
config's documents.  A host hook (``pkg/skaffold/hooks/host.go``) runs ``command`` in ``dir``
with ``SKAFFOLD_*`` variables (``env.go``) before the process environment, and its stdout and
stderr go to one writer, in the order written:

* pre-render hooks: skaffold's stdout (before the manifests, also with ``--output``);
* post-render hooks: the log (stderr), or, with ``withChange: true``, a buffer whose content
  replaces the config's documents (``hooks/render.go``: ``RunPostHooks``).

``Starting ... hooks...`` / ``Completed ... hooks`` lines go to the log.  Render hooks have no
``container:`` form (the schema rejects it at load time); an item without ``host`` is skipped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from engine.core.errors import ToolError
from engine.golang import unicode
from engine.skaffold.schema import Config

# Go's syscall.Signal strings (linux), for "signal: <name>" failures (os/exec ExitError)
_SIGNAL_NAMES = {
    1: "hangup",
    2: "interrupt",
    3: "quit",
    4: "illegal instruction",
    5: "trace/breakpoint trap",
    6: "aborted",
    7: "bus error",
    8: "floating point exception",
    9: "killed",
    10: "user defined signal 1",
    11: "segmentation fault",
    12: "user defined signal 2",
    13: "broken pipe",
    14: "alarm clock",
    15: "terminated",
}


EMPTY_CHANGE = (
    "the length of stdout should be greater than 0 when using render post hook with change"
)
LOAD_FAILED = "failed to load manifest"


class HookError(ToolError):
    """A render hook failed (or its output could not be read back as manifests).

    ``partial`` is set by :func:`engine.pipeline.render` to a RenderResult holding what skaffold
    had already written (build log, notices, pre-hook output) when the hook failed.
    """

    partial: Any = None
    output: bytes = b""  # what the failed hook had written (stdout and stderr)


def go_os() -> str:
    """runtime.GOOS of this machine (what ``os:`` lists are matched against)."""
    platform = sys.platform
    if platform.startswith("linux"):
        return "linux"
    if platform in ("win32", "cygwin"):
        return "windows"
    for name in ("darwin", "freebsd", "openbsd", "netbsd", "aix"):
        if platform.startswith(name):
            return name
    return platform


class HookRunner:
    """Runs the render hooks of the selected configs with skaffold's environment.

    ``namespace`` is the ``-n`` value; ``default_repo`` the ``-d`` value as given (None: not
    given; skaffold exports SKAFFOLD_DEFAULT_REPO only for the flag, not the global config).
    """

    def __init__(
        self,
        configs: Sequence[Config],
        *,
        cwd: str,
        env: Mapping[str, str],
        kube_context: str,
        namespace: str = "",
        default_repo: str | None = None,
        allow_commands: bool = True,
    ) -> None:
        self.configs = tuple(configs)
        self.cwd = cwd
        self.env = env
        self.kube_context = kube_context
        self.namespace = namespace
        self.default_repo = default_repo
        self.allow_commands = allow_commands
        self._hook_env: dict[str, str] | None = None

    def run_pre_hooks(self, out: list[str], log: list[str]) -> None:
        """Every config's pre-render hooks in config order (render_mux.go).

        Hook output (stdout and stderr) is appended to ``out`` (skaffold's stdout), the
        start/end lines to ``log`` (stderr); both are filled as far as they got on failure.
        """
        for cfg in self.configs:
            items = _items(cfg, "before")
            if not items:
                continue
            log.append("Starting pre-render hooks...\n")
            for index, item in enumerate(items):
                host = _host(item)
                if host is None or not self._selected(host):
                    continue
                field = f"manifests.hooks.before[{index}]"
                try:
                    output = self._run(cfg, field, host, stdin=None)
                except HookError as exc:
                    out.append(_text(exc.output))  # skaffold streams it before failing
                    raise
                out.append(_text(output))
            log.append("Completed pre-render hooks...\n")

    def run_post_hooks(self, config: Config, text: str, log: list[str]) -> str:
        """One config's post-render hooks on its documents ``text`` (joined by ``\\n---\\n``).

        Returns the config's documents as skaffold prints them: re-split by ``manifest.Load``
        and re-joined (each trimmed) even without hooks, replaced by a ``withChange`` hook's
        output.  Other hooks' output is appended to ``log``.
        """
        docs = load_documents(_bytes(text), config, "documents")
        items = _items(config, "after")
        if items:
            log.append("Starting post-render hooks...\n")
        for index, item in enumerate(items):
            host = _host(item)
            if host is None or not self._selected(host):
                continue
            field = f"manifests.hooks.after[{index}]"
            with_change = host.get("withChange") is True
            try:
                output = self._run(config, field, host, stdin=join_documents(docs))
            except HookError as exc:
                if not with_change:  # streamed to the log; a withChange buffer is dropped
                    log.append(_text(exc.output))
                raise
            if with_change:
                if not output:
                    raise HookError(f"{EMPTY_CHANGE} ({_where(config, field)})")
                docs = load_documents(output, config, field)
            else:
                log.append(_text(output))
        if items:
            log.append("Completed post-render hooks\n")
        return _text(join_documents(docs))

    def _selected(self, host: Mapping[str, Any]) -> bool:
        """host.go: a hook with an ``os`` list runs only on a listed runtime.GOOS."""
        wanted = host.get("os") or []
        return not wanted or go_os() in [str(name) for name in wanted]

    def _run(
        self, config: Config, field: str, host: Mapping[str, Any], *, stdin: bytes | None
    ) -> bytes:
        """Run one host hook; its combined output, or HookError worded like skaffold's."""
        from engine.core import proc

        argv = [_go_string(part) for part in host.get("command") or []]
        if not argv:
            raise HookError(f"required value not set: command ({_where(config, field)})")
        where = _where(config, field)
        env = {**self._environment(), **self.env}  # os.Environ() after: it wins (exec dedup)
        _check_executable(argv[0], env, where)
        directory = _go_string(host.get("dir") or "")
        cwd = os.path.join(self.cwd, directory) if directory else self.cwd
        if directory:
            try:
                os.stat(cwd)
            except OSError as exc:
                raise HookError(
                    f"starting cmd: chdir {directory}: {_reason(exc)} ({where})"
                ) from None
        try:
            done = proc.run_combined(argv, cwd=cwd, env=env, stdin=stdin)
        except OSError as exc:
            raise HookError(
                f"starting cmd: fork/exec {argv[0]}: {_reason(exc)} ({where})"
            ) from None
        if done.returncode == 0:
            return done.stdout
        if done.returncode > 0:
            error = HookError(f"exit status {done.returncode} ({where})", done.returncode)
        else:
            signal = -done.returncode
            name = _SIGNAL_NAMES.get(signal, f"signal {signal}")
            # ExitError.ExitCode() is -1 for a signal: skaffold then exits with 255
            error = HookError(f"signal: {name} ({where})", 255)
        error.output = done.stdout
        raise error

    def _environment(self) -> dict[str, str]:
        """env.go: staticEnvOpts then RenderEnvOpts, as SKAFFOLD_* variables (computed once).

        MultiLevelRepo and the RPC ports are never set for render, so they are absent.
        """
        if self._hook_env is None:
            env: dict[str, str] = {}
            if self.default_repo is not None:
                env["SKAFFOLD_DEFAULT_REPO"] = self.default_repo
            env["SKAFFOLD_WORK_DIR"] = self.cwd
            env["SKAFFOLD_KUBE_CONTEXT"] = self.kube_context
            env["SKAFFOLD_NAMESPACES"] = self._namespaces()
            self._hook_env = env
        return self._hook_env

    def _namespaces(self) -> str:
        """runcontext.GetNamespace: -n, else the last deploy.kubectl.defaultNamespace
        (env-template expanded; "" on a template error), else kubectl's current namespace."""
        if self.namespace:
            return self.namespace
        default = ""
        for cfg in self.configs:
            deploy = cfg.raw.get("deploy")
            kubectl = deploy.get("kubectl") if isinstance(deploy, Mapping) else None
            value = kubectl.get("defaultNamespace") if isinstance(kubectl, Mapping) else None
            if value is not None:
                default = _go_string(value)
        if default:
            return self._expand(default)
        return self._kubectl_namespace()

    def _expand(self, text: str) -> str:
        if "{{" not in text:
            return text
        from engine.core.errors import SkrenderError
        from engine.golang import texttemplate

        try:
            expanded: str = texttemplate.expand(
                text, self.env, name="envTemplate", allow_commands=self.allow_commands
            )
        except SkrenderError:
            return ""
        return expanded

    def _kubectl_namespace(self) -> str:
        """``kubectl config view --minify -o jsonpath='{..namespace}'``; "" when it fails."""
        from engine.core import proc

        argv = ["kubectl", "config", "view", "--minify", "-o", "jsonpath='{..namespace}'"]
        try:
            done = proc.run(argv, cwd=self.cwd, env=self.env, check=False)
        except ToolError:
            return ""
        if done.returncode != 0:
            return ""
        return done.stdout.decode("utf-8", "surrogateescape").strip("'")


def load_documents(data: bytes, config: Config | None = None, field: str = "") -> list[bytes]:
    """``manifest.Load``: split a stream the way apimachinery's YAMLReader does.

    Lines end in ``\\n`` (``\\r\\n`` becomes ``\\n``, a last line without one gets one); a line
    starting with ``---`` ends the current document, and is dropped, unless nothing precedes
    it in that document (then it is kept as content: the reader only flushes a non-empty
    buffer); text after ``---`` other than spaces or a ``#`` comment fails, which skaffold
    reports as ``failed to load manifest``.
    """
    docs: list[bytes] = []
    buffer = bytearray()
    for line in _lines(data):
        if line.startswith(b"---"):
            rest = line[3:].decode("utf-8", "replace").strip(unicode.SPACE)
            if rest and not rest.startswith("#"):
                where = f" ({_where(config, field)})" if config is not None else ""
                raise HookError(LOAD_FAILED + where)
            if buffer:
                docs.append(bytes(buffer))
                buffer.clear()
                continue
        buffer += line
    if buffer:
        docs.append(bytes(buffer))
    return docs


def join_documents(docs: Sequence[bytes]) -> bytes:
    """``ManifestList.String``: each document whitespace-trimmed, joined by ``\\n---\\n``."""
    return b"\n---\n".join(_trim_space(doc) for doc in docs)


def _lines(data: bytes) -> list[bytes]:
    """bufio.Reader.ReadLine + "\\n", as apimachinery's LineReader returns lines."""
    lines = data.split(b"\n")
    last = lines.pop()  # after the final newline: b"" or a line without one
    # ReadLine drops "\r\n" but keeps a "\r" that no "\n" follows
    result = [line[:-1] + b"\n" if line.endswith(b"\r") else line + b"\n" for line in lines]
    if last:
        result.append(last + b"\n")
    return result


def _trim_space(data: bytes) -> bytes:
    """bytes.TrimSpace (ASCII fast path; Unicode spaces only where the text holds any)."""
    trimmed = data.strip(b" \t\n\v\f\r")
    if trimmed.isascii():
        return trimmed
    return _bytes(_text(trimmed).strip(unicode.SPACE))


def _items(config: Config, phase: str) -> list[Any]:
    hooks = config.manifests.hooks
    if not hooks:
        return []
    items = hooks.get(phase)
    return list(items) if isinstance(items, list | tuple) else []


def _host(item: Any) -> Mapping[str, Any] | None:
    """The item's ``host`` hook; None for an item without one (skaffold skips it)."""
    host = item.get("host") if isinstance(item, Mapping) else None
    return host if isinstance(host, Mapping) else None


def _check_executable(name: str, env: Mapping[str, str], where: str) -> None:
    """exec.Command looks a bare name up in $PATH before starting (os/exec LookPath)."""
    if os.sep in name:
        return
    from engine.core import proc

    if proc.which(name, path=env.get("PATH", "")) is None:
        raise HookError(
            f'starting cmd: exec: "{name}": executable file not found in $PATH ({where})'
        )


def _where(config: Config | None, field: str) -> str:
    if config is None:
        return field
    return f"{field} of {config.display_name} in {config.source_file}"


def _reason(exc: OSError) -> str:
    """Go's lower-case errno text ("no such file or directory")."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _go_string(value: Any) -> str:
    """A YAML scalar decoded into a Go string field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")
