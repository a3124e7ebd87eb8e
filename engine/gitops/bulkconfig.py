"""``skrender-bulk.yaml``: which services, which environments, where to publish."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.core.errors import ConfigError
from engine.gitops.environments import Environment, check_env_name

CONFIG_FILE = "skrender-bulk.yaml"


@dataclass(frozen=True)
class BulkConfig:
    """``skrender-bulk.yaml``::

    services: [services/*]          # globs of service directories (default: discover)
    exclude: [legacy-*]             # globs of service names (or paths) to leave out
    environments:
      develop: {}                   # or a list of args, or {args: [...], defaultRepo: ...}
      production:
        args: [-p, production]
        defaultRepo: gcr.io/prod
    publish:
      repo: git@example.com:org/manifests.git
      branch: "{service}/{environment}"
      path: ""
    """

    services: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    environments: tuple[Environment, ...] = ()
    publish_repo: str | None = None
    branch_template: str | None = None
    publish_path: str = ""


def load_config(path: str) -> BulkConfig:
    """Read a ``skrender-bulk.yaml``; raises :class:`ConfigError` naming the bad field."""
    from engine import yamlv3

    try:
        with open(path, "rb") as handle:
            docs = yamlv3.load_all(handle.read(), source=path)
    except OSError as exc:
        raise ConfigError(f"reading {path}: {(exc.strerror or str(exc)).lower()}") from None
    doc = docs[0] if docs else {}
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping")
    unknown = set(doc) - {"services", "exclude", "environments", "publish"}
    if unknown:
        raise ConfigError(f"{path}: unknown field {sorted(map(str, unknown))[0]}")
    publish = doc.get("publish") or {}
    if not isinstance(publish, dict):
        raise ConfigError(f"{path}: publish: expected a mapping")
    return BulkConfig(
        services=_str_list(doc.get("services"), path, "services"),
        exclude=_str_list(doc.get("exclude"), path, "exclude"),
        environments=_environments(doc.get("environments"), path),
        publish_repo=_opt_str(publish.get("repo"), path, "publish.repo"),
        branch_template=_opt_str(publish.get("branch"), path, "publish.branch"),
        publish_path=_opt_str(publish.get("path"), path, "publish.path") or "",
    )


def _environments(value: Any, path: str) -> tuple[Environment, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: environments: expected a mapping of name to settings")
    envs: list[Environment] = []
    for name, spec in value.items():
        where = f"environments.{name}"
        if spec is None:
            spec = {}
        if isinstance(spec, list):
            spec = {"args": spec}
        if not isinstance(spec, dict):
            raise ConfigError(f"{path}: {where}: expected a mapping or a list of args")
        unknown = set(spec) - {"args", "defaultRepo"}
        if unknown:
            raise ConfigError(f"{path}: {where}: unknown field {sorted(map(str, unknown))[0]}")
        args = _str_list(spec.get("args"), path, where + ".args")
        repo = _opt_str(spec.get("defaultRepo"), path, where + ".defaultRepo")
        envs.append(Environment(check_env_name(str(name)), args, repo))
    return tuple(envs)


def _str_list(value: Any, path: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ConfigError(f"{path}: {where}: expected a list of strings")
    return tuple(str(v) for v in value)


def _opt_str(value: Any, path: str, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {where}: expected a string")
    return value
