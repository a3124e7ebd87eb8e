"""Bulk environments: named sets of `skrender render` flags, and the RenderRequest each
gives in a service directory (with the service's ``skaffold.env``), exactly as ``skrender
render ARGS`` run there would build it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.core.errors import SkrenderError, UsageError
from engine.gitops.services import Service


@dataclass(frozen=True)
class Environment:
    """A named set of `skrender render` flags; ``default_repo`` applies unless args set -d."""

    name: str
    args: tuple[str, ...] = ()
    default_repo: str | None = None

    def render_args(self) -> list[str]:
        """The render command line for this environment."""
        args = list(self.args)
        if self.default_repo is not None and not _has_flag(args, ("-d", "--default-repo")):
            args += ["--default-repo", self.default_repo]
        return args


def parse_env_spec(spec: str) -> Environment:
    """``NAME=ARGS`` from ``--env``: ARGS comma-separated (``production=-p,production``)."""
    name, eq, raw = spec.partition("=")
    if not eq or not name:
        raise UsageError(f'invalid argument "{spec}" for "--env" flag: expected NAME=ARGS')
    args = tuple(a for a in raw.split(",") if a) if raw else ()
    return Environment(check_env_name(name), args)


def check_env_name(name: str) -> str:
    if not name or "/" in name or name in (".", ".."):
        raise UsageError(f"invalid environment name {name!r}")
    return name


_service_envs: dict[str, dict[str, str]] = {}


_service_envs_lock = threading.Lock()


def service_env(service: Service, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment `skrender render` sees in the service directory (with its skaffold.env)."""
    from engine.skaffold import config

    key = service.directory
    with _service_envs_lock:
        known = _service_envs.get(key) if base is None else None
    if known is not None:
        return known
    env = dict(os.environ if base is None else base)
    for name, value in config.read_dotenv(os.path.join(service.directory, "skaffold.env")).items():
        env.setdefault(name, value)
    if base is None:
        with _service_envs_lock:
            _service_envs[key] = env
    return env


# How an environment's render flags become a RenderRequest: ``(args, service directory, env)
# -> RenderRequest``, exactly as ``skrender render ARGS`` in that directory would build it
# (raising UsageError for bad flags).  Flag parsing belongs to the command line, above this
# layer: engine.commands passes :func:`engine.commands._flags.parse_render_request`.
RequestParser = Callable[[Sequence[str], str, Mapping[str, str]], Any]


def render_request(
    service: Service,
    environment: Environment,
    parse_request: RequestParser,
    base_env: Mapping[str, str] | None = None,
) -> Any:
    """The RenderRequest `skrender render <environment args>` builds in the service directory."""
    try:
        env = service_env(service, base_env)
        return parse_request(environment.render_args(), service.directory, env)
    except UsageError as exc:
        first = str(exc).splitlines()[0]
        raise UsageError(f"environment {environment.name}: {first}") from None
    except SkrenderError as exc:  # e.g. a skaffold.env or flag value that cannot be read
        exc.args = (f"environment {environment.name}: {exc}",)  # same class and exit code
        raise


def _has_flag(args: Sequence[str], names: Sequence[str]) -> bool:
    return any(a in names or any(a.startswith(n + "=") for n in names) for a in args)
