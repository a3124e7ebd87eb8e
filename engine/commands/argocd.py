"""``skrender argocd``: print Argo CD Applications (or one ApplicationSet) for the services below
the given roots, following the branches `skrender gitops` publishes to.

    skrender argocd services --repo https://git.example.com/manifests.git \\
        --environments develop,production [--applicationset]

The work is :mod:`engine.gitops.services` (finding services) and
:mod:`engine.gitops.argocd` (documents).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

DEFAULT_ENVIRONMENTS = "develop,production"
SYNC_POLICIES = ("manual", "automated")


def add_parser(subparsers: Any) -> None:
    """Register ``argocd`` and its flags (named after ``argocd app create``'s where they match)."""
    from engine.gitops.argocd import IN_CLUSTER
    from engine.gitops.services import DEFAULT_BRANCH_TEMPLATE, DEFAULT_CONFIG

    parser = subparsers.add_parser(
        "argocd",
        help="print Argo CD Applications for the services below the given roots",
        description=(
            "Find every directory holding a skaffold config below ROOTs and print one Argo CD "
            "Application per service and environment (or one ApplicationSet), pointing at the "
            "branch `skrender gitops` publishes to.  Templates take {service} and "
            "{environment}; use the same --branch-template and --path as for gitops."
        ),
    )
    parser.add_argument("roots", nargs="*", default=["."], metavar="ROOT", help="default: .")
    parser.add_argument("--repo", required=True, help="URL of the manifest repository")
    parser.add_argument(
        "--environments",
        action="append",
        default=None,
        help=f"comma-separated environments (repeatable; default: {DEFAULT_ENVIRONMENTS})",
    )
    parser.add_argument(
        "--branch-template",
        default=DEFAULT_BRANCH_TEMPLATE,
        help=f"branch each Application follows (default: {DEFAULT_BRANCH_TEMPLATE})",
    )
    parser.add_argument("--path", default="", help="directory inside the branch (default: root)")
    parser.add_argument(
        "--name-template",
        default="{service}-{environment}",
        help="Application names, made DNS-safe (default: {service}-{environment})",
    )
    parser.add_argument("--project", default="default", help="Argo CD project")
    parser.add_argument("--namespace", default="argocd", help="namespace of the Argo CD objects")
    parser.add_argument("--dest-server", default=IN_CLUSTER, help="destination cluster URL")
    parser.add_argument(
        "--dest-namespace", default="default", help="destination namespace (template)"
    )
    parser.add_argument("--sync-policy", choices=SYNC_POLICIES, default="manual")
    parser.add_argument(
        "--auto-prune", action="store_true", help="automated sync deletes removed resources"
    )
    parser.add_argument(
        "--self-heal", action="store_true", help="automated sync reverts changes in the cluster"
    )
    parser.add_argument(
        "--sync-option", action="append", default=[], help="e.g. CreateNamespace=true (repeat)"
    )
    parser.add_argument(
        "--applicationset", action="store_true", help="print one ApplicationSet instead"
    )
    parser.add_argument("--appset-name", default="skrender", help="name of the ApplicationSet")
    parser.add_argument(
        "-f",
        "--filename",
        default=DEFAULT_CONFIG,
        help=f"name of the skaffold config that marks a service (default: {DEFAULT_CONFIG})",
    )
    parser.add_argument("-o", "--output", default="", help="write to this file (atomically)")


def run(args: argparse.Namespace) -> int:
    """Print (or write) the manifests.  0 on success."""
    from engine.core.output import write_output
    from engine.gitops import argocd, services

    options = build_options(args)
    if options.repo_url != args.repo:
        print("argocd: credentials removed from --repo (Argo CD keeps its own)", file=sys.stderr)
    cwd = os.getcwd()
    found = services.find_services(args.roots, config_name=args.filename, cwd=cwd)
    if not found:
        from engine.core.errors import ConfigError

        roots = " ".join(args.roots)
        raise ConfigError(f"argocd: no {args.filename} found below {roots}")
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


def build_options(args: argparse.Namespace) -> Any:
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


def environments(args: argparse.Namespace) -> list[str]:
    """--environments, comma-split, blanks dropped, first occurrence kept."""
    raw = args.environments if args.environments is not None else [DEFAULT_ENVIRONMENTS]
    seen: dict[str, None] = {}
    for value in raw:
        for name in value.split(","):
            if name.strip():
                seen.setdefault(name.strip(), None)
    return list(seen)
