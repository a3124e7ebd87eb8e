"""``skrender argocd``: print Argo CD Applications (or one ApplicationSet) for the services below
the given roots, following the branches `skrender gitops` publishes to.

    skrender argocd services --repo https://git.example.com/manifests.git \\
        --environments develop,production [--applicationset]

The work is :mod:`engine.gitops.services` (finding services) and
:mod:`engine.gitops.argocd` (documents).
"""

from __future__ import annotations

import os
import sys
from typing import Any

DEFAULT_ENVIRONMENTS = "develop,production"
SYNC_POLICIES = ("manual", "automated")


def command() -> Any:
    """``argocd`` and its flags (named after ``argocd app create``'s where they match)."""
    from engine.commands._parser import Command, choice
    from engine.gitops.argocd import IN_CLUSTER
    from engine.gitops.services import DEFAULT_BRANCH_TEMPLATE, DEFAULT_CONFIG
    from engine.golang.pflag import ARRAY, BOOL, Flag

    return Command(
        "argocd",
        summary="print Argo CD Applications for the services below the given roots",
        description=(
            "Find every directory holding a skaffold config below ROOTs (default: .) and print "
            "one Argo CD Application per service and environment (or one ApplicationSet), "
            "pointing at the branch `skrender gitops` publishes to.  Templates take {service} "
            "and {environment}; use the same --branch-template and --path as for gitops."
        ),
        flags=(
            Flag("repo", usage="URL of the manifest repository"),
            Flag(
                "environments",
                kind=ARRAY,
                usage=f"comma-separated environments (repeatable; default: {DEFAULT_ENVIRONMENTS})",
            ),
            Flag(
                "branch-template",
                default=DEFAULT_BRANCH_TEMPLATE,
                usage="branch each Application follows",
            ),
            Flag("path", default="", usage="directory inside the branch (default: root)"),
            Flag(
                "name-template",
                default="{service}-{environment}",
                usage="Application names, made DNS-safe",
            ),
            Flag("project", default="default", usage="Argo CD project"),
            Flag("namespace", default="argocd", usage="namespace of the Argo CD objects"),
            Flag("dest-server", default=IN_CLUSTER, usage="destination cluster URL"),
            Flag("dest-namespace", default="default", usage="destination namespace (template)"),
            Flag(
                "sync-policy",
                default="manual",
                convert=choice(SYNC_POLICIES),
                usage="manual or automated",
            ),
            Flag(
                "auto-prune",
                kind=BOOL,
                default=False,
                usage="automated sync deletes removed resources",
            ),
            Flag(
                "self-heal",
                kind=BOOL,
                default=False,
                usage="automated sync reverts changes in the cluster",
            ),
            Flag("sync-option", kind=ARRAY, default=[], usage="e.g. CreateNamespace=true (repeat)"),
            Flag(
                "applicationset", kind=BOOL, default=False, usage="print one ApplicationSet instead"
            ),
            Flag("appset-name", default="skrender", usage="name of the ApplicationSet"),
            Flag(
                "filename",
                "f",
                default=DEFAULT_CONFIG,
                usage="name of the skaffold config that marks a service",
            ),
            Flag("output", "o", default="", usage="write to this file (atomically)"),
        ),
        args="[ROOT...]",
        required=("repo",),
    )


def run(args: Any) -> int:
    """Print (or write) the manifests.  0 on success."""
    from engine.core.output import write_output
    from engine.gitops import argocd, services

    options = build_options(args)
    if options.repo_url != args.repo:
        print("argocd: credentials removed from --repo (Argo CD keeps its own)", file=sys.stderr)
    cwd = os.getcwd()
    roots = args.args or ["."]
    found = services.find_services(roots, config_name=args.filename, cwd=cwd)
    if not found:
        from engine.core.errors import ConfigError

        raise ConfigError(f"argocd: no {args.filename} found below {' '.join(roots)}")
    items = argocd.entries([s.name for s in found], environments(args), options)
    if args.applicationset:
        documents = [argocd.application_set(items, options)]
    else:
        documents = argocd.applications(items, options)
    text = argocd.dump(documents)
    if args.output:
        write_output(os.path.join(cwd, args.output), text.encode("utf-8"))
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0


def build_options(args: Any) -> Any:
    """:class:`engine.gitops.argocd.Options` from the flags."""
    from engine.core.errors import UsageError
    from engine.gitops import argocd

    automated = args.sync_policy == "automated"
    for flag, given in (("--auto-prune", args.auto_prune), ("--self-heal", args.self_heal)):
        if given and not automated:
            raise UsageError(f"argocd: {flag} needs --sync-policy automated")
    return argocd.Options(
        repo_url=argocd.public_url(args.repo),
        branch_template=args.branch_template,
        path_template=args.path,
        name_template=args.name_template,
        project=args.project,
        namespace=args.namespace,
        dest_server=args.dest_server,
        dest_namespace_template=args.dest_namespace,
        automated=automated,
        prune=args.auto_prune,
        self_heal=args.self_heal,
        sync_options=tuple(args.sync_option),
        appset_name=args.appset_name,
    )


def environments(args: Any) -> list[str]:
    """--environments, comma-split, blanks dropped, first occurrence kept."""
    raw = args.environments if args.environments is not None else [DEFAULT_ENVIRONMENTS]
    seen: dict[str, None] = {}
    for value in raw:
        for name in value.split(","):
            if name.strip():
                seen.setdefault(name.strip(), None)
    return list(seen)
