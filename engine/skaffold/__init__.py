"""skaffold's config model: load skaffold.yaml, upgrade it to the latest schema, apply
profiles, validate, and expose typed records.

Imports :mod:`engine.core`, :mod:`engine.golang` and :mod:`engine.yamlv3`.
"""
