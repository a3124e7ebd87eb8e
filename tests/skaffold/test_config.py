"""Loading skaffold.yaml files from real temp directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.core.errors import ConfigError
from engine.skaffold.config import (
    GlobalConfig,
    LoadRequest,
    current_kube_context,
    global_config,
    load,
    read_dotenv,
)

HEAD = "apiVersion: skaffold/v4beta13\nkind: Config\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_defaults_and_typed_view(tmp_path: Path) -> None:
    _write(
        tmp_path / "skaffold.yaml",
        HEAD
        + "build:\n  insecureRegistries: [r:5000]\n  artifacts:\n  - image: app\n"
        + "    docker:\n      buildArgs: {A: '1', B: null}\n"
        + "resourceSelector:\n  allow:\n  - groupKind: Foo.bar\n    image: [.*]\n",
    )
    [cfg] = load(LoadRequest(cwd=str(tmp_path)))
    assert cfg.is_root and cfg.index == 0 and cfg.name is None
    assert cfg.display_name == "unnamed config[0]"
    assert cfg.source_file == str(tmp_path / "skaffold.yaml")
    assert cfg.tag_policy.kind == "gitCommit" and dict(cfg.tag_policy.options) == {}
    art = cfg.artifacts[0]
    assert (art.image, art.context, art.builder) == ("app", ".", "docker")
    assert art.docker is not None and art.docker.dockerfile == "Dockerfile"
    assert dict(art.docker.build_args) == {"A": "1", "B": None}
    assert cfg.manifests.raw_yaml == ("k8s/*.yaml",)  # single-config default
    assert cfg.insecure_registries == ("r:5000",)
    assert cfg.allow[0].group_kind == "Foo.bar" and cfg.allow[0].image == (".*",)
    assert cfg.local is not None and cfg.local.concurrency == 1


def test_yml_fallback_and_not_found(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"skaffold config file skaffold\.yaml not found - check"):
        load(LoadRequest(cwd=str(tmp_path)))
    with pytest.raises(ConfigError, match=r"skaffold config file nope\.yaml not found"):
        load(LoadRequest(cwd=str(tmp_path), filename="nope.yaml"))
    _write(tmp_path / "skaffold.yml", HEAD + "manifests:\n  rawYaml: [x.yaml]\n")
    assert load(LoadRequest(cwd=str(tmp_path)))[0].manifests.raw_yaml == ("x.yaml",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: Config\n", "error parsing skaffold configuration file: missing apiVersion"),
        ("", "missing apiVersion"),
        (
            "apiVersion: skaffold/v9\nkind: Config\n",
            'unknown skaffold config API version "skaffold/v9"',
        ),
        (
            HEAD + "build:\n  artifacts:\n  - image: foo\n   context: [x\n",
            "parsing api version: yaml: line",
        ),
        (
            "kind: Config\napiVersion: skaffold/v4beta13\nbuidl: {}\n",
            "unmarshal errors:\n  line 2: field buidl not found in type v4beta13.SkaffoldConfig",
        ),
        (
            HEAD + "manifests:\n  rawYaml: k8s/x.yaml\n",
            "line 4: cannot unmarshal !!str `k8s/x.yaml` into []string",
        ),
        (HEAD + "build:\n  local:\n    push: maybe\n", "cannot unmarshal !!str `maybe` into bool"),
        (
            "apiVersion: skaffold/v2beta29\nkind: Config\nmanifests: {}\n",
            "field manifests not found in type v2beta29.SkaffoldConfig",
        ),
    ],
)
def test_parse_errors(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path / "skaffold.yaml", text)
    with pytest.raises(ConfigError) as info:
        load(LoadRequest(cwd=str(tmp_path)))
    assert message in str(info.value)
    assert str(info.value).startswith("parsing skaffold config: ")


def test_unknown_field_line_in_second_document(tmp_path: Path) -> None:
    text = HEAD + "metadata:\n  name: a\n---\n" + HEAD + "metadata:\n  name: b\n  bogus: 1\n"
    _write(tmp_path / "skaffold.yaml", text)
    with pytest.raises(
        ConfigError, match=r"line 9: field bogus not found in type v4beta13\.Metadata"
    ):
        load(LoadRequest(cwd=str(tmp_path)))


def test_anchor_keys_are_scrubbed(tmp_path: Path) -> None:
    text = HEAD + ".art: &art\n  image: app\nbuild:\n  artifacts:\n  - *art\n"
    _write(tmp_path / "skaffold.yaml", text)
    assert load(LoadRequest(cwd=str(tmp_path)))[0].artifacts[0].image == "app"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        ("  artifacts:\n  - image: app:v1\n", 'invalid image "app:v1": no tag should be specified'),
        (
            "  tagPolicy:\n    envTemplate: {template: x}\n    dateTime: {}\n",
            "only one element in set tag can be set. got EnvTemplateTagger and DateTimeTagger",
        ),
        ("  tagPolicy:\n    envTemplate: {}\n", "required value not set: template"),
        ("  artifacts:\n  - image: a\n  - image: a\n", 'duplicate image "a" found'),
    ],
)
def test_validation(tmp_path: Path, build: str, message: str) -> None:
    _write(tmp_path / "skaffold.yaml", HEAD + "build:\n" + build)
    with pytest.raises(ConfigError, match=r"^invalid skaffold config: ") as info:
        load(LoadRequest(cwd=str(tmp_path)))
    assert message in str(info.value)


def test_missing_kind(tmp_path: Path) -> None:
    _write(tmp_path / "skaffold.yaml", "apiVersion: skaffold/v4beta13\n")
    with pytest.raises(ConfigError, match="required value not set: kind"):
        load(LoadRequest(cwd=str(tmp_path)))


def _multi(tmp_path: Path) -> None:
    _write(
        tmp_path / "app" / "skaffold.yaml",
        HEAD
        + "metadata: {name: app}\nrequires:\n- path: ../lib\n  activeProfiles:\n"
        + "  - {name: libprod, activatedBy: [prod]}\n  - {name: always}\n"
        + "build:\n  artifacts:\n  - image: app-img\n"
        + "profiles:\n- name: prod\n",
    )
    _write(
        tmp_path / "lib" / "skaffold.yaml",
        HEAD
        + "metadata: {name: lib}\nbuild:\n  artifacts:\n  - image: lib-img\n    context: src\n"
        + "manifests:\n  rawYaml: [k8s/lib.yaml]\n"
        + "profiles:\n- name: libprod\n- name: always\n",
    )


def test_requires_order_paths_and_active_profiles(tmp_path: Path) -> None:
    _multi(tmp_path)
    lib, app = load(LoadRequest(cwd=str(tmp_path / "app"), profiles=("prod",)))
    assert (lib.name, app.name) == ("lib", "app")
    assert not lib.is_root and app.is_root
    assert lib.active_profiles == ("libprod", "always")  # activeProfiles order
    assert app.active_profiles == ("prod",)
    assert lib.artifacts[0].context == str(tmp_path / "lib" / "src")
    assert lib.manifests.raw_yaml == (str(tmp_path / "lib" / "k8s" / "lib.yaml"),)
    assert app.manifests.raw_yaml == ()  # several configs: no default rawYaml


def test_module_selection(tmp_path: Path) -> None:
    _multi(tmp_path)
    [lib] = load(LoadRequest(cwd=str(tmp_path / "app"), filename="../lib/skaffold.yaml"))
    assert lib.is_root and lib.artifacts[0].context == "src"
    configs = load(LoadRequest(cwd=str(tmp_path / "app"), modules=("app",)))
    assert [c.name for c in configs] == ["lib", "app"]
    with pytest.raises(ConfigError, match=r"did not find any configs matching selection \[nope\]"):
        load(LoadRequest(cwd=str(tmp_path / "app"), modules=("nope",)))


def test_module_filter_same_file(tmp_path: Path) -> None:
    text = HEAD + "metadata: {name: one}\n---\n" + HEAD + "metadata: {name: two}\n"
    _write(tmp_path / "skaffold.yaml", text)
    both = load(LoadRequest(cwd=str(tmp_path)))
    assert [c.manifests.raw_yaml for c in both] == [(), ()]
    [two] = load(LoadRequest(cwd=str(tmp_path), modules=("two",)))
    assert two.manifests.raw_yaml == ("k8s/*.yaml",) and two.index == 1


def test_unknown_profile_and_name_clash(tmp_path: Path) -> None:
    _multi(tmp_path)
    with pytest.raises(ConfigError, match=r'profile selection \["foo" "-bar"\] did not match'):
        load(LoadRequest(cwd=str(tmp_path / "app"), profiles=("foo", "-bar", "prod")))
    _write(
        tmp_path / "dup" / "skaffold.yaml",
        HEAD + "metadata: {name: x}\n---\n" + HEAD + "metadata: {name: x}\n",
    )
    with pytest.raises(ConfigError, match='multiple skaffold configs named "x" found in file'):
        load(LoadRequest(cwd=str(tmp_path / "dup")))


def test_gcs_requires_not_supported(tmp_path: Path) -> None:
    _write(
        tmp_path / "skaffold.yaml", HEAD + "requires:\n- googleCloudStorage: {source: gs://b/x}\n"
    )
    with pytest.raises(ConfigError, match="not supported by skrender"):
        load(LoadRequest(cwd=str(tmp_path)))


def test_old_version_end_to_end(tmp_path: Path) -> None:
    text = "apiVersion: skaffold/v1beta13\nkind: Config\nbuild:\n  artifacts:\n  - image: foo\n"
    text += "deploy:\n  kubectl:\n    manifests:\n    - k8s/*.yaml\n"
    text += "  helm:\n    releases:\n    - name: r\n      chartPath: c\n"
    _write(tmp_path / "skaffold.yaml", text)
    [cfg] = load(LoadRequest(cwd=str(tmp_path)))
    assert cfg.manifests.raw_yaml == ("k8s/*.yaml",)
    assert cfg.legacy_helm is not None and cfg.legacy_helm["releases"][0]["name"] == "r"
    assert cfg.manifests.helm is not None
    assert cfg.raw["apiVersion"] == "skaffold/v4beta14"


def test_current_kube_context_and_global_config(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert current_kube_context(env) == ""
    _write(tmp_path / ".kube" / "config", "current-context: kind-dev\n")
    assert current_kube_context(env) == "kind-dev"
    other = tmp_path / "k2"
    _write(other, "current-context: prod\n")
    assert (
        current_kube_context({**env, "KUBECONFIG": f"{tmp_path / 'none'}{os.pathsep}{other}"})
        == "prod"
    )
    assert global_config(env, "kind-dev") == GlobalConfig()
    _write(
        tmp_path / ".skaffold" / "config",
        "global:\n  default-repo: gcr.io/g\n  local-cluster: false\n"
        "kubeContexts:\n- kube-context: kind-.*\n  default-repo: reg.local\n"
        "  insecure-registries: [a]\n",
    )
    assert global_config(env, "kind-dev") == GlobalConfig("reg.local", None, ("a",), False)
    assert global_config(env, "gke").default_repo == "gcr.io/g"


def test_read_dotenv(tmp_path: Path) -> None:
    assert read_dotenv(str(tmp_path / "missing.env")) == {}
    _write(
        tmp_path / "x.env",
        "# comment\nA=1\nexport B = two # trailing\nC=\"q\\nline ${A}\"\nD='raw $A'\n\nE: e\n",
    )
    assert read_dotenv(str(tmp_path / "x.env")) == {
        "A": "1",
        "B": "two",
        "C": "q\nline 1",
        "D": "raw $A",
        "E": "e",
    }
