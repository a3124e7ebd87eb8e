"""Argo CD manifests for published services: one ``Application`` per service and environment, or
one ``ApplicationSet`` whose list generator holds the same entries.

Pure: values in, documents out.  Each Application follows the branch `skrender gitops`
publishes to (``targetRevision`` = the branch, ``path`` = the directory inside it), so the
branch, path and name templates must be the ones given to ``gitops``.

Names: ``metadata.name`` of an Application is also the value of Argo CD's
``app.kubernetes.io/instance`` label, so it must be an RFC 1123 label (at most 63 characters of
``a-z0-9-``, alphanumeric at both ends).  Names and destination namespaces are made safe by
lowercasing and replacing every other character with ``-``; an over-long name is shortened and
ends in a hash of the full name, so distinct names stay distinct.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.core.errors import UsageError
from engine.gitops.services import DEFAULT_BRANCH_TEMPLATE, expand

API_VERSION = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"
MAX_NAME = 63  # RFC 1123 label: Argo CD puts the Application name in a label value

_USERINFO = re.compile(r"^(?P<scheme>https?://)[^/@\s]*@", re.IGNORECASE)
_NOT_DNS = re.compile(r"[^a-z0-9]+")
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|/\.|\.lock(/|$)")


@dataclass(frozen=True)
class Options:
    """How the manifests look; templates take ``{service}`` and ``{environment}``."""

    repo_url: str
    branch_template: str = DEFAULT_BRANCH_TEMPLATE
    path_template: str = ""  # directory inside the branch; "" is the branch root
    name_template: str = "{service}-{environment}"
    project: str = "default"
    namespace: str = "argocd"  # where the Application objects live
    dest_server: str = IN_CLUSTER
    dest_namespace_template: str = "default"
    automated: bool = False
    prune: bool = False
    self_heal: bool = False
    sync_options: tuple[str, ...] = ()  # e.g. CreateNamespace=true
    appset_name: str = "skrender"


@dataclass(frozen=True)
class Entry:
    """One Application to be: a service in an environment, every template filled in."""

    service: str
    environment: str
    name: str
    branch: str
    path: str
    dest_namespace: str


def entries(services: Sequence[str], environments: Sequence[str], options: Options) -> list[Entry]:
    """One entry per service and environment (services outer), names checked to be unique."""
    if not services:
        raise UsageError("argocd: no services")
    if not environments:
        raise UsageError("argocd: --environments is empty")
    out = [_entry(s, e, options) for s in services for e in environments]
    seen: dict[str, Entry] = {}
    for entry in out:
        other = seen.setdefault(entry.name, entry)
        if other is not entry:
            raise UsageError(
                f"argocd: {other.service}/{other.environment} and "
                f"{entry.service}/{entry.environment} both make the Application name "
                f"{entry.name!r}: change --name-template"
            )
    return out


def applications(items: Sequence[Entry], options: Options) -> list[dict[str, Any]]:
    """An ``Application`` document for each entry."""
    return [
        _document(
            "Application",
            entry.name,
            options,
            _spec(options, entry.branch, entry.path, entry.dest_namespace),
        )
        for entry in items
    ]


def application_set(items: Sequence[Entry], options: Options) -> dict[str, Any]:
    """One ``ApplicationSet`` with a list generator of ``items`` and a Go-template template."""
    elements = [
        {
            "service": e.service,
            "environment": e.environment,
            "name": e.name,
            "branch": e.branch,
            "path": e.path,
            "namespace": e.dest_namespace,
        }
        for e in items
    ]
    template = {
        "metadata": {"name": "{{.name}}"},
        "spec": _spec(options, "{{.branch}}", "{{.path}}", "{{.namespace}}"),
    }
    spec = {
        # Go templates with missingkey=error: a typo in the template fails loudly in Argo CD.
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [{"list": {"elements": elements}}],
        "template": template,
    }
    return _document("ApplicationSet", dns_name(options.appset_name), options, spec)


def dump(documents: Sequence[Mapping[str, Any]]) -> str:
    """The documents as YAML (yaml.v3 style, keys sorted), separated by ``---`` lines."""
    from engine import yamlv3

    return "\n---\n".join(yamlv3.dump(dict(doc)).rstrip("\n") for doc in documents) + "\n"


def dns_name(raw: str, *, what: str = "name") -> str:
    """``raw`` as an RFC 1123 label: lowercase ``a-z0-9-``, at most 63 characters."""
    name = _NOT_DNS.sub("-", raw.lower()).strip("-")
    if not name:
        raise UsageError(f"argocd: {what} {raw!r} has no letter or digit")
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:8]
        name = name[: MAX_NAME - len(digest) - 1].rstrip("-") + "-" + digest
    return name


def check_branch(branch: str, flag: str = "--branch-template") -> str:
    """``branch`` when git accepts it as a branch name (git check-ref-format rules)."""
    if (
        not branch
        or branch.startswith(("-", "/", "."))
        or branch.endswith(("/", "."))
        or branch == "@"
        or _BAD_REF.search(branch)
    ):
        raise UsageError(f"argocd: {flag} makes {branch!r}, which is not a valid branch name")
    return branch


def clean_path(raw: str, flag: str = "--path") -> str:
    """A directory inside the branch as Argo CD wants it: ``.`` for the root, no ``..``."""
    parts = [p for p in raw.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UsageError(f"argocd: {flag} {raw!r} leaves the branch")
    return "/".join(parts) or "."


def _entry(service: str, environment: str, options: Options) -> Entry:
    values = {"service": service, "environment": environment}
    return Entry(
        service=service,
        environment=environment,
        name=dns_name(expand(options.name_template, values, flag="--name-template")),
        branch=check_branch(expand(options.branch_template, values, flag="--branch-template")),
        path=clean_path(expand(options.path_template, values, flag="--path")),
        dest_namespace=dns_name(
            expand(options.dest_namespace_template, values, flag="--dest-namespace"),
            what="namespace",
        ),
    )


def _document(kind: str, name: str, options: Options, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {"name": name, "namespace": dns_name(options.namespace, what="namespace")},
        "spec": spec,
    }


def _spec(options: Options, branch: str, path: str, namespace: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "project": options.project,
        "source": {"repoURL": options.repo_url, "targetRevision": branch, "path": path},
        "destination": {"server": options.dest_server, "namespace": namespace},
    }
    policy = _sync_policy(options)
    if policy:
        spec["syncPolicy"] = policy
    return spec


def _sync_policy(options: Options) -> dict[str, Any]:
    policy: dict[str, Any] = {}
    if options.automated:
        policy["automated"] = {"prune": options.prune, "selfHeal": options.self_heal}
    if options.sync_options:
        policy["syncOptions"] = list(options.sync_options)
    return policy


def public_url(url: str) -> str:
    """An HTTP(S) ``url`` without userinfo: Argo CD finds credentials in its repository
    secrets, and a token must never land in a manifest.  (``ssh://git@host/...`` keeps its
    user, which ssh needs and which is no secret.)"""
    return _USERINFO.sub(r"\g<scheme>", url)
