"""``skrender bulk --changed-since REV``: the services whose inputs changed.

A service's inputs are every file or directory its renders read (its config and the
directory holding it, artifact contexts, rawYaml files, every local file kustomize reads,
local Helm charts and values); a service whose inputs cannot be listed counts as changed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from engine.core.errors import SkrenderError
from engine.gitops.environments import Environment, RequestParser, render_request
from engine.gitops.services import Service


def changed_paths(root: str, rev: str, env: Mapping[str, str] | None = None) -> set[str]:
    """Absolute paths changed between ``rev`` and HEAD, plus working-tree changes."""
    from engine.core import proc

    environ = dict(os.environ if env is None else env)
    top = proc.run(["git", "rev-parse", "--show-toplevel"], cwd=root, env=environ)
    toplevel = top.stdout.decode("utf-8", "surrogateescape").strip()
    diff = proc.run(
        ["git", "diff", "--name-only", "--no-renames", "-z", f"{rev}..HEAD", "--"],
        cwd=toplevel,
        env=environ,
    )
    names = [n for n in diff.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
    names += status_paths(toplevel, environ)
    return {os.path.realpath(os.path.join(toplevel, n)) for n in names}


def status_paths(toplevel: str, env: Mapping[str, str]) -> list[str]:
    """Paths of ``git status --porcelain -z -uall`` (both sides of a rename)."""
    from engine.core import proc

    done = proc.run(
        ["git", "status", "--porcelain", "-z", "--untracked-files=all"], cwd=toplevel, env=env
    )
    tokens = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    paths: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if len(token) < 4:
            continue
        paths.append(token[3:])
        if "R" in token[:2] or "C" in token[:2]:
            if i < len(tokens):
                paths.append(tokens[i])
            i += 1
    return paths


def service_inputs(
    service: Service,
    environments: Sequence[Environment],
    parse_request: RequestParser,
    env: Mapping[str, str] | None = None,
) -> set[str] | None:
    """Every path (file or directory, real paths) a service's renders read; None when unknown
    (a config error, a remote kustomization, kpt, a git config): such a service counts as
    changed."""
    from engine.gitops import kcache
    from engine.pipeline import config_request
    from engine.skaffold import config as config_mod
    from engine.stages import sources

    inputs = {os.path.realpath(service.directory)}
    cache = kcache.KustomizeCache(None)
    try:
        for environment in environments:
            load_request = config_request(render_request(service, environment, parse_request, env))
            cwd, cfg_env = load_request.cwd, load_request.env
            for cfg in config_mod.load(load_request):
                if cfg.is_remote or cfg.manifests.kpt or cfg.manifests.transform:
                    # a git clone, kpt function images: nothing local says they changed
                    raise kcache.Uncacheable(f"{cfg.source_file}: remote config or kpt")
                inputs.add(os.path.realpath(os.path.dirname(cfg.source_file)))
                for artifact in cfg.artifacts:
                    inputs.add(os.path.realpath(os.path.join(cwd, artifact.context)))
                for path in sources.raw_yaml_files(cfg, cwd=cwd, env=cfg_env):
                    inputs.add(os.path.realpath(path))
                for path in sources.kustomize_paths(cfg, cwd=cwd, env=cfg_env):
                    inputs.update(os.path.realpath(p) for p, _ in cache.inputs(path))
                helm_inputs = _helm_inputs(cfg, cwd, cfg_env)
                if helm_inputs is None:
                    return None
                inputs.update(helm_inputs)
    except (SkrenderError, kcache.Uncacheable, OSError):
        return None
    return inputs


def _helm_inputs(cfg: Any, cwd: str, env: Mapping[str, str]) -> set[str] | None:
    """What the config's helm renderers read (None: a remote chart, always "changed")."""
    from engine.stages import helm_releases

    found: set[str] = set()
    for renderer in helm_releases.renderers(cfg.manifests.helm, cfg.legacy_helm):
        ctx = helm_releases.Context(cwd=cwd, env=env, builds=())
        paths = helm_releases.input_paths(renderer, ctx)
        if paths is None:
            return None
        found.update(os.path.realpath(p) for p in paths)
    return found


def select_changed(
    services: Sequence[Service],
    environments: Sequence[Environment],
    changed: set[str],
    parse_request: RequestParser,
    env: Mapping[str, str] | None = None,
) -> list[Service]:
    """The services whose inputs include a changed path."""
    selected: list[Service] = []
    for service in services:
        inputs = service_inputs(service, environments, parse_request, env)
        if inputs is None or any(_touches(path, inputs) for path in changed):
            selected.append(service)
    return selected


def _touches(path: str, inputs: set[str]) -> bool:
    """``path`` is an input or lies below an input directory."""
    probe = path
    while True:
        if probe in inputs:
            return True
        parent = os.path.dirname(probe)
        if parent == probe:
            return False
        probe = parent
