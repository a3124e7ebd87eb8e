"""Go semantics skaffold's output depends on: text/template with Sprig, fmt, time layouts,
path/filepath globs, regexp (RE2).

Imports only :mod:`engine.core`.  Each module follows the Go standard library (or Sprig) as
skaffold vendors it, including its error messages.
"""
