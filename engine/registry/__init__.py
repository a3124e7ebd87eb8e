"""Container registries: digests of tags (registry HTTP API or Docker engine) and the
credentials to ask with.

Imports the layers below it (:mod:`engine.core` ... :mod:`engine.stages`, for image names).
"""
