"""A `helm` command for tests of skrender's binary engine, built on the Helm SDK (helm_python).

It answers the commands skaffold runs, the way the `helm` binary does, with the Helm v4 SDK
doing the chart work (loading, values, rendering, dependency builds and, for `--post-renderer`,
Helm 4's own post-render path: the annotate/merge, the plugin run and kyaml's re-encoding all
happen inside the SDK's install action).  It shares no code with skrender.

    helm version                       version.BuildInfo{Version:"$HELM_DOUBLE_VERSION"} (v4.2.3)
    helm plugin install DIR            link DIR into $HELM_PLUGINS (default ~/.local/share/...)
    helm plugin uninstall NAME
    helm dep build CHART
    helm template NAME CHART [-f F] [--set K=V] [--set-file K=P] [-n NS] [--skip-tests]
                             [--post-renderer PLUGIN | EXECUTABLE (Helm 3 versions)]

Global flags skaffold adds (--kube-context, --kubeconfig, --debug) are accepted anywhere.
The SDK does not return a release's hooks: with a post-renderer, a wrapper plugin renames the
hook annotation in the post-renderer's output so that Helm keeps hooks in the manifest, and they
are taken back out (Helm lists both in the same kind order); without one, the hooks come from
the chart's rendered files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

HOOK = "helm.sh/hook"
PARKED_HOOK = "x-helm-double.test/parked-hook"
KIND_ORDER = (
    "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
    "PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList",
    "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
    "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
    "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service",
    "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
    "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress",
    "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
)
EVENTS = {
    "pre-install", "post-install", "pre-delete", "post-delete", "pre-upgrade", "post-upgrade",
    "pre-rollback", "post-rollback", "test", "test-success",
}
VALUE_FLAGS = {
    "-f": "values",
    "--values": "values",
    "--set": "set",
    "--set-file": "set-file",
    "--set-string": "set-string",
    "-n": "namespace",
    "--namespace": "namespace",
    "--post-renderer": "post-renderer",
    "--kube-context": "kube-context",
    "--kubeconfig": "kubeconfig",
    "--version": "version",
    "--repo": "repo",
}
BOOL_FLAGS = {"--skip-tests", "--debug", "--include-crds"}


class Failure(Exception):
    pass


def main(argv: list[str]) -> int:
    try:
        return run(argv)
    except Failure as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return 1


def run(argv: list[str]) -> int:
    if argv[:1] == ["--wrap-postrenderer"]:
        return wrap_postrenderer(argv[1])
    positional, flags = parse(argv)
    command = positional[:1]
    if command == ["version"]:
        version = os.environ.get("HELM_DOUBLE_VERSION", "v4.2.3")
        print(f'version.BuildInfo{{Version:"{version}", GitCommit:"", GitTreeState:"clean"}}')
        return 0
    if command == ["plugin"] and positional[1:2] == ["install"]:
        os.makedirs(plugins_dir(), exist_ok=True)
        source = os.path.abspath(positional[2])
        os.symlink(source, os.path.join(plugins_dir(), os.path.basename(source)))
        print(f"Installed plugin: {os.path.basename(source)}")
        return 0
    if command == ["plugin"] and positional[1:2] == ["uninstall"]:
        for name in positional[2:]:
            os.unlink(os.path.join(plugins_dir(), name))
        return 0
    if command in (["dep"], ["dependency"]) and positional[1:2] == ["build"]:
        import helm_python

        if not os.path.exists(positional[2]):
            raise Failure(f"could not find {positional[2]}")
        try:
            helm_python.dependency_build(positional[2])
        except helm_python.HelmError as exc:
            raise Failure(str(exc)) from None
        return 0
    if command == ["template"]:
        sys.stdout.write(template(positional[1], positional[2], flags))
        return 0
    raise Failure(f'unknown command {" ".join(positional)!r} for "helm"')


def parse(argv: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    positional: list[str] = []
    flags: dict[str, list[str]] = {}
    args = iter(argv)
    for arg in args:
        name, eq, value = arg.partition("=")
        if name in VALUE_FLAGS:
            flags.setdefault(VALUE_FLAGS[name], []).append(value if eq else next(args, ""))
        elif arg in BOOL_FLAGS:
            flags.setdefault(arg[2:], []).append("true")
        elif arg.startswith("-"):
            raise Failure(f"unknown flag: {name}")
        else:
            positional.append(arg)
    return positional, flags


def plugins_dir() -> str:
    if os.environ.get("HELM_PLUGINS"):
        return os.environ["HELM_PLUGINS"]
    data = os.environ.get("HELM_DATA_HOME") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.join(os.environ["HOME"], ".local", "share"),
        "helm",
    )
    return os.path.join(data, "plugins")


def values(flags: dict[str, list[str]]) -> dict[str, object]:
    import helm_python

    merged: dict[str, object] = {}
    try:
        for path in flags.get("values", []):
            with open(path, encoding="utf-8") as handle:
                merged = merge(merged, helm_python.values_from_yaml(handle.read()))
        # one strvals expression, so list indices of separate --set land in the same list
        if flags.get("set"):
            merged = merge(merged, helm_python.parse_set_string(",".join(flags["set"])))
        for expression in flags.get("set-string", []):
            merged = merge(merged, helm_python.parse_set_string_values(expression))
        for expression in flags.get("set-file", []):
            key, _, path = expression.partition("=")
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            tree = helm_python.parse_set_literal(f"{key}=@")
            merged = merge(merged, json.loads(json.dumps(tree).replace('"@"', json.dumps(text))))
    except (helm_python.HelmError, OSError) as exc:
        raise Failure(str(exc)) from None
    return merged


def merge(a: dict[str, object], b: dict[str, object]) -> dict[str, object]:
    out = dict(a)
    for key, value in b.items():
        old = out.get(key)
        out[key] = merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return out


def template(name: str, chart: str, flags: dict[str, list[str]]) -> str:
    post_renderer = (flags.get("post-renderer") or [""])[-1]
    helm4 = not os.environ.get("HELM_DOUBLE_VERSION", "v4").lstrip("v").startswith(("2", "3"))
    wrapper = None
    if post_renderer and helm4:
        wrapper = "helm-double-wrapper"
        if not os.environ.get("HELM_DOUBLE_WRAPPED"):
            # The SDK's Go runtime sees the environment the process started with: start again
            # with the wrapper plugin's directory as HELM_PLUGINS
            scratch = tempfile.mkdtemp(prefix="helm-double-")
            make_wrapper(post_renderer, scratch)
            env = {**os.environ, "HELM_PLUGINS": scratch, "HELM_DOUBLE_WRAPPED": "1"}
            sys.stdout.flush()
            os.execve(sys.executable, [sys.executable, __file__, *sys.argv[1:]], env)
    import helm_python
    from helm_python import _native

    if flags.get("repo") or chart.startswith("oci://"):
        raise Failure(f"looks like {chart!r} is not a valid chart repository or cannot be reached")
    namespace = (flags.get("namespace") or ["default"])[-1]
    options: dict[str, object] = {"namespace": namespace, "dry_run": "client"}
    if wrapper:
        options["post_renderer"] = wrapper
    chart_values = values(flags)
    config = helm_python.Config()
    try:
        payload = _native.call_string(
            "helm_install",
            config._raw(),
            _native.HANDLE(0),
            _native.HANDLE(0),
            chart,
            name,
            json.dumps(chart_values),
            json.dumps(options),
        )
    except helm_python.HelmError as exc:
        raise Failure(str(exc)) from None
    finally:
        config.close()
        if os.environ.get("HELM_DOUBLE_WRAPPED"):
            import shutil

            shutil.rmtree(os.environ["HELM_PLUGINS"], ignore_errors=True)
    manifest = json.loads(payload).get("manifest", "")
    if post_renderer and helm4:
        blocks = re.findall(
            r"---\n# Source: ([^\n]*)\n(.*?)\n(?=---\n# Source: |\Z)", manifest, re.S
        )
        kept = [(p, c) for p, c in blocks if PARKED_HOOK not in c]
        hooks = [
            (p, c.replace(PARKED_HOOK, HOOK), events(c)) for p, c in blocks if PARKED_HOOK in c
        ]
        manifest = "".join(f"---\n# Source: {p}\n{c}\n" for p, c in kept)
    else:
        hooks = rendered_hooks(chart, name, namespace, chart_values)
        if post_renderer:  # Helm 3: an executable, run on the manifests only
            manifest = subprocess.run(
                [post_renderer], input=manifest.encode(), capture_output=True, check=True
            ).stdout.decode()
    out = manifest.strip() + "\n"
    for path, content, hook_events in hooks:
        if flags.get("skip-tests") and ("test" in hook_events or "test-success" in hook_events):
            continue
        out += f"---\n# Source: {path}\n{content}\n"
    return out


def events(content: str) -> list[str]:
    found = re.search(rf"{re.escape(PARKED_HOOK)}: (.*)", content)
    return [e.strip().lower() for e in found.group(1).strip("'\"").split(",")] if found else []


def make_wrapper(plugin_name: str, scratch: str) -> None:
    """A postrenderer plugin that runs the named one and parks the hook annotation."""
    with open(os.path.join(plugins_dir(), plugin_name, "plugin.yaml"), encoding="utf-8") as f:
        command = re.search(r"- command: (.*)", f.read()).group(1).strip().strip("'\"")
    wrapper = os.path.join(scratch, "helm-double-wrapper")
    os.makedirs(wrapper)
    with open(os.path.join(wrapper, "plugin.yaml"), "w", encoding="utf-8") as handle:
        handle.write(
            "name: helm-double-wrapper\nversion: 0.1.0\ntype: postrenderer/v1\napiVersion: v1\n"
            "runtime: subprocess\nruntimeConfig:\n  platformCommand:\n"
            f"    - command: {json.dumps(sys.executable)}\n"
            f"      args: [{json.dumps(os.path.abspath(__file__))}, --wrap-postrenderer, "
            f"{json.dumps(command)}]\n"
        )


def wrap_postrenderer(command: str) -> int:
    done = subprocess.run([command], stdin=sys.stdin, capture_output=True)
    sys.stderr.buffer.write(done.stderr)
    if done.returncode != 0:
        return done.returncode
    text = done.stdout.decode()
    sys.stdout.write(re.sub(rf"(?m)^(\s*){re.escape(HOOK)}:", rf"\1{PARKED_HOOK}:", text))
    return 0


def rendered_hooks(
    chart: str, name: str, namespace: str, chart_values: dict[str, object]
) -> list[tuple[str, str, list[str]]]:
    """Helm's hooks of an unpost-rendered release, from the chart's rendered files."""
    import helm_python

    loaded = helm_python.Chart.load(chart)
    try:
        files = loaded.render(chart_values, name=name, namespace=namespace, is_install=True)
    finally:
        loaded.close()
    hooks = []
    for path in sorted(files):
        if os.path.basename(path).startswith("_") or path.endswith("NOTES.txt"):
            continue
        for doc in re.split(r"(?:^|\s*\n)---\s*", files[path].lstrip()):
            if not doc.strip():
                continue
            head = helm_python.values_from_yaml(doc) or {}
            annotations = (head.get("metadata") or {}).get("annotations") or {}
            if HOOK not in annotations:
                continue
            hook_events = [e.strip().lower() for e in str(annotations[HOOK]).split(",")]
            if all(e in EVENTS for e in hook_events):
                hooks.append((path, doc.lstrip(), hook_events, head.get("kind", "")))
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    hooks.sort(key=lambda h: (0, rank[h[3]], "") if h[3] in rank else (1, 0, h[3]))
    return [(p, c, e) for p, c, e, _ in hooks]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
