"""The kpt renderer and kpt function pipelines, with the real ``kpt`` (engine.stages.kpt).

Where no golden case from a real skaffold exists, the expectations come from skaffold's
source and tests, named at each test:

* kpt_test.go ``TestRender``: a package's Pod ``leeroy-web`` renders with the built image
  ``leeroy-web:v1`` (compared as YAML objects there, as here);
* the spec's observation (skaffold-render-spec.md §7.5): with ``kpt: [pkg]`` and
  ``rawYaml: [raw.yaml]`` the kpt document comes first, the sources are left untouched and
  an empty ``.kpt-pipeline/`` appears;
* the byte-exact output of a kpt package must equal skrender's golden-verified rawYaml output
  of the same deployable documents: kpt.go and kubectl.go share the base transform, and what
  the kpt renderer adds (``kpt fn render`` itself, the kio filter) is run for real here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import service_unavailable

from engine.core.errors import ConfigError
from engine.skaffold.schema import Config, Manifests
from engine.stages import kpt

ROOT = Path(__file__).resolve().parent.parent.parent

KPTFILE = """\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: pkg
  annotations:
    config.kubernetes.io/local-config: "true"
"""
POD = """\
# a comment kpt keeps and skaffold's serialisation drops
apiVersion: v1
kind: Pod
metadata:
  name: leeroy-web
spec:
  containers:
  - image: leeroy-web
    name: leeroy-web
"""
CONFIGMAPS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-values
  annotations:
    config.kubernetes.io/local-config: "true"
data: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: deployed
  annotations: {}
data:
  n: "1"
  list:
      - indented
"""


@pytest.fixture(scope="module")
def kpt_binary() -> str:
    found = shutil.which("kpt")
    if found is None:
        service_unavailable("kpt")
    assert found is not None
    return found


def _package(root: Path, name: str = "pkg") -> Path:
    package = root / name
    package.mkdir(parents=True)
    (package / "Kptfile").write_text(KPTFILE)
    (package / "pod.yaml").write_text(POD)
    (package / "cm.yaml").write_text(CONFIGMAPS)
    return package


def _skrender(
    tree: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    home = tree.parent / "home"
    home.mkdir(exist_ok=True)
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        # no container runtime: kpt functions fail the same way on every machine
        "DOCKER_HOST": f"unix://{tree.parent}/no-docker.sock",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "engine", "render", "--offline=true", "--digest-source=tag", *args],
        cwd=tree, env=environ, input=stdin, capture_output=True, text=True, check=False,
    )  # fmt: skip


def _config(tree: Path, manifests: str) -> None:
    (tree / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n"
        "  - image: leeroy-web\nmanifests:\n" + manifests
    )


# --- the renderer, with the real kpt -----------------------------------------------------------


def test_package_renders_like_its_deployable_files_as_raw_yaml(
    tmp_path: Path, kpt_binary: str
) -> None:
    tree = tmp_path / "tree"
    _package(tree)
    _config(tree, "  kpt: [pkg]\n")
    flags = ("-i", "leeroy-web=leeroy-web:v1", "-l", "team=web")
    via_kpt = _skrender(tree, *flags)
    assert via_kpt.returncode == 0, via_kpt.stderr
    # the same deployable documents, in kpt's order (files sorted: cm.yaml, pod.yaml)
    plain = tmp_path / "plain"
    plain.mkdir()
    # kpt and kio's ByteWriter drop empty annotations (yaml.ClearEmptyAnnotations)
    deployed = CONFIGMAPS.split("---\n")[1].replace("  annotations: {}\n", "")
    (plain / "a.yaml").write_text(deployed + "---\n" + POD)
    _config(plain, "  rawYaml: [a.yaml]\n")
    via_raw = _skrender(plain, *flags)
    assert via_raw.returncode == 0, via_raw.stderr
    assert via_kpt.stdout == via_raw.stdout
    assert "local-values" not in via_kpt.stdout and "Kptfile" not in via_kpt.stdout
    assert "image: leeroy-web:v1" in via_kpt.stdout and "team: web" in via_kpt.stdout


def test_literal_block_ending_a_document_loses_its_newline_as_for_kustomize(
    tmp_path: Path, kpt_binary: str
) -> None:
    # kpt.go: the kept documents are written back by kio and Append-ed as one chunk, like a
    # kustomize build's output (golden-verified): the "\n---\n" split eats the newline of a
    # literal block ending every document but the last
    if shutil.which("kustomize") is None and shutil.which("kubectl") is None:
        service_unavailable("kustomize")
    # (kustomize sorts the keys it prints, kpt keeps them: the block is last for both)
    files = {
        "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nzzz: |\n  echo a\n",
        "b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\nzzz: |\n  echo b\n",
    }
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "Kptfile").write_text(KPTFILE)
    (tree / "kus").mkdir()
    (tree / "kus" / "kustomization.yaml").write_text("resources: [a.yaml, b.yaml]\n")
    for name, text in files.items():
        (tree / "pkg" / name).write_text(text)
        (tree / "kus" / name).write_text(text)
    _config(tree, "  kpt: [pkg]\n")
    via_kpt = _skrender(tree)
    _config(tree, "  kustomize: {paths: [kus]}\n")
    via_kustomize = _skrender(tree)
    assert via_kpt.returncode == 0 and via_kustomize.returncode == 0, via_kpt.stderr
    assert via_kpt.stdout == via_kustomize.stdout
    assert "zzz: echo a\n" in via_kpt.stdout and "zzz: |\n  echo b\n" in via_kpt.stdout


def test_kpt_test_go_render_single_manifest(tmp_path: Path, kpt_binary: str) -> None:
    # kpt_test.go TestRender "single manifest": leeroy-web built as leeroy-web:v1
    tree = tmp_path / "tree"
    package = tree / ".kpt-pipeline"
    package.mkdir(parents=True)
    (package / "Kptfile").write_text(
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: skaffold\n"
    )
    (package / "pod.yaml").write_text(POD)
    (tree / "empty.ignored").touch()
    _config(tree, "  kpt: [.kpt-pipeline]\n")
    done = _skrender(tree, "-i", "leeroy-web=leeroy-web:v1")
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout) == yaml.safe_load(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: leeroy-web\nspec:\n  containers:\n"
        "  - image: leeroy-web:v1\n    name: leeroy-web\n"
    )


def test_kpt_renders_before_raw_yaml_and_leaves_sources_alone(
    tmp_path: Path, kpt_binary: str
) -> None:
    # spec §7.5 (observed with skaffold): kpt first, sources unmodified, .kpt-pipeline/ made
    tree = tmp_path / "tree"
    package = _package(tree)
    (tree / "raw.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\n")
    _config(tree, "  rawYaml: [raw.yaml]\n  kpt: [pkg]\n")
    before = {p.name: p.read_bytes() for p in package.iterdir()}
    done = _skrender(tree, "-i", "leeroy-web=leeroy-web:v1")
    assert done.returncode == 0, done.stderr
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(done.stdout)]
    assert names == ["deployed", "leeroy-web", "raw"]
    assert {p.name: p.read_bytes() for p in package.iterdir()} == before
    assert (tree / ".kpt-pipeline").is_dir() and not any((tree / ".kpt-pipeline").iterdir())


def test_hydration_dir_flag_and_no_dir_without_kpt(tmp_path: Path, kpt_binary: str) -> None:
    tree = tmp_path / "tree"
    _package(tree)
    _config(tree, "  kpt: [pkg]\n")
    done = _skrender(tree, "--hydration-dir", "out/hydrated")
    assert done.returncode == 0, done.stderr
    assert (tree / "out" / "hydrated").is_dir() and not (tree / ".kpt-pipeline").exists()
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "raw.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\n")
    _config(plain, "  rawYaml: [raw.yaml]\n")
    assert _skrender(plain).returncode == 0
    assert not (plain / ".kpt-pipeline").exists()


def test_a_kpt_deployer_creates_the_hydration_dir_too(tmp_path: Path) -> None:
    # runner/new.go isKptRendererOrDeployerUsed: deploy.kpt counts as well
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "raw.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\n")
    _config(tree, "  rawYaml: [raw.yaml]\ndeploy:\n  kpt: {}\n")
    done = _skrender(tree)
    assert done.returncode == 0, done.stderr
    assert (tree / ".kpt-pipeline").is_dir()
    # an empty kpt list is a kpt renderer too (renderer.go: Kpt != nil)
    shutil.rmtree(tree / ".kpt-pipeline")
    _config(tree, "  rawYaml: [raw.yaml]\n  kpt: []\n")
    assert _skrender(tree).returncode == 0
    assert (tree / ".kpt-pipeline").is_dir()


def test_kpt_failure_is_reported_with_its_exit_status(tmp_path: Path, kpt_binary: str) -> None:
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "pod.yaml").write_text(POD)  # no Kptfile: kpt refuses the package
    _config(tree, "  kpt: [pkg]\n")
    out = tree / "out.yaml"
    done = _skrender(tree, "-o", str(out))
    assert done.returncode != 0
    assert "running [kpt fn render pkg -o unwrap]" in done.stderr
    assert "No Kptfile found" in done.stderr
    assert not out.exists()


def test_missing_kpt_is_named(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    _package(tree)
    _config(tree, "  kpt: [pkg]\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    done = _skrender(tree, PATH=str(bin_dir))
    assert done.returncode == 1
    assert "kpt" in done.stderr and "not found" in done.stderr


# --- transform / validate ----------------------------------------------------------------------


def test_transformer_failure_uses_skaffolds_words(tmp_path: Path, kpt_binary: str) -> None:
    # transform.go Transform: fmt.Errorf("failed to run transfomer: %s, err: %v") - exit 1
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "raw.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\n")
    _config(tree, "  rawYaml: [raw.yaml]\n  transform:\n  - name: set-labels\n"
                  "    configMap: [app:web]\n")  # fmt: skip
    done = _skrender(tree)
    assert done.returncode == 1
    assert done.stderr.strip().endswith(
        "failed to run transfomer: ghcr.io/kptdev/krm-functions-catalog/set-labels:v0.1.5, "
        "err: exit status 1"
    )


def test_setters_reach_kpt_as_the_apply_setters_function(tmp_path: Path, kpt_binary: str) -> None:
    # kpt.go New: manifestOverrides become the apply-setters transformer
    tree = tmp_path / "tree"
    _package(tree)
    _config(tree, "  kpt: [pkg]\n")
    done = _skrender(tree, "--set", "name=x")
    assert done.returncode == 1
    assert (
        "failed to run transfomer: ghcr.io/kptdev/krm-functions-catalog/apply-setters:v0.2.4"
        in (done.stderr)
    )


def test_validator_failure_exits_with_kpts_status(tmp_path: Path, kpt_binary: str) -> None:
    # validate.go Validate returns cmd.Run()'s *exec.ExitError: skaffold exits with its code
    tree = tmp_path / "tree"
    _package(tree)
    _config(tree, "  kpt: [pkg]\n  validate:\n  - name: kubeval\n")
    done = _skrender(tree)
    assert done.returncode != 0
    assert done.stderr.strip().endswith(f"exit status {done.returncode}")


def test_kustomize_transformer_runs_on_the_mirror(tmp_path: Path, kpt_binary: str) -> None:
    # kustomize.go mirrorFile: TransformPath (kpt fn eval -i <image> <file>) before the setters
    if shutil.which("kustomize") is None and shutil.which("kubectl") is None:
        service_unavailable("kustomize")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (tree / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k\n")
    _config(tree, "  kustomize: {paths: [.]}\n  transform:\n  - name: set-namespace\n"
                  "    configMap: ['namespace:x']\n")  # fmt: skip
    done = _skrender(tree)
    assert done.returncode != 0
    assert done.stderr.strip().endswith("exit status 1")
    assert (tree / "cm.yaml").read_text().endswith("name: k\n")  # the original is untouched


@pytest.mark.parametrize(
    ("manifests", "message"),
    [
        (
            "  rawYaml: [raw.yaml]\n  transform:\n  - name: my-fn\n",
            'creating runner: creating renderer: unsupported transformer "my-fn". please only '
            "use the following transformers in skaffold-managed mode: [set-labels]. to use "
            "custom transformers, please use kpt-managed mode..",
        ),
        (
            "  rawYaml: [raw.yaml]\n  transform:\n  - name: set-labels\n    configMap: [a=b]\n",
            "creating runner: creating renderer: unknown arguments for transformer set-labels. "
            "please check if the .transformer field and make sure `configMapData` is a list of "
            "data in the form of `${KEY}:${VALUE}`.",
        ),
        (
            # validators are checked before transformers (every renderer's New)
            "  rawYaml: [raw.yaml]\n  transform:\n  - name: my-fn\n"
            "  validate:\n  - name: conftest\n",
            'creating runner: creating renderer: unsupported validator "conftest". please only '
            "use the following validators in skaffold-managed mode: [kubeval]. to use custom "
            "validators, please use kpt-managed mode..",
        ),
    ],
)
def test_unknown_functions_are_refused_with_skaffolds_words(
    tmp_path: Path, manifests: str, message: str
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "raw.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\n")
    _config(tree, manifests)
    done = _skrender(tree)
    assert done.returncode == 1
    assert done.stderr.strip().endswith(message)


def test_helm_only_config_does_not_check_functions() -> None:
    # helm.New never builds a Transformer or Validator
    config = Config("skaffold.yaml", 0, True, manifests=Manifests(transform=({"name": "nope"},)))
    kpt.check_functions(config)  # no renderer checks them
    with pytest.raises(ConfigError):
        kpt.check_functions(config._replace(manifests=config.manifests._replace(raw_yaml=("a",))))


def test_transformer_arguments_are_sorted_key_value_pairs() -> None:
    # transform.go: configMap "k:v" -> ConfigMap[k]=v -> util.EnvMapToSlice(..., "=") (sorted)
    config = Config(
        "skaffold.yaml",
        0,
        True,
        manifests=Manifests(
            transform=({"name": "set-labels", "configMap": ["z:1", "a:x:y", "z:2"]},)
        ),
    )
    assert kpt.transformers(config, {"b": "2", "a": "1"}, with_setters=True) == [
        kpt.KptFunction("ghcr.io/kptdev/krm-functions-catalog/set-labels:v0.1.5", ("a=x:y", "z=2")),
        kpt.KptFunction(
            "ghcr.io/kptdev/krm-functions-catalog/apply-setters:v0.2.4", ("a=1", "b=2")
        ),
    ]
    assert kpt.transformers(config, {"b": "2"}) == kpt.transformers(config)


def test_deployable_drops_kptfile_and_local_config_only() -> None:
    text = (
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n"
        "    config.kubernetes.io/local-config: 'true'\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  annotations:\n"
        "    config.kubernetes.io/local-config: 'false'\n    config.kubernetes.io/index: '3'\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n"
        "    config.kubernetes.io/index: '4'\n"
    )
    docs = [
        kpt.without_reader_annotations(doc)
        for doc in yaml.safe_load_all(text)
        if kpt.is_deployable(doc)
    ]
    assert [d["metadata"] for d in docs] == [
        {"name": "b", "annotations": {"config.kubernetes.io/local-config": "false"}},
        {"name": "c"},
    ]


def test_yaml_reader_split() -> None:
    assert kpt.yaml_reader_split("---\na: 1\n--- # c\n---\nb: 2\n") == ["a: 1\n", "b: 2\n"]


def test_helm_only_config_skips_functions_in_generate() -> None:
    # renderer.go: only the kpt, kubectl and kustomize renderers build transformers
    from engine.stages import sources

    config = Config("skaffold.yaml", 0, True, manifests=Manifests(transform=({"name": "nope"},)))
    assert sources.generate(config, cwd="/nonexistent", env={}) == []
