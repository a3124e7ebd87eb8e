"""The two Helm engines end to end: `skrender render` on Helm projects, as a user runs it.

In-process: no `helm` on PATH, the Helm SDK (helm_python, installed by '.[test]') renders.
Binary: tests/helm_double/helm first on PATH, a `helm` over the same SDK that runs Helm 4's own
post-render path (plugin, kyaml) or, with HELM_DOUBLE_VERSION=v3.x, Helm 3's executable
post-renderer; skrender's `filter` is the post-renderer either way.  Byte-exact parity with
real skaffold is tests/test_golden.py's job (the l-helm-* cases, both ways).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOUBLE = ROOT / "tests" / "helm_double"

SKAFFOLD = """\
apiVersion: skaffold/v4beta14
kind: Config
build:
  tagPolicy:
    envTemplate:
      template: "1.0"
  artifacts:
  - image: app
manifests:
  helm:
    releases:
    - name: web
      chartPath: chart
"""

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    "values.yaml": "image: app\n",
    "templates/NOTES.txt": "installed {{ .Release.Name }}\n",
    "templates/_helpers.tpl": '{{- define "app.name" -}}{{ .Release.Name }}-app{{- end }}\n',
    "templates/deploy.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.name" . }}
  namespace: {{ .Release.Namespace }}

spec:
  template:
    spec:
      containers:
      - name: app
        image: {{ .Values.image }}
""",
    "templates/hook.yaml": """\
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    helm.sh/hook: pre-install
spec:
  template:
    spec:
      containers:
      - name: m
        image: {{ .Values.image }}
""",
    "templates/tests/t.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: t
  annotations:
    helm.sh/hook: test
spec:
  containers:
  - name: t
    image: busybox
""",
}


def _project(root: Path, skaffold: str = SKAFFOLD, chart: dict[str, str] | None = None) -> Path:
    (root / "skaffold.yaml").write_text(skaffold)
    for name, text in (CHART if chart is None else chart).items():
        path = root / "chart" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _path_without_helm() -> str:
    dirs = os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
    return os.pathsep.join(d for d in dirs if not os.path.exists(os.path.join(d, "helm")))


def _render(
    project: Path, *args: str, binary: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    home = project.parent / f"home-{project.name}"
    home.mkdir(exist_ok=True)
    path = _path_without_helm()
    run_env = {
        "PATH": os.pathsep.join([str(DOUBLE), path]) if binary else path,
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "HELM_DOUBLE_PYTHON": sys.executable,
        "LANG": "C.UTF-8",
        **(env or {}),
    }
    argv = [sys.executable, "-m", "engine", "render", "--offline=true", "--digest-source=tag"]
    argv += ["--default-repo", "gcr.io/p", *args]
    return subprocess.run(
        argv, cwd=project, env=run_env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    return _project(root)


def test_both_engines_post_render_manifests_and_hooks_alike(project: Path) -> None:
    in_process = _render(project)
    binary = _render(project, binary=True)
    assert in_process.returncode == 0, in_process.stderr
    assert binary.returncode == 0, binary.stderr
    assert in_process.stdout == binary.stdout
    out = in_process.stdout
    # manifests first, then hooks in kind order; kyaml's compact sequences; no NOTES
    assert out.startswith("---\n# Source: app/templates/deploy.yaml\napiVersion: apps/v1\n")
    assert out.index("deploy.yaml") < out.index("tests/t.yaml") < out.index("hook.yaml")
    assert "      - image: gcr.io/p/app:1.0\n        name: app\n" in out
    assert "      - image: gcr.io/p/app:1.0\n        name: m\n" in out  # the hook too
    assert "image: busybox" in out and "installed" not in out
    assert "namespace: default" in out


def test_the_helm4_plugin_is_uninstalled_afterwards(project: Path) -> None:
    done = _render(project, binary=True)
    assert done.returncode == 0, done.stderr
    plugins = project.parent / "home-proj" / ".local" / "share" / "helm" / "plugins"
    assert plugins.is_dir() and list(plugins.iterdir()) == []


def test_helm3_post_renders_the_manifests_only(project: Path) -> None:
    done = _render(project, binary=True, env={"HELM_DOUBLE_VERSION": "v3.19.0"})
    assert done.returncode == 0, done.stderr
    manifests, hooks = done.stdout.split("# Source: app/templates/tests/t.yaml\n")
    # the filter's own output (skaffold's yaml: indented sequences, no Source comments)...
    assert manifests.startswith("apiVersion: apps/v1\nkind: Deployment\n")
    assert "        - image: gcr.io/p/app:1.0\n" in manifests
    # ...then the hooks exactly as the chart rendered them
    assert "      - name: m\n        image: app\n" in hooks


def test_without_builds_helm_output_is_kept_as_helm_prints_it(project: Path) -> None:
    done = _render(project, "--digest-source=none")
    assert done.returncode == 0, done.stderr
    assert "metadata:\n  name: web-app\n  namespace: default\n\nspec:\n" in done.stdout
    assert "      - name: app\n        image: app\n" in done.stdout


def test_labels_reencode_the_helm_output(project: Path) -> None:
    done = _render(project, "-l", "team=a")
    assert done.returncode == 0, done.stderr
    assert "# Source" not in done.stdout and not done.stdout.startswith("---")
    assert "  labels:\n    team: a\n" in done.stdout


def test_release_namespace_and_the_namespace_flag(project: Path) -> None:
    (project / "skaffold.yaml").write_text(SKAFFOLD + "      namespace: '{{.TEAM}}-ns'\n")
    done = _render(project, env={"TEAM": "blue"})
    assert done.returncode == 0, done.stderr
    assert "namespace: blue-ns" in done.stdout
    done = _render(project, "-n", "cli", env={"TEAM": "blue"})
    assert "namespace: cli" in done.stdout and "blue-ns" not in done.stdout


@pytest.mark.parametrize("binary", [False, True], ids=["in-process", "binary"])
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chart/templates/bad.yaml": "x: {{ nope }}\n"}, 'function "nope" not defined'),
        ({"chart/templates/req.yaml": 'x: {{ required "give x" .Values.x }}\n'}, "give x"),
        (
            {
                "chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
                "- name: lib\n  version: 0.1.0\n  repository: file://../nowhere\n"
            },
            "",
        ),
        (
            {"chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\nkubeVersion: <1.0\n"},
            "chart requires kubeVersion: <1.0",
        ),
        (
            {"chart/values.schema.json": '{"properties": {"image": {"type": "integer"}}}'},
            "got string, want integer",
        ),
    ],
    ids=["template-error", "required-value", "missing-dependency", "kube-version", "schema"],
)
def test_chart_errors_fail_and_write_nothing(
    project: Path, binary: bool, change: dict[str, str], message: str
) -> None:
    for name, text in change.items():
        (project / name).write_text(text)
    out = project.parent / "out.yaml"
    done = _render(project, "-o", str(out), binary=binary)
    assert done.returncode == 1, done.stdout
    assert "Failed to render release" in done.stderr or "helm dependencies" in done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


@pytest.mark.parametrize("binary", [False, True], ids=["in-process", "binary"])
def test_unknown_template_flag_and_missing_chart_fail(project: Path, binary: bool) -> None:
    flags = SKAFFOLD.replace(
        "    releases:\n", "    flags:\n      template: [--nope]\n    releases:\n"
    )
    (project / "skaffold.yaml").write_text(flags)
    done = _render(project, binary=binary)
    assert done.returncode == 1 and "unknown flag: --nope" in done.stderr
    (project / "skaffold.yaml").write_text(SKAFFOLD.replace("chartPath: chart", "chartPath: gone"))
    done = _render(project, binary=binary)
    assert done.returncode == 1 and "building helm dependencies" in done.stderr


def test_skip_build_dependencies_leaves_a_missing_dependency_to_template(project: Path) -> None:
    (project / "chart" / "Chart.yaml").write_text(
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: lib\n  version: 0.1.0\n"
    )
    (project / "skaffold.yaml").write_text(SKAFFOLD + "      skipBuildDependencies: true\n")
    done = _render(project)
    assert done.returncode == 1
    assert "missing in charts/ directory: lib" in done.stderr


def test_without_the_extra_and_without_helm_the_error_names_the_extra(project: Path) -> None:
    code = (
        "import sys; sys.modules['helm_python'] = None\n"
        "from engine.cli import main\n"
        "sys.exit(main(['render', '--offline=true', '--digest-source=tag']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env={"PATH": _path_without_helm(), "HOME": str(project), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "pip install 'skrender[helm]'" in done.stderr and "Traceback" not in done.stderr


def test_filter_takes_its_command_line_from_skaffold_cmdline(tmp_path: Path) -> None:
    builds = tmp_path / "builds.json"
    builds.write_text('{"builds":[{"imageName":"app","tag":"gcr.io/p/app:2"}]}')
    stdin = "apiVersion: v1\nkind: Pod\nmetadata: {}\nspec:\n  containers:\n  - image: app\n"
    done = subprocess.run(
        [sys.executable, "-m", "engine"],
        cwd=tmp_path,
        input=stdin,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "SKAFFOLD_CMDLINE": f"filter --kube-context '' --label=a=b --build-artifacts {builds}",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    a: b\nspec:\n  containers:\n"
        "    - image: gcr.io/p/app:2"
    )


def test_deploy_helm_output_joins_its_config_after_every_configs_own_renderers(
    tmp_path: Path,
) -> None:
    # runner/renderer.go adds the deploy.helm renderers after all others; render_mux.go keeps
    # a config's place from its first output: a config with only deploy.helm comes last
    root = tmp_path / "multi"
    (root / "a").mkdir(parents=True)
    _project(root / "a", SKAFFOLD.replace("manifests:\n  helm:", "deploy:\n  helm:"))
    (root / "b" / "k8s").mkdir(parents=True)
    (root / "b" / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  rawYaml: [k8s/cm.yaml]\n"
    )
    (root / "b" / "k8s" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    (root / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta14\nkind: Config\nrequires:\n- path: a\n- path: b\n"
    )
    done = _render(root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("apiVersion: v1\nkind: ConfigMap\n---\n---\n# Source: app/")


def test_render_set_reaches_helm_and_the_filters_setters(project: Path) -> None:
    (project / "chart" / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n"
        "  stage: dev # from-param: ${stage}\n  value: {{ .Values.stage | default \"none\" }}\n"
    )
    in_process = _render(project, "--set", "stage=prod")
    binary = _render(project, "--set", "stage=prod", binary=True)
    assert in_process.returncode == 0, in_process.stderr
    assert in_process.stdout == binary.stdout
    assert "  stage: prod\n  value: prod\n" in in_process.stdout


@pytest.mark.parametrize("binary", [False, True], ids=["in-process", "binary"])
def test_an_invalid_release_name_fails_like_helm_install(project: Path, binary: bool) -> None:
    (project / "skaffold.yaml").write_text(SKAFFOLD.replace("name: web", "name: Web_App"))
    done = _render(project, binary=binary)
    assert done.returncode == 1
    assert "invalid release name" in done.stderr
