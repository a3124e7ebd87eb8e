"""One module per subcommand, each with ``add_parser(subparsers)`` and ``run(args) -> int``.

Only the module of the command being run is imported (start-up time), so each entry here
carries the one-line help shown by ``skrender --help``.
"""

from __future__ import annotations

# subcommand -> (module under engine.commands, one-line help)
COMMANDS = {
    "render": ("render", "render hydrated manifests exactly like `skaffold render`"),
    "tags": ("tags", "print the image references render would use"),
    "build": ("build", "build and push Docker artifacts with the tags render uses"),
    "publish": ("publish", "commit rendered manifests to a branch of a manifest repository"),
    "bulk": ("bulk", "render (and publish) every service x environment of a monorepo"),
    "gitops": ("gitops", "render a service and commit the manifests to its environment branch"),
    "argocd": ("argocd", "print Argo CD Applications for the services below the given roots"),
    "filter": ("filter", "transform manifests from stdin like `skaffold filter`"),
}
