"""`skrender filter`: skaffold's hidden `filter` command, the post-renderer of Helm releases.

Reads Kubernetes manifests on stdin and writes them transformed to stdout, like
``cmd/skaffold/app/cmd/filter.go``: ``--set`` setters, ``-l`` labels and the images of
``--build-artifacts``, under the resource selector rules of the skaffold config
(``SKAFFOLD_FILENAME`` or ``-f``).  skrender's helm renderer runs it as Helm's post-renderer
when a ``helm`` binary is used; it then starts without arguments and takes its command line
from ``SKAFFOLD_CMDLINE`` (see :func:`engine.cli.main`).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from engine.core.errors import ConfigError, UsageError


def command() -> Any:
    """``filter`` and its flags: those skaffold defines on it (cmd/skaffold/app/cmd/filter.go,
    flags.go ``DefinedOn: filter``)."""
    from engine.commands._parser import Command
    from engine.golang.pflag import BOOL, SLICE, Flag

    return Command(
        "filter",
        summary="transform manifests from stdin like `skaffold filter`",
        description=(
            "Replace artifact images and add labels in the Kubernetes manifests read from "
            "stdin, as skaffold's filter does when it post-renders Helm releases."
        ),
        flags=(
            Flag("build-artifacts", "a", default="", usage="File containing build result"),
            Flag("label", "l", kind=SLICE, default=[], usage="Add custom labels (key=value)"),
            Flag("set", kind=SLICE, default=[], usage="Setters (key=value) for the manifests"),
            Flag("filename", "f", default="", usage="Path to the Skaffold config file"),
            Flag("kube-context", default="", usage="Ignored: no cluster is contacted"),
            Flag("kubeconfig", default="", usage="Ignored: no cluster is contacted"),
            Flag("debugging", kind=BOOL, default=False, usage="Not supported"),
            Flag("protocols", kind=SLICE, default=[], usage="Not supported"),
            Flag("post-renderer", default="", usage="Executable run on stdin first"),
        ),
    )


def run(args: Any) -> int:
    from engine.core import proc
    from engine.stages import helm_filter, naming, rewrite

    if args.debugging:
        raise UsageError(
            "skrender filter: --debugging (skaffold debug transforms) is not supported"
        )
    cwd = os.getcwd()
    builds: list[tuple[str, str]] = []
    if args.build_artifacts:
        path = os.path.join(cwd, args.build_artifacts)
        try:
            with open(path, encoding="utf-8") as handle:
                builds = naming.parse_build_artifacts(handle.read(), args.build_artifacts)
        except OSError as exc:
            raise UsageError(
                f"reading --build-artifacts {args.build_artifacts}: {exc.strerror}"
            ) from None
    text = sys.stdin.buffer.read()
    if args.post_renderer:
        text = proc.run([args.post_renderer], cwd=cwd, stdin=text).stdout
    rules = rewrite.filter_rules(*_selector_rules(args.filename, cwd))
    out = helm_filter.filter_manifests(
        text.decode("utf-8", "surrogateescape"),
        builds=builds,
        labels=rewrite.parse_labels(args.label),
        setters=rewrite.parse_labels(args.set),
        rules=rules,
    )
    sys.stdout.buffer.write(out.encode("utf-8", "surrogateescape"))
    sys.stdout.flush()
    return 0


def _selector_rules(filename: str, cwd: str) -> tuple[list[Any], list[Any]]:
    """The resourceSelector allow and deny rules of every config (filter.go getTransformList)."""
    from engine.skaffold import config as config_mod

    named = filename or os.environ.get("SKAFFOLD_FILENAME", "")
    path = os.path.join(cwd, named or "skaffold.yaml")
    if not named and not os.path.exists(path):
        return [], []
    env = dict(os.environ)
    try:
        configs = config_mod.load(
            config_mod.LoadRequest(
                cwd=cwd, filename=path, env=env, kube_context=config_mod.current_kube_context(env)
            )
        )
    except ConfigError as exc:
        raise ConfigError(f"skrender filter: {exc}") from None
    allow = [rule for cfg in configs for rule in cfg.allow]
    deny = [rule for cfg in configs for rule in cfg.deny]
    return allow, deny
