"""GitOps on top of the render pipeline: services of a monorepo, publishing renders to
branches, Argo CD manifests, bulk renders and their caches.

Imports everything below it, :mod:`engine.pipeline` included; never :mod:`engine.commands`
or :mod:`engine.cli`.
"""
