"""skaffold's config validation (validation.go) through config.load on real files.

Cases follow skaffold's ``validation_test.go`` and its ``integration/testdata/build-dependencies``
project; the messages are validation.go's format strings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import ConfigError
from engine.skaffold.config import LoadRequest, load
from engine.skaffold.validation import Source, problems

HEAD = "apiVersion: skaffold/v4beta13\nkind: Config\n"

# integration/testdata/build-dependencies/skaffold.yaml (build section)
BUILD_DEPENDENCIES = """build:
  tagPolicy:
    sha256: {}
  artifacts:
  - image: image1
    context: app1
    custom:
      buildCommand: ./build.sh
      dependencies:
        paths:
        - "foo"
    requires:
    - image: image2
  - image: image2
    context: app2
    docker: {}
    requires:
    - image: image3
      alias: IMAGE3
  - image: image3
    context: app3
    docker: {}
manifests:
  rawYaml: ['k8s/*.yaml']
profiles:
- name: invalid-dependency
  patches:
  - op: add
    path: /build/artifacts/0/requires/0/image
    value: "image5"
- name: circular-dependency
  patches:
  - op: add
    path: /build/artifacts/1/requires/0/image
    value: "image1"
"""


def _load(tmp_path: Path, body: str, *profiles: str) -> None:
    (tmp_path / "skaffold.yaml").write_text(HEAD + body)
    load(LoadRequest(cwd=str(tmp_path), profiles=profiles))


def _error(tmp_path: Path, body: str, *profiles: str) -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, body, *profiles)
    return str(info.value)


def test_build_dependencies_valid_unknown_and_circular(tmp_path: Path) -> None:
    _load(tmp_path, BUILD_DEPENDENCIES)
    where = f"source: {tmp_path / 'skaffold.yaml'}, in unnamed config[0]: "
    assert _error(tmp_path, BUILD_DEPENDENCIES, "invalid-dependency") == (
        f'invalid skaffold config: {where}unknown build dependency "image5" for artifact "image1"'
    )
    assert _error(tmp_path, BUILD_DEPENDENCIES, "circular-dependency") == (
        f'invalid skaffold config: {where}cycle detected in build dependencies involving "image1"'
    )


def test_self_cycle_and_first_error_only() -> None:
    arts = [
        {"image": "artifact1", "docker": {}, "requires": [{"image": "artifact1"}]},
        {"image": "artifact2", "docker": {}, "requires": [{"image": "nope"}]},
    ]
    doc = {"apiVersion": "skaffold/v4beta13", "kind": "Config", "build": {"artifacts": arts}}
    assert problems([Source(doc, "W")]) == [
        'W: cycle detected in build dependencies involving "artifact1"'
    ]


def test_aliases_repeated_and_invalid() -> None:
    arts = [
        {
            "image": "a",
            "docker": {},
            "requires": [{"image": "b", "alias": "X"}, {"image": "c", "alias": "X"}],
        },
        {"image": "b", "docker": {}, "requires": [{"image": "gcr.io/c"}]},
        {"image": "c", "jib": {}, "requires": [{"image": "gcr.io/c"}]},  # jib: no alias rule
        {"image": "gcr.io/c", "docker": {}},
    ]
    doc = {"apiVersion": "skaffold/v4beta13", "kind": "Config", "build": {"artifacts": arts}}
    pattern = '"^[a-zA-Z_][a-zA-Z0-9_]*$"'
    assert problems([Source(doc, "W")]) == [
        'W: invalid build dependency for artifact "a": alias "X" repeated',
        f'W: invalid build dependency for artifact "b": alias "gcr.io/c" doesn\'t match '
        f"required pattern {pattern}",
    ]


def test_duplicate_images_across_configs_and_double_wrapping(tmp_path: Path) -> None:
    body = "metadata: {name: one}\nbuild:\n  artifacts:\n  - image: app\n  - image: app:v1\n"
    body += "---\n" + HEAD + "metadata: {name: two}\nbuild:\n  artifacts:\n  - image: app\n"
    message = _error(tmp_path, body)
    file = tmp_path / "skaffold.yaml"
    one, two = f'source: {file}, in module "one"', f'source: {file}, in module "two"'
    lines = message.removeprefix("invalid skaffold config: ").split("\n")
    assert lines == [
        f'{two}: {one}: {one}: invalid image "app:v1": no tag should be specified. Use '
        "taggers instead: https://skaffold.dev/docs/how-tos/taggers/",
        f'{two}: {one}: duplicate image "app" found in sources {file} and {file}: artifact '
        "image names must be unique across all configurations",
    ]


@pytest.mark.parametrize(
    ("artifact", "message"),
    [
        (
            "  - image: a\n    docker: {network: 'container:-not-valid'}\n",
            "artifact a has invalid container name '-not-valid'",
        ),
        (
            "  - image: a\n    custom:\n      dependencies: {command: x, ignore: [y]}\n",
            "artifact a has invalid dependencies; dependencies.ignore can only be used in "
            "conjunction with dependencies.paths",
        ),
        (
            "  - image: a\n    sync:\n      manual: [{src: 'src/**', dest: /, strip: app/}]\n",
            "sync rule pattern 'src/**' does not have prefix 'app/'",
        ),
        ("  - image: a\n    jib: {type: ant}\n", "artifact a has invalid Jib plugin type 'ant'"),
        (
            "  - image: a\n    ko: {}\n    sync: {infer: ['static/*']}\n",
            "artifact a has an invalid pattern static/* for inferred file sync with the ko "
            "builder. The pattern must specify the 'kodata' directory. For instance, if you want "
            "to sync all static content, and your main package is in the workspace directory, "
            "you can use the pattern 'kodata/**/*'",
        ),
    ],
)
def test_artifact_checks(tmp_path: Path, artifact: str, message: str) -> None:
    where = f"source: {tmp_path / 'skaffold.yaml'}, in unnamed config[0]: "
    error = _error(tmp_path, "build:\n  artifacts:\n" + artifact)
    assert error == f"invalid skaffold config: {where}{message}"


def test_config_checks(tmp_path: Path) -> None:
    body = (
        "build:\n  local: {tryImportMissing: true}\n  tagPolicy: {sha256: {}}\n"
        "portForward:\n- resourceType: Deploymen\n  resourceName: x\n  port: 8080\n"
        "deploy:\n  logs: {prefix: pod}\n"
    )
    lines = _error(tmp_path, body).removeprefix("invalid skaffold config: ").split("\n")
    assert [line.split(": ", 2)[2] for line in lines] == [
        "Deploymen is not a valid resource type for port forwarding",
        "invalid log prefix 'pod'. Valid values are 'auto', 'container', 'podAndContainer' "
        "or 'none'",
        "tagging policy 'sha256' can not be used when 'tryImportMissing' is enabled",
    ]


def test_builders_against_the_build_type(tmp_path: Path) -> None:
    # cluster builds default an artifact to kaniko (defaults.go), so a plain one is fine
    _load(tmp_path, "build:\n  cluster: {}\n  artifacts:\n  - image: a\n")
    error = _error(tmp_path, "build:\n  cluster: {}\n  artifacts:\n  - image: a\n    ko: {}\n")
    assert "only one element in set artifact can be set" in error
    error = _error(tmp_path, "build:\n  artifacts:\n  - image: a\n    kaniko: {}\n")
    assert "found a 'kaniko' artifact, which is incompatible with the 'local' builder:" in error
    error = _error(
        tmp_path, "build:\n  googleCloudBuild: {}\n  artifacts:\n  - image: a\n    custom: {}\n"
    )
    assert "found a 'custom' artifact, which is incompatible with the 'gcb' builder:" in error
    error = _error(tmp_path, "build:\n  googleCloudBuild: {workerPool: pool}\n")
    assert error.endswith(
        "invalid value for worker pool. Must match pattern "
        "projects/{project}/locations/{location}/workerPools/{worker_pool}"
    )


def _render_error(tmp_path: Path, body: str) -> str:
    from engine.pipeline import RenderRequest, render

    (tmp_path / "skaffold.yaml").write_text(HEAD + "manifests: {rawYaml: []}\n" + body)
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "DOCKER_HOST": "unix:///nonexistent"}
    with pytest.raises(ConfigError) as info:
        render(RenderRequest(cwd=str(tmp_path), env=env, digest_source="tag"))
    return str(info.value)


def test_custom_actions_and_verify_names(tmp_path: Path) -> None:
    # validation_test.go TestValidateCustomActions / validateVerifyTests (ProcessWithRunContext)
    action = "- name: {0}\n  containers:\n  - name: {1}\n    image: busybox\n"
    body = "customActions:\n" + action.format("action1", "c1") + action.format("action1", "c2")
    assert _render_error(tmp_path, body) == (
        "invalid skaffold config: found duplicate custom action action1. Custom action names "
        "must be unique"
    )
    body = "customActions:\n" + action.format("a1", "same") + action.format("a2", "same")
    assert _render_error(tmp_path, body).endswith(
        "found duplicate container name same in custom action. Container names must be unique"
    )
    verify = "- name: {0}\n  container:\n    name: {1}\n    image: busybox\n"
    body = "verify:\n" + verify.format("t", "c1") + verify.format("t", "c1")
    assert _render_error(tmp_path, body) == (
        "invalid skaffold config: found duplicate test name 't' in 'verify' test cases. 'verify' "
        "test case names must be unique \n found duplicate container name 'c1' in 'verify' test "
        "cases. 'verify' container names must be unique"
    )


def test_network_container_needs_a_running_container(tmp_path: Path) -> None:
    body = "build:\n  artifacts:\n  - image: a\n    docker: {network: 'container:db'}\n"
    assert _render_error(tmp_path, body) == (
        "invalid skaffold config: error retrieving docker containers list"
    )


@pytest.mark.integration
def test_network_container_missing_from_the_engine(tmp_path: Path, docker_engine: str) -> None:
    from engine.pipeline import RenderRequest, render

    body = "build:\n  artifacts:\n  - image: a\n    docker: {network: 'container:db'}\n"
    (tmp_path / "skaffold.yaml").write_text(HEAD + "manifests: {rawYaml: []}\n" + body)
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "DOCKER_HOST": docker_engine}
    with pytest.raises(ConfigError) as info:
        render(RenderRequest(cwd=str(tmp_path), env=env, digest_source="tag"))
    assert str(info.value) == (
        "invalid skaffold config: container 'db' not found, required by image 'a' for docker "
        "network stack sharing"
    )


def test_network_mode_container_name_is_an_env_template(tmp_path: Path) -> None:
    body = "build:\n  artifacts:\n  - image: a\n    docker: {network: 'container:{{.NET}}'}\n"
    (tmp_path / "skaffold.yaml").write_text(HEAD + body)
    with pytest.raises(ConfigError, match=r"artifact a has invalid container name '-bad'$"):
        load(LoadRequest(cwd=str(tmp_path), env={"NET": "-bad"}))
    error = _render_error(tmp_path, body.replace("{{.NET}}", "{{.HOME}}x"))
    assert error.endswith("invalid container name '" + str(tmp_path) + "x'")
