"""skrender: a pure-Python, byte-identical drop-in for `skaffold render`.

The public library entry point is :func:`engine.render`; the command line lives in
:mod:`engine.cli`.  Imports are lazy so that ``skrender`` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.pipeline import RenderRequest, RenderResult

__all__ = ["RenderRequest", "RenderResult", "render"]


def render(request: RenderRequest | None = None, /, **options: Any) -> RenderResult:
    """Render manifests like `skaffold render`; see :class:`engine.pipeline.RenderRequest`."""
    from engine import pipeline

    return pipeline.render(request if request is not None else pipeline.RenderRequest(**options))


def __getattr__(name: str) -> Any:
    if name in ("RenderRequest", "RenderResult"):
        from engine import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
