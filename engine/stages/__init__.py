"""The render stages, one module each: tagging, naming (default repo), dockerfile
(inputDigest dependencies), sources (rawYaml, kustomize, ...), setters, hooks, rewrite.

Imports :mod:`engine.core`, :mod:`engine.golang`, :mod:`engine.yamlv3` and
:mod:`engine.skaffold`.  A stage that needs a registry look-up gets a callable from
:mod:`engine.pipeline`; stages never import :mod:`engine.registry`.
"""
