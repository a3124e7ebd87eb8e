"""skaffold's helm renderer: `manifests.helm` (and `deploy.helm` for `render`) releases.

Reproduces ``pkg/skaffold/render/renderer/helm/`` and ``pkg/skaffold/helm/``:

* the releases to render (:func:`engine.stages.helm_releases.renderers`): ``manifests.helm``,
  then ``deploy.helm`` minus the releases ``manifests.helm`` already has
  (``runner/renderer.go: filterDuplicates``);
* per release, in order: the name, chart path and namespace expanded from the environment,
  ``helm dep build`` unless ``skipBuildDependencies``, then ``helm template`` with exactly the
  arguments skaffold builds (:mod:`engine.stages.helm_releases`);
* with build artifacts, every release is post-rendered by ``skaffold filter``
  (:mod:`engine.stages.helm_filter`, also the ``skrender filter`` command): artifact images
  replaced, ``-l`` labels added;
* the output of each release joins the manifest list through ``ManifestList.Append``.

Two engines answer the `helm` calls (:func:`select_engine`): a ``helm`` binary on PATH, used
exactly as skaffold uses it (:mod:`engine.stages.helm_binary`), else the Helm SDK in-process
(:mod:`engine.stages.helm_sdk`, the optional extra ``skrender[helm]``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Protocol

from engine.core.errors import HelmError, SkrenderError
from engine.stages.helm_releases import (
    OVERRIDES_FILENAME,
    Context,
    Flags,
    Release,
    Renderer,
    command_args,
    depbuild_args,
    expand,
    override_args,
    printable,
    template_args,
)

__all__ = ["Context", "Engine", "Flags", "Release", "Renderer", "render", "select_engine"]

# --- rendering ------------------------------------------------------------------------------------


class Engine(Protocol):
    """What the renderer needs from helm (a context manager around the releases)."""

    @property
    def version(self) -> str:
        """What `helm version` says."""
        ...

    @property
    def post_renderer_args(self) -> Sequence[str]:
        """skaffold's ``--post-renderer`` arguments for `helm template`."""
        ...

    def __enter__(self) -> object: ...

    def __exit__(self, *exc: object) -> None: ...

    def run(self, argv: Sequence[str]) -> str:
        """The stdout of ``helm <argv>``; HelmError with helm's output when it fails."""
        ...


def render(renderer: Renderer, ctx: Context) -> list[str]:
    """The manifest list of one helm renderer (``generateHelmManifests``): every release's
    ``helm template`` output, split by ``ManifestList.Append``.  Labels are added by the caller
    (the renderer's ``SetLabels`` re-encodes the documents)."""
    from engine.stages import sources

    manifest_overrides = {} if renderer.legacy else ctx.setters
    engine = select_engine(ctx, manifest_overrides, renderer.flags)
    entries: list[str] = []
    try:
        with engine:
            for release in renderer.releases:
                text = _render_release(engine, release, renderer.flags, ctx, manifest_overrides)
                entries.extend(sources.append_split(text))
    except HelmError as exc:
        raise HelmError(printable(str(exc))) from None
    return entries


def _render_release(
    engine: Engine, release: Release, flags: Flags, ctx: Context, overrides: Mapping[str, str]
) -> str:
    """render/renderer/helm/helm.go generateHelmManifest."""
    name = _expand_or_fail(release.name, ctx, "cannot expand release name")
    chart_path = _expand_or_fail(release.chart_path, ctx, "cannot expand chart path")
    release = release._replace(chart_path=chart_path)
    namespace = ctx.namespace
    if not namespace and release.namespace:
        namespace = _expand_or_fail(
            release.namespace, ctx, "cannot parse the release namespace template"
        )
    import tempfile

    with tempfile.TemporaryDirectory(prefix="skrender-helm-") as scratch:
        overrides_file = None
        if release.overrides:
            # helm.go generateSkaffoldOverrides writes it into the working directory; a private
            # directory gives helm the same values without touching the user's tree
            from engine import yamlv3

            overrides_file = os.path.join(scratch, OVERRIDES_FILENAME)
            with open(overrides_file, "w", encoding="utf-8") as handle:
                handle.write(yamlv3.dump(dict(release.overrides)))
        try:
            args = template_args(
                name,
                release,
                namespace,
                flags,
                engine.post_renderer_args,
                override_args(release, ctx, overrides),
                overrides_file,
            )
        except SkrenderError as exc:
            raise HelmError(
                f"cannot construct helm template args: construct override args: {exc}"
            ) from None
        if not release.skip_build_dependencies and release.chart_path:
            try:
                engine.run(command_args(depbuild_args(release.chart_path, flags), flags, ctx))
            except HelmError as exc:
                raise HelmError(f"building helm dependencies: {exc}") from None
        try:
            out: str = engine.run(command_args(args, flags, ctx, secrets=release.use_helm_secrets))
        except HelmError as exc:
            raise HelmError(
                f"Failed to render release: {exc} (releaseName={_go_quote(name)})"
            ) from None
        return out


def _expand_or_fail(text: str, ctx: Context, what: str) -> str:
    try:
        return expand(text, {}, ctx, or_fail=True)
    except SkrenderError as exc:
        raise HelmError(f"{what} {_go_quote(text)}: {exc}") from None


def _go_quote(text: str) -> str:
    from engine.core.proc import go_quote

    quoted: str = go_quote(text)
    return quoted


def select_engine(ctx: Context, manifest_overrides: Mapping[str, str], flags: Flags) -> Engine:
    """A ``helm`` binary on PATH (used as skaffold uses it), else the SDK in-process."""
    from engine.core import proc

    if proc.which("helm", ctx.env.get("PATH", os.environ.get("PATH"))):
        from engine.stages import helm_binary

        return helm_binary.BinaryEngine(ctx, manifest_overrides, flags)
    from engine.stages import helm_sdk

    if not helm_sdk.available():
        raise HelmError(helm_sdk.EXTRA_HINT)
    return helm_sdk.InProcessEngine(ctx, manifest_overrides, flags)
