"""The `helm` binary engine: helm on PATH, run exactly as skaffold runs it.

``pkg/skaffold/helm/bin.go``: ``helm version`` decides the post-renderer.  Before Helm
4.0.0-beta.1 it is ``--post-renderer <executable>`` (Helm 3: applied to the manifests only);
from then on a ``postrenderer/v1`` plugin is installed (``helm plugin install``) and named by
``--post-renderer <plugin>`` (Helm 4: manifests and hooks).  Either way the executable is
skrender itself playing ``skaffold filter``: run without arguments, it reads its command line
from ``SKAFFOLD_CMDLINE`` (``PrepareSkaffoldFilter``), as skaffold's own binary does.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from engine.core.errors import HelmError, ToolError
from engine.stages.helm_releases import Context, Flags, command_args

# bin.go VersionRegex / Helm4PostRendererVersion
_VERSION = re.compile(r"v?(\d[\w.\-]+)")
_HELM4 = (4, 0, 0, ("beta", 1))

# bin.go PostRendererTemplate
_PLUGIN_YAML = """
name: "{name}"
version: "0.1.0"
type: postrenderer/v1
apiVersion: v1
runtime: subprocess
runtimeConfig:
  platformCommand:
    - command: {command}
"""


def parse_version(output: str) -> tuple[Any, ...]:
    """``BinVer``: the first version-looking word, as ``semver.ParseTolerant`` reads it."""
    found = _VERSION.search(output)
    if found is None:
        raise HelmError(f"failed to determine binary version: unable to parse output: {output!r}")
    text = found.group(1)
    core, _, pre = text.partition("-")
    core = core.split("+", 1)[0]
    parts = [int(p) if p.isdigit() else 0 for p in core.split(".")[:3]]
    parts += [0] * (3 - len(parts))
    prerelease: tuple[Any, ...] = tuple(
        int(p) if p.isdigit() else p for p in pre.split("+", 1)[0].split(".") if p
    )
    return (*parts, prerelease)


def is_helm4(version: tuple[Any, ...]) -> bool:
    """``!helmVersion.LT(Helm4PostRendererVersion)``; a release sorts after its pre-releases."""

    def key(v: tuple[Any, ...]) -> tuple[Any, ...]:
        pre = v[3]
        # semver: numeric identifiers sort before alphanumeric ones
        ids = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in pre)
        return (v[0], v[1], v[2], 0 if pre else 1, ids)

    return key(version) >= key(_HELM4)


class BinaryEngine:
    """`helm` commands run as subprocesses, with skrender's filter as the post-renderer."""

    def __init__(self, ctx: Context, manifest_overrides: Mapping[str, str], flags: Flags) -> None:
        self.ctx = ctx
        self.manifest_overrides = manifest_overrides
        self.flags = flags  # the renderer's: global flags go on every helm command
        self.version = ""
        self.post_renderer_args: tuple[str, ...] = ()
        self._env = dict(ctx.env)
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._plugin: str | None = None

    def __enter__(self) -> BinaryEngine:
        out = self._exec(["version"], check=False)
        if out.returncode != 0:
            raise HelmError(
                "failed to determine binary version: helm version command failed "
                f"{_text(out.stdout + out.stderr)!r}"
            )
        version = parse_version(_text(out.stdout))
        self.version = ".".join(str(p) for p in version[:3])
        if not self.ctx.builds:
            return self  # helm.go: no artifacts, no post-renderer
        self._scratch = tempfile.TemporaryDirectory(prefix="skrender-helm-")
        try:
            self._prepare_filter(self._scratch.name)
            executable = self._filter_executable(self._scratch.name)
            if not is_helm4(version):
                self.post_renderer_args = ("--post-renderer", executable)
            else:
                self._install_plugin(executable)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._plugin is not None:
            uninstall = command_args(["plugin", "uninstall", self._plugin], self.flags, self.ctx)
            self._exec(uninstall, check=False)
            self._plugin = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def run(self, argv: Sequence[str]) -> str:
        done = self._exec(argv, check=False)
        if done.returncode != 0:
            raise HelmError(
                f"{_text(done.stdout)} {_text(done.stderr)}".strip() + f" (args={list(argv)})"
            )
        return _text(done.stdout)

    # -- skaffold filter as the post-renderer --------------------------------------------------

    def _prepare_filter(self, scratch: str) -> None:
        """bin.go PrepareSkaffoldFilter: the builds file and the filter's command line."""
        builds_file = os.path.join(scratch, "builds.json")
        builds = [{"imageName": image, "tag": tag} for image, tag in self.ctx.builds]
        with open(builds_file, "w", encoding="utf-8") as handle:
            json.dump({"builds": builds}, handle, separators=(",", ":"))
        cmdline = ["filter", "--kube-context", self.ctx.kube_context]
        cmdline += [f"--label={k}={v}" for k, v in self.ctx.labels.items()]
        cmdline += [f"--set={k}={v}" for k, v in self.manifest_overrides.items()]
        cmdline += ["--build-artifacts", builds_file]
        self._env["SKAFFOLD_CMDLINE"] = shlex.join(cmdline)
        self._env["SKAFFOLD_FILENAME"] = self.ctx.config_file

    def _filter_executable(self, scratch: str) -> str:
        """``os.Executable()`` for skrender: a launcher running this interpreter on this engine."""
        # engine/stages/helm_binary.py -> the directory holding the engine package
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        path = os.path.join(scratch, "skrender-filter")
        code = (
            f"import sys; sys.path.insert(0, {root!r}); "
            "from engine.cli import main; sys.exit(main())"
        )
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(
                f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -c {shlex.quote(code)} "$@"\n'
            )
        os.chmod(path, 0o755)
        return path

    def _install_plugin(self, executable: str) -> None:
        """bin.go PreparePostRenderer for Helm 4: a postrenderer/v1 plugin running the filter."""
        from engine import yamlv3

        assert self._scratch is not None
        plugin_dir = tempfile.mkdtemp(prefix="skaffold-render", dir=self._scratch.name)
        name = os.path.basename(plugin_dir)
        command = yamlv3.dump(executable).rstrip("\n")
        with open(os.path.join(plugin_dir, "plugin.yaml"), "w", encoding="utf-8") as handle:
            handle.write(_PLUGIN_YAML.format(name=name, command=command))
        done = self._exec(
            command_args(["plugin", "install", plugin_dir], self.flags, self.ctx),
            check=False,
        )
        if done.returncode != 0:
            raise HelmError(
                f"Failed to install Helm plugin: {_text(done.stdout + done.stderr).strip()}"
            )
        self._plugin = name
        self.post_renderer_args = ("--post-renderer", name)

    def _exec(self, argv: Sequence[str], *, check: bool) -> Any:
        from engine.core import proc

        try:
            return proc.run(["helm", *argv], cwd=self.ctx.cwd, env=self._env, check=check)
        except ToolError as exc:
            raise HelmError(str(exc)) from None


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")
