"""The in-process Helm engine: `helm template` / `helm dep build` on the Helm v4 Go SDK.

Used when no ``helm`` binary is on PATH.  The chart is loaded, its dependencies built and its
templates rendered by ``helm_python`` (PyPI ``helm-python-sdk``, the optional extra
``skrender[helm]``); this module supplies what the ``helm`` command line adds around the SDK,
from Helm v4.2.3's source:

* the command line itself (``pkg/cmd/template.go``, ``flags.go``; pflag parsing);
* values: ``pkg/cli/values/options.go: MergeValues`` (``-f`` files in order, then ``--set``,
  ``--set-string``, ``--set-file``, ``--set-literal``);
* the namespace: ``pkg/cli/environment.go`` (flag, ``HELM_NAMESPACE``, the kube-context's
  namespace, ``default``);
* hooks, sorting, post-rendering and the printed text: :mod:`engine.stages.helm_manifests`.

Values reach the SDK as JSON, so an integer from ``--set`` is a float64 in templates (as numbers
from values files always are in Helm): ``typeOf`` and integers above 2^53 show it.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from engine.core.errors import HelmError
from engine.stages import helm_filter, helm_manifests
from engine.stages.helm_releases import Context, Flags

EXTRA_HINT = (
    "no `helm` binary on PATH and the Helm SDK is not installed: "
    "install skrender's Helm extra (pip install 'skrender[helm]') or put helm on PATH"
)


def sdk() -> Any:
    """The ``helm_python`` module, imported on first use (it loads a 40 MB Go library)."""
    try:
        import helm_python
    except (ImportError, OSError):  # OSError: the Go library would not load
        raise HelmError(EXTRA_HINT) from None
    return helm_python


def available() -> bool:
    """Whether the optional extra is installed (importing it: a broken install counts as none)."""
    try:
        sdk()
    except HelmError:
        return False
    return True


# --- the command line -----------------------------------------------------------------------------

# `helm template` flags (Helm v4.2.3) that take a value; the others listed are booleans.
# Flags without effect on the rendered text are accepted and ignored, as `helm template` does
# with its install-only flags.
_VALUE_FLAGS = {
    "values": "f",
    "set": "",
    "set-string": "",
    "set-file": "",
    "set-json": "",
    "set-literal": "",
    "namespace": "n",
    "version": "",
    "repo": "",
    "kube-version": "",
    "api-versions": "a",
    "show-only": "s",
    "post-renderer": "",
    "post-renderer-args": "",
    "output-dir": "",
    "name-template": "",
    "description": "",
    "timeout": "",
    "username": "",
    "password": "",
    "ca-file": "",
    "cert-file": "",
    "key-file": "",
    "keyring": "",
    "labels": "l",
    "kube-context": "",
    "kubeconfig": "",
    "registry-config": "",
    "repository-config": "",
    "repository-cache": "",
    "content-cache": "",
    "kube-apiserver": "",
    "kube-as-user": "",
    "kube-as-group": "",
    "kube-token": "",
    "kube-ca-file": "",
    "kube-tls-server-name": "",
    "burst-limit": "",
    "qps": "",
    "color": "",
    "colour": "",
}
# value flags that may also stand alone (pflag NoOptDefVal)
_OPTIONAL_VALUE = {"dry-run": "client", "wait": "watcher"}
_BOOL_FLAGS = {
    "include-crds": "",
    "skip-tests": "",
    "no-hooks": "",
    "devel": "",
    "verify": "",
    "skip-crds": "",
    "skip-schema-validation": "",
    "enable-dns": "",
    "dependency-update": "",
    "create-namespace": "",
    "atomic": "",
    "rollback-on-failure": "",
    "force": "",
    "force-replace": "",
    "force-conflicts": "",
    "server-side": "",
    "replace": "",
    "generate-name": "g",
    "wait-for-jobs": "",
    "disable-openapi-validation": "",
    "insecure-skip-tls-verify": "",
    "plain-http": "",
    "pass-credentials": "",
    "render-subchart-notes": "",
    "debug": "",
    "validate": "",
    "is-upgrade": "",
    "release-name": "",
    "take-ownership": "",
    "hide-secret": "",
    "hide-notes": "",
    "kube-insecure-skip-tls-verify": "",
    "skip-refresh": "",  # helm dep build
}
# flags that change what `helm template` prints and that the in-process engine does not do
_UNSUPPORTED = ("show-only", "output-dir", "post-renderer", "post-renderer-args")
# flags whose value is a pflag StringSlice (split on commas like a CSV record)
_SLICE_FLAGS = frozenset(("values", "api-versions"))


class TemplateCall(NamedTuple):
    """A parsed `helm template` command line."""

    positional: tuple[str, ...]
    values: dict[str, list[str]]  # value flags, every occurrence in order
    flags: frozenset[str]  # boolean flags set to true

    def last(self, name: str, default: str = "") -> str:
        found = self.values.get(name)
        return found[-1] if found else default


def parse_args(argv: Sequence[str]) -> TemplateCall:
    """pflag parsing of a `helm template ...` argument list (after ``template``)."""
    shorthand = {s: n for table in (_VALUE_FLAGS, _BOOL_FLAGS) for n, s in table.items() if s}
    positional: list[str] = []
    values: dict[str, list[str]] = {}
    flags: set[str] = set()
    i = 0
    args = list(argv)
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positional.extend(args[i:])
            break
        if arg.startswith("--"):
            name, has_value, value = arg[2:].partition("=")
        elif arg.startswith("-") and len(arg) > 1:
            short, rest = arg[1], arg[2:]
            if short not in shorthand:
                raise HelmError(f"unknown shorthand flag: {short!r} in {arg}")
            name = shorthand[short]
            has_value = "=" if rest else ""
            value = rest[1:] if rest.startswith("=") else rest
        else:
            positional.append(arg)
            continue
        if name in _BOOL_FLAGS:
            if not has_value or _parse_bool(name, value):
                flags.add(name)
            else:
                flags.discard(name)
            continue
        if name in _OPTIONAL_VALUE:
            values.setdefault(name, []).append(value if has_value else _OPTIONAL_VALUE[name])
            continue
        if name not in _VALUE_FLAGS:
            raise HelmError(f"unknown flag: --{name}")
        if not has_value:
            if i >= len(args):
                raise HelmError(f"flag needs an argument: --{name}")
            value = args[i]
            i += 1
        found = values.setdefault(name, [])
        found.extend(_csv(value) if name in _SLICE_FLAGS else [value])
    return TemplateCall(tuple(positional), values, frozenset(flags))


def _parse_bool(name: str, value: str) -> bool:
    """strconv.ParseBool."""
    if value in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if value in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise HelmError(
        f'invalid argument "{value}" for "--{name}" flag: strconv.ParseBool: '
        f'parsing "{value}": invalid syntax'
    )


def _csv(value: str) -> list[str]:
    """pflag StringSlice: the value read as one CSV record."""
    if value == "":
        return []
    import csv

    try:
        return next(csv.reader([value]))
    except csv.Error as exc:
        raise HelmError(f"invalid argument {value!r}: {exc}") from None


# --- values ---------------------------------------------------------------------------------------


def merge_values(call: TemplateCall, *, cwd: str) -> dict[str, Any]:
    """``values.Options.MergeValues``: ``-f`` files merged in order, then each kind of ``--set``."""
    helm = sdk()
    base: dict[str, Any] = {}
    for path in call.values.get("values", []):
        base = merge_maps(base, _values_file(path, cwd=cwd))
    for expression in call.values.get("set-json", []):
        if expression.strip().startswith("{"):
            # options.go: a whole JSON object is merged like a values file
            try:
                document = json.loads(expression.strip())
            except ValueError:
                raise HelmError(f"failed parsing --set-json data JSON: {expression}") from None
            base = merge_maps(base, document if isinstance(document, dict) else {})
            continue
        base = _set_into(base, expression, helm.parse_set_json, "--set-json")
    for expression in call.values.get("set", []):
        base = _set_into(base, expression, helm.parse_set_string, "--set")
    for expression in call.values.get("set-string", []):
        base = _set_into(base, expression, helm.parse_set_string_values, "--set-string")
    for expression in call.values.get("set-file", []):
        base = _set_into(base, expression, lambda e: _parse_set_file(e, cwd), "--set-file")
    for expression in call.values.get("set-literal", []):
        base = _set_into(base, expression, helm.parse_set_literal, "--set-literal")
    return base


def _set_into(
    base: dict[str, Any], expression: str, parse: Callable[[str], dict[str, Any]], flag: str
) -> dict[str, Any]:
    """One ``--set``-like expression parsed by the SDK's strvals and set into ``base``."""
    helm = sdk()
    try:
        parsed = parse(expression)
    except helm.HelmError as exc:
        raise HelmError(f"failed parsing {flag} data: {exc}") from None
    path = _key_path(expression)
    if path is not None:
        try:
            leaf = _follow(parsed, path)
        except (KeyError, IndexError, TypeError):
            pass
        else:
            # strvals.ParseInto: the one key of the expression set into the existing values
            merged: dict[str, Any] = _set_path(base, path, leaf)
            return merged
    tree: dict[str, Any] = _set_tree(base, parsed)
    return tree


def _key_path(expression: str) -> list[str | int] | None:
    """The key of a one-pair strvals expression (``a.b[1].c=v``) as a path, or None when the
    expression holds more than one pair (a comma outside braces) or no ``=``."""
    path: list[str | int] = []
    key = ""
    i = 0
    while i < len(expression):
        ch = expression[i]
        if ch == "\\" and i + 1 < len(expression):
            key += expression[i + 1]
            i += 2
            continue
        if ch == "=":
            if key or not path:
                path.append(key)
            return path if _one_value(expression[i + 1 :]) else None
        if ch == ",":
            return None
        if ch == ".":
            path.append(key)
            key = ""
        elif ch == "[":
            end = expression.find("]", i)
            if end < 0 or not expression[i + 1 : end].isdigit():
                return None
            if key:
                path.append(key)
                key = ""
            path.append(int(expression[i + 1 : end]))
            i = end + 1
            if i < len(expression) and expression[i] == ".":
                i += 1
            continue
        else:
            key += ch
        i += 1
    return None


def _one_value(text: str) -> bool:
    """Whether a strvals value holds no pair separator (a comma outside ``{...}``)."""
    depth = 0
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth <= 0:
            return False
    return True


def _follow(tree: Any, path: Sequence[str | int]) -> Any:
    for step in path:
        tree = tree[step]
    return tree


def _set_path(node: Any, path: Sequence[str | int], value: Any) -> Any:
    """strvals' set/setIndex along ``path``: maps created as needed, a list index extends the
    list with nulls, other elements and keys kept; the leaf is replaced."""
    if not path:
        return value
    step, rest = path[0], path[1:]
    if isinstance(step, int):
        items = list(node) if isinstance(node, list) else []
        items += [None] * (step + 1 - len(items))
        items[step] = _set_path(items[step], rest, value)
        return items
    mapping = dict(node) if isinstance(node, dict) else {}
    mapping[step] = _set_path(mapping.get(step), rest, value)
    return mapping


def _set_tree(base: Any, tree: Any) -> Any:
    """An expression of several pairs set into the existing values, the way strvals sets each
    key: a mapping is set into key by key, and a list index (``hosts[1]=b``) replaces that
    element of an existing list, leaving the others (strvals ``setIndex``).  A parsed list
    holds ``null`` before the indices an expression sets.
    """
    if isinstance(tree, dict):
        out = dict(base) if isinstance(base, dict) else {}
        for key, value in tree.items():
            out[key] = _set_tree(out.get(key), value)
        return out
    if isinstance(tree, list) and isinstance(base, list):
        out_list = list(base) + [None] * max(0, len(tree) - len(base))
        for index, value in enumerate(tree):
            if value is not None or index == len(tree) - 1:
                out_list[index] = _set_tree(out_list[index], value)
        return out_list
    if isinstance(tree, list):
        return [_set_tree(None, value) for value in tree]
    return tree


def _parse_set_file(expression: str, cwd: str) -> dict[str, Any]:
    """``--set-file key=path``: the file's text as the value (strvals.ParseIntoFile)."""
    key, sep, path = expression.partition("=")
    if not sep:
        raise HelmError(f"key {key!r} has no value")
    try:
        with open(os.path.join(cwd, path), encoding="utf-8", errors="surrogateescape") as handle:
            text = handle.read()
    except OSError as exc:
        raise HelmError(f"open {path}: {(exc.strerror or str(exc)).lower()}") from None
    parsed: dict[str, Any] = _replace_leaf(sdk().parse_set_literal(f"{key}=x"), text)
    return parsed


def _replace_leaf(tree: Any, value: str) -> Any:
    """The one leaf of a parsed single-key expression, replaced by ``value``."""
    if isinstance(tree, dict) and tree:
        key = next(iter(tree))
        return {key: _replace_leaf(tree[key], value)}
    if isinstance(tree, list) and tree:
        return [*tree[:-1], _replace_leaf(tree[-1], value)]
    return value


def _values_file(path: str, *, cwd: str) -> dict[str, Any]:
    """``loader.LoadValues`` of one ``-f`` file: its YAML documents merged in order."""
    full = os.path.join(cwd, path)
    try:
        with open(full, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise HelmError(f"open {path}: {(exc.strerror or str(exc)).lower()}") from None
    helm = sdk()
    merged: dict[str, Any] = {}
    for doc in helm_filter.yaml_reader_documents(data.decode("utf-8", "surrogateescape")):
        try:
            current = helm.values_from_yaml(doc)
        except helm.HelmError as exc:
            raise HelmError(f"failed to parse {path}: {exc}") from None
        merged = merge_maps(merged, current if isinstance(current, dict) else {})
    return merged


def merge_maps(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """``loader.MergeMaps``: ``b`` wins; mappings on both sides merge recursively."""
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_maps(out[key], value)
        else:
            out[key] = value
    return out


# --- namespace ------------------------------------------------------------------------------------


def namespace(call: TemplateCall, env: Mapping[str, str]) -> str:
    """``EnvSettings.Namespace()``: the flag, ``HELM_NAMESPACE``, the context's, ``default``."""
    given = call.last("namespace") or env.get("HELM_NAMESPACE", "")
    if given:
        return given
    return _kube_context_namespace(call.last("kube-context"), call.last("kubeconfig"), env)


def _kube_context_namespace(context: str, kubeconfig: str, env: Mapping[str, str]) -> str:
    paths = [kubeconfig] if kubeconfig else []
    if not paths and env.get("KUBECONFIG"):
        paths = [p for p in env["KUBECONFIG"].split(os.pathsep) if p]
    elif not paths and env.get("HOME"):
        paths = [os.path.join(env["HOME"], ".kube", "config")]
    docs = [doc for doc in (_load_kubeconfig(p) for p in paths) if isinstance(doc, dict)]
    if not context:
        context = next((str(d["current-context"]) for d in docs if d.get("current-context")), "")
    for doc in docs:
        for entry in doc.get("contexts") or []:
            if isinstance(entry, dict) and entry.get("name") == context:
                ctx = entry.get("context")
                if isinstance(ctx, dict) and ctx.get("namespace"):
                    return str(ctx["namespace"])
                return "default"
    return "default"


def _load_kubeconfig(path: str) -> Any:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    from engine import yamlv3
    from engine.core.errors import YamlError

    try:
        docs = yamlv3.load_all(data, source=path)
    except YamlError:
        return None
    return docs[0] if docs else None


# --- the engine -----------------------------------------------------------------------------------


class InProcessEngine:
    """The `helm` commands skaffold runs, answered by the Helm SDK in-process (Helm 4)."""

    version = "v4.2.3"  # the Helm the SDK embeds: skaffold takes its Helm 4 path
    post_renderer_args: tuple[str, ...] = ()  # the post-renderer runs inside template()

    def __init__(
        self, ctx: Context, manifest_overrides: Mapping[str, str], flags: Flags | None = None
    ) -> None:
        self.ctx = ctx
        self.manifest_overrides = manifest_overrides

    def __enter__(self) -> InProcessEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, argv: Sequence[str]) -> str:
        """The stdout of ``helm <argv>`` (skaffold's full command line)."""
        call = parse_args(argv)
        command = call.positional[:1]
        if command == ("secrets",):
            raise HelmError('unknown command "secrets" for "helm"')
        if command in (("dep",), ("dependency",), ("dependencies",)):
            if call.positional[1:2] != ("build",) or len(call.positional) != 3:
                raise HelmError(f"unsupported helm command: {' '.join(call.positional)}")
            self._dependency_build(call.positional[2])
            return ""
        if command != ("template",):
            raise HelmError(f"unsupported helm command: {' '.join(call.positional)}")
        return self._template(call._replace(positional=call.positional[1:]))

    def _dependency_build(self, chart_path: str) -> None:
        """``helm dep build <chartPath>``: charts/ rebuilt from Chart.lock / Chart.yaml."""
        helm = sdk()
        full = os.path.join(self.ctx.cwd, chart_path)
        if not os.path.exists(full):
            raise HelmError(
                f"could not find {chart_path}: stat {chart_path}: no such file or directory"
            )
        try:
            with _quiet_go_logs():
                helm.dependency_build(full)
        except helm.HelmError as exc:
            raise HelmError(str(exc)) from None

    def _template(self, call: TemplateCall) -> str:
        """``helm template NAME CHART``, post-rendered by skaffold's filter given builds."""
        if len(call.positional) < 2:
            raise HelmError("must either provide a name or specify --generate-name")
        if len(call.positional) > 2:
            extra = " ".join(call.positional[2:])
            raise HelmError(f"expected at most two arguments, unexpected arguments: {extra}")
        name, chart_ref = call.positional
        for flag in _UNSUPPORTED:
            if flag in call.values:
                raise HelmError(f"--{flag} is not supported by the in-process Helm engine")
        helm = sdk()
        try:
            helm.validate_release_name(name)  # install.go: the release name must be valid
        except helm.HelmError as exc:
            raise HelmError(f"release name {_go_quote(name)}: {exc}") from None
        values = merge_values(call, cwd=self.ctx.cwd)
        chart = self._load_chart(chart_ref, call)
        try:
            _check_dependencies(chart)
            ns = namespace(call, self.ctx.env)
            if chart.metadata.get("kubeVersion"):
                self._check_kube_version(chart, values, name, ns, call)
            files = self._render(chart, values, name, ns, call)  # validates values.schema.json
            files = helm_manifests.drop_notes(files)
            if self.ctx.builds:
                # helm.go: with build artifacts skaffold post-renders through `skaffold filter`
                files = helm_manifests.post_render(
                    files,
                    decode=lambda path, doc: _kyaml_nodes(path, doc, self.manifest_overrides),
                    run=self._filter,
                    encode=_kyaml_encode,
                )
            hooks, manifests = helm_manifests.sort_manifests(files, _simple_head)
            crds = _crds(chart) if "include-crds" in call.flags else []
            return helm_manifests.template_output(
                manifests,
                hooks,
                crds=crds,
                skip_tests="skip-tests" in call.flags,
                no_hooks="no-hooks" in call.flags,
            )
        finally:
            chart.close()

    def _check_kube_version(
        self, chart: Any, values: dict[str, Any], name: str, ns: str, call: TemplateCall
    ) -> None:
        """renderResources: a chart's ``kubeVersion`` must admit the Kubernetes version.

        The SDK's render leaves that check to the install action, so a client dry-run install
        answers it; its other errors are the render's, reported by the render itself.
        """
        helm = sdk()
        options: dict[str, Any] = {"namespace": ns, "dry_run": "client"}
        if call.last("kube-version"):
            options["kube_version"] = call.last("kube-version")
        from helm_python import _native

        config = helm.Config()
        try:
            with _quiet_go_logs():
                _native.call_string(
                    "helm_install",
                    config._raw(),
                    _native.HANDLE(0),
                    chart._raw(),
                    None,
                    name,
                    json.dumps(values),
                    json.dumps(options),
                )
        except helm.HelmError as exc:
            if "chart requires kubeVersion" in str(exc):
                raise HelmError(str(exc)) from None
        finally:
            config.close()

    def _filter(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`skaffold filter` as the post-renderer (its setters: :func:`_kyaml_nodes`)."""
        return helm_filter.filter_documents(
            docs, builds=self.ctx.builds, labels=self.ctx.labels, rules=self.ctx.rules
        )

    def _load_chart(self, ref: str, call: TemplateCall) -> Any:
        helm = sdk()
        repo = call.last("repo")
        local = os.path.join(self.ctx.cwd, ref)
        if not repo and not ref.startswith("oci://") and os.path.exists(local):
            try:
                return helm.Chart.load(local)
            except helm.HelmError as exc:
                raise HelmError(str(exc)) from None
        if not repo and not ref.startswith("oci://") and "/" not in ref.strip("/"):
            raise HelmError(f"path {ref!r} not found")
        return self._pull(ref, repo, call.last("version"), "devel" in call.flags)

    def _pull(self, ref: str, repo: str, version: str, devel: bool) -> Any:
        """A remote chart (``oci://``, ``--repo`` or ``repo/chart``), downloaded by the SDK."""
        import tempfile

        helm = sdk()
        with tempfile.TemporaryDirectory(prefix="skrender-helm-chart-") as directory:
            try:
                with _quiet_go_logs():
                    helm.pull(
                        ref,
                        destination=directory,
                        version=version or (">0.0.0-0" if devel else None),
                        repo_url=repo or None,
                    )
                archives = [n for n in os.listdir(directory) if n.endswith(".tgz")]
                if not archives:
                    raise HelmError(f"failed to download {ref!r}")
                with open(os.path.join(directory, archives[0]), "rb") as handle:
                    return helm.Chart.load_archive(handle.read())
            except helm.HelmError as exc:
                raise HelmError(str(exc)) from None

    def _render(
        self, chart: Any, values: dict[str, Any], name: str, ns: str, call: TemplateCall
    ) -> dict[str, str]:
        """The SDK's engine.Render with the release `helm template` builds (an install, rev 1)."""
        helm = sdk()
        upgrade = "is-upgrade" in call.flags  # template.go: --is-upgrade sets .Release.IsUpgrade
        options: dict[str, Any] = {
            "name": name,
            "namespace": ns,
            "is_install": not upgrade,
            "is_upgrade": upgrade,
            "revision": 1,
        }
        capabilities: dict[str, Any] = {}
        if call.last("kube-version"):
            capabilities["kube_version"] = call.last("kube-version")
        if call.values.get("api-versions"):
            capabilities["api_versions"] = call.values["api-versions"]
        if "enable-dns" in call.flags:
            capabilities["enable_dns"] = True
        try:
            with _quiet_go_logs():
                if not capabilities:
                    rendered: dict[str, str] = chart.render(values, **options)
                    return rendered
                # Chart.render has no capability options; the native call it wraps takes them
                from helm_python import _native

                payload = _native.call_string(
                    "helm_render",
                    chart._raw(),
                    json.dumps(values),
                    json.dumps({**options, **capabilities}),
                )
                files: dict[str, str] = json.loads(payload)
                return files
        except helm.HelmError as exc:
            raise HelmError(f"{exc}\n\nUse --debug flag to render out invalid YAML") from None


def _go_quote(text: str) -> str:
    from engine.core.proc import go_quote

    quoted: str = go_quote(text)
    return quoted


def _check_dependencies(chart: Any) -> None:
    """``action.CheckDependencies``: every dependency of Chart.yaml must be in charts/."""
    wanted = chart.metadata.get("dependencies") or []
    present = {dep.get("name") for dep in chart.dependencies}
    missing = [
        str(d.get("name")) for d in wanted if isinstance(d, dict) and d.get("name") not in present
    ]
    if missing:
        raise HelmError(
            "an error occurred while checking for chart dependencies. You may need to run "
            "`helm dependency build` to fetch missing dependencies: found in Chart.yaml, but "
            f"missing in charts/ directory: {', '.join(missing)}"
        )


def _crds(chart: Any) -> list[tuple[str, str]]:
    """``--include-crds``: the chart's CRD files (``ch.CRDObjects()``), printed first."""
    return [(str(crd.get("filename", "")), str(crd.get("data", ""))) for crd in chart.crds]


def _simple_head(path: str, doc: str) -> Mapping[str, Any]:
    """``SimpleHead`` of a document (sigs.k8s.io/yaml): kind and metadata.annotations (strings)."""
    helm = sdk()
    try:
        head = helm.values_from_yaml(doc)
    except helm.HelmError as exc:
        raise HelmError(f"YAML parse error on {path}: {exc}") from None
    if not isinstance(head, dict):
        return {}
    metadata = head.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(annotations, dict):
        for value in annotations.values():
            if not isinstance(value, str) and value is not None:
                raise HelmError(
                    f"YAML parse error on {path}: error unmarshaling JSON: json: cannot unmarshal "
                    f"{_json_kind(value)} into Go struct field .metadata.annotations of type string"
                )
    return head


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object"


def _kyaml_nodes(path: str, doc: str, setters: Mapping[str, str]) -> list[dict[str, Any]]:
    """What ``kio.ParseAll`` reads from one split document, as the post-renderer decodes it.

    kyaml keeps comments, so the filter's setters (``# from-param:`` comments) still see the
    template's text: they are applied to it here, before decoding.
    """
    from engine.core.errors import SkrenderError
    from engine.stages import kyaml
    from engine.stages import setters as setters_mod

    try:
        pieces = kyaml.split_documents(doc)
        if setters:
            pieces = setters_mod.apply_to_pieces(pieces, setters)
        nodes: list[dict[str, Any]] = []
        for piece in pieces:
            from engine import yamlv3

            loaded = yamlv3.load_all(
                piece.encode("utf-8", "surrogateescape"),
                source="MalformedYAMLError",
                string_keys=True,
                folded=kyaml.folded,
            )
            if not loaded or loaded[0] is None:
                continue
            node = loaded[0]
            if len(pieces) == 1 and kyaml.is_wrapping_list(node):
                nodes.extend(item for item in kyaml.list_items(node) if isinstance(item, dict))
                continue
            if not isinstance(node, dict):
                raise HelmError(f"error merging manifests: parsing {path}: wrong node kind")
            nodes.append(node)
        return nodes
    except SkrenderError as exc:
        raise HelmError(f"error merging manifests: parsing {path}: {exc}") from None


def _kyaml_encode(doc: dict[str, Any]) -> str:
    """kyaml's ByteWriter for one document: yaml.v3 with compact sequence indentation."""
    from engine import yamlv3

    return yamlv3.dump(doc, compact_sequences=True)


class _quiet_go_logs:
    """The SDK logs through Go's slog straight to file descriptor 2; keep it off the terminal
    (skaffold only shows helm's stderr when helm fails, and then in its error).

    File descriptors are process-wide and `skrender bulk` renders on threads: the first thread
    in redirects fd 2, the last one out restores it.
    """

    _lock = threading.Lock()
    _depth = 0
    _saved = -1

    def __enter__(self) -> None:
        cls = type(self)
        with cls._lock:
            if cls._depth == 0:
                sys.stderr.flush()
                with open(os.devnull, "wb") as sink:
                    cls._saved = os.dup(2)
                    os.dup2(sink.fileno(), 2)
            cls._depth += 1

    def __exit__(self, *exc: object) -> None:
        cls = type(self)
        with cls._lock:
            cls._depth -= 1
            if cls._depth == 0:
                os.dup2(cls._saved, 2)
                os.close(cls._saved)
