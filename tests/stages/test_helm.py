"""engine.stages.helm: skaffold's helm renderer (arguments, template data, skaffold filter).

Pure functions are checked against skaffold's own test vectors where it has them
(pkg/skaffold/helm/args_test.go, render/renderer/helm/args_test.go, runner/renderer_test.go).
Rendering with the real Helm SDK and the binary engine: tests/stages/test_helm_engines.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.core.errors import HelmError
from engine.stages import helm, helm_binary, helm_filter, helm_releases, helm_sdk, rewrite

CTX = helm_releases.Context(cwd="/work", env={"HOME": "/home/u", "STAGE": "prod"}, builds=())


# --- the releases to render -----------------------------------------------------------------------


def test_renderers_take_manifests_helm_then_deploy_helm_without_duplicates() -> None:
    manifests = {"releases": [{"name": "a", "chartPath": "c"}], "flags": {"global": ["--debug"]}}
    legacy = {
        "releases": [{"name": "a", "chartPath": "x"}, {"name": "b", "chartPath": "y"}],
        "flags": {"template": ["--skip-tests"]},
    }
    found = helm_releases.renderers(manifests, legacy)
    assert [[r.name for r in f.releases] for f in found] == [["a"], ["b"]]
    assert found[0].flags.global_ == ("--debug",)
    # runner/renderer.go builds the legacy renderer from the releases only: no flags
    assert found[1].flags == helm_releases.Flags()
    assert [f.legacy for f in found] == [False, True]
    assert helm_releases.renderers(None, {"releases": [{"name": "a"}]})[0].releases[0].name == "a"
    assert helm_releases.renderers(manifests, {"releases": [{"name": "a"}]})[1:] == []
    assert helm_releases.renderers(None, None) == []


def test_release_set_values_are_flattened_like_util_flatmap() -> None:
    (renderer,) = helm_releases.renderers(
        {"releases": [{"name": "a", "setValues": {"x": {"y": 1, "z": True}, "w": None}}]}, None
    )
    assert dict(renderer.releases[0].set_values) == {"x.y": "1", "x.z": "true", "w": ""}


# --- template data --------------------------------------------------------------------------------


def test_image_env_names_every_build_by_position_and_by_name() -> None:
    env = helm_releases.image_env(
        [
            ("gcr.io/p/app-1", "gcr.io/p/app-1:v1@sha256:" + "a" * 64),
            ("web.x", "web.x:2"),
        ]
    )
    assert env["IMAGE_REPO"] == env["IMAGE_REPO_gcr_io_p_app_1"] == "gcr.io/p/app-1"
    assert env["IMAGE_TAG"] == "v1"
    assert env["IMAGE_DIGEST"] == "sha256:" + "a" * 64
    assert env["IMAGE_DOMAIN"] == "gcr.io"
    assert env["IMAGE_REPO_NO_DOMAIN"] == "p/app-1"
    # args.go splits the whole reference at its first colon
    assert env["DIGEST_ALGO"] == "gcr.io/p/app-1" and env["DIGEST_HEX"].startswith("v1@")
    assert env["IMAGE_TAG2"] == env["IMAGE_TAG_web_x"] == "2"
    assert env["IMAGE_DIGEST2"] == ""
    assert env["IMAGE_FULLY_QUALIFIED2"] == "web.x:2"
    assert "IMAGE_TAG1" not in env


def test_image_env_without_a_tag_has_only_the_names() -> None:
    env = helm_releases.image_env([("app", "")])
    assert env == {
        "IMAGE_NAME": "IMAGE_NAME" and "app",
        "IMAGE_NAME_app": "app",
        "DIGEST": "",
        "DIGEST_app": "",
    }


# --- the arguments --------------------------------------------------------------------------------


def test_override_args_in_skaffolds_order() -> None:
    release = helm_releases.Release(
        name="r",
        set_values={"b": "2", "a": "1"},
        set_files={"f": "~/cfg.txt", "e": "/a b.txt"},
        set_value_templates={"image.tag": "{{.IMAGE_TAG_app}}@{{.IMAGE_DIGEST_app}}"},
        values_files=("base.yaml", "values-{{.STAGE}}.yaml"),
    )
    ctx = CTX._replace(builds=(("app", "app:1.0"),))
    assert helm_releases.override_args(release, ctx, {"z": "9"}) == [
        "--set", "a=1", "--set", "b=2",
        "--set-file", 'e="/a b.txt"', "--set-file", "f=/home/u/cfg.txt",
        # the digest is empty: the trailing "@" goes (args.go)
        "--set", "image.tag=1.0",
        "-f", "base.yaml", "-f", "values-prod.yaml",
        "--set", "z=9",
    ]  # fmt: skip


def test_template_args_like_skaffold() -> None:
    release = helm_releases.Release(name="r", chart_path="charts/c", version="1.2", repo="https://r",
                           skip_tests=True)  # fmt: skip
    flags = helm_releases.Flags(template=("--include-crds",))
    post = ["--post-renderer", "p"]
    args = helm_releases.template_args("r", release, "ns", flags, post, ["--set", "a=1"], "/o.yaml")
    assert args == [
        "template", "r", "charts/c", "--include-crds", "--post-renderer", "p", "--set", "a=1",
        "-f", "/o.yaml", "--version", "1.2", "--namespace", "ns", "--repo", "https://r",
        "--skip-tests",
    ]  # fmt: skip
    packaged = release._replace(packaged=True, remote_chart="oci://x/c", repo="", skip_tests=False)
    assert helm_releases.template_args("r", packaged, "", helm_releases.Flags(), [], [], None) == [
        "template", "r", "oci://x/c",
    ]  # fmt: skip


def test_command_args_add_the_kube_context_and_global_flags() -> None:
    flags = helm_releases.Flags(global_=("--debug",))
    ctx = CTX._replace(kube_context="kind-x")
    assert helm_releases.command_args(["dep", "build", "c"], flags, ctx) == [
        "--kube-context", "kind-x", "dep", "build", "c", "--debug",
    ]  # fmt: skip
    assert helm_releases.command_args(["plugin", "install", "d"], flags, ctx) == [
        "plugin", "install", "d", "--debug",
    ]  # fmt: skip
    assert (
        helm_releases.command_args(["template"], helm_releases.Flags(), ctx, secrets=True)[0]
        == "secrets"
    )


def test_a_release_name_template_must_resolve() -> None:
    (renderer,) = helm_releases.renderers(
        {"releases": [{"name": "{{.NOPE}}", "chartPath": "c"}]}, None
    )
    with pytest.raises(HelmError, match=r'cannot expand release name "\{\{\.NOPE\}\}"'):
        helm.render(renderer, CTX._replace(env={"PATH": ""}))


# --- skaffold filter ------------------------------------------------------------------------------


def test_filter_replaces_artifacts_adds_labels_and_reencodes_everything() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
        "  - {name: a, image: app}\n  - {name: r, image: redis}\n---\n---\n"
        "kind: ConfigMap\ndata: {image: app}\n"
    )
    out = helm_filter.filter_manifests(
        text,
        builds=[("app", "gcr.io/p/app:v1")],
        labels={"team": "x"},
        setters={},
        rules=rewrite.build_rules(),
    )
    assert out == (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    team: x\n  name: p\nspec:\n"
        "  containers:\n    - image: gcr.io/p/app:v1\n      name: a\n    - image: redis\n"
        "      name: r\n---\ndata:\n  image: app\nkind: ConfigMap"
    )


# --- the binary engine's version check ------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "helm4"),
    [
        ('version.BuildInfo{Version:"v4.2.3", GitCommit:"x"}', True),
        ('version.BuildInfo{Version:"v3.19.0", GitCommit:"x"}', False),
        ("v4.0.0-beta.1", True),
        ("v4.0.0-alpha.2", False),
        ("v4.0.0-beta.2", True),
        ("v4.0.0", True),
        ("v3.0", False),
        ("v10.1", True),
    ],
)
def test_helm_version_decides_the_post_renderer(output: str, helm4: bool) -> None:
    assert helm_binary.is_helm4(helm_binary.parse_version(output)) is helm4


def test_unparsable_helm_version_is_an_error() -> None:
    with pytest.raises(HelmError, match="unable to parse output"):
        helm_binary.parse_version("no digits here")


# --- the in-process engine's command line and values ----------------------------------------------


def test_template_flags_parse_like_pflag() -> None:
    call = helm_sdk.parse_args(
        ["--kube-context", "", "template", "r", "c", "-fa.yaml,b.yaml", "--values=c.yaml",
         "-n", "x", "--namespace=y", "--skip-tests", "--include-crds=false", "--debug"]
    )  # fmt: skip
    assert call.positional == ("template", "r", "c")
    assert call.values["values"] == ["a.yaml", "b.yaml", "c.yaml"]
    assert call.last("namespace") == "y"
    assert call.flags == {"skip-tests", "debug"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["template", "--no-such-flag"], "unknown flag: --no-such-flag"),
        (["template", "-Z"], "unknown shorthand flag: 'Z' in -Z"),
        (["template", "--set"], "flag needs an argument: --set"),
        (["template", "--skip-tests=maybe"], 'invalid argument "maybe"'),
    ],
)
def test_bad_template_flags_fail_like_helm(argv: list[str], message: str) -> None:
    with pytest.raises(HelmError, match=message):
        helm_sdk.parse_args(argv)


def test_set_values_go_into_existing_values_like_strvals() -> None:
    base: dict[str, Any] = {"hosts": ["x", "y", "z"], "m": {"a": 1}, "s": "text"}
    out = helm_sdk._set_tree(base, {"hosts": [None, "b"], "m": {"b": 2}, "s": {"k": "v"}})
    assert out == {"hosts": ["x", "b", "z"], "m": {"a": 1, "b": 2}, "s": {"k": "v"}}
    assert helm_sdk._set_tree({}, {"l": [None, None, "c"]}) == {"l": [None, None, "c"]}
    assert helm_sdk._set_tree({"l": [1]}, {"l": [None]}) == {"l": [None]}  # `l[0]=null`
    assert base["hosts"] == ["x", "y", "z"]


def test_values_files_merge_documents_and_files_in_order(tmp_path: Any) -> None:
    (tmp_path / "a.yaml").write_text("x: 1\nm: {a: 1, b: 1}\n---\nw: 2\n")
    (tmp_path / "b.yaml").write_text("m: {b: 2}\nl: [1]\n")
    call = helm_sdk.parse_args(["template", "r", "c", "-f", "a.yaml", "-f", "b.yaml",
                                "--set", "l[1]=9", "--set-string", "n=010"])  # fmt: skip
    assert helm_sdk.merge_values(call, cwd=str(tmp_path)) == {
        "x": 1, "w": 2, "m": {"a": 1, "b": 2}, "l": [1, 9], "n": "010",
    }  # fmt: skip


def test_a_bad_values_file_names_the_file(tmp_path: Any) -> None:
    (tmp_path / "bad.yaml").write_text("a: [\n")
    call = helm_sdk.parse_args(["template", "r", "c", "-f", "bad.yaml"])
    with pytest.raises(HelmError, match=r"failed to parse bad\.yaml"):
        helm_sdk.merge_values(call, cwd=str(tmp_path))
    with pytest.raises(HelmError, match=r"open missing\.yaml: no such file"):
        helm_sdk.merge_values(helm_sdk.parse_args(["-f", "missing.yaml"]), cwd=str(tmp_path))


def test_filter_rules_set_each_list_on_its_own() -> None:
    from engine.skaffold.schema import SelectorRule

    allow = [SelectorRule(group_kind="StatefulSet.apps", labels=(".*",), image=(".*",))]
    # render's rules: an allow entry takes the kind off the denylist; the filter's keep it
    assert ("apps", "StatefulSet") not in rewrite.build_rules(allow).deny
    rules = rewrite.filter_rules(allow)
    assert ("apps", "StatefulSet") in rules.deny
    assert rules.allow[("apps", "StatefulSet")].labels == (".*",)


def test_helm_error_text_is_made_printable() -> None:
    assert helm_releases.printable("a\x1b[31mb\nc\td\u202ee") == "a\\u001b[31mb\nc\td\\u202ee"


def test_set_expressions_follow_strvals_parse_into(tmp_path: Any) -> None:
    # (not "n:": values files are YAML 1.1 to sigs.k8s.io/yaml, there "n" is false)
    (tmp_path / "v.yaml").write_text("l: [x, y, z]\nm: [1, 2]\nj: [1, 2]\np: {a: 1}\n")
    call = helm_sdk.parse_args(
        ["-f", "v.yaml", "--set", "l[1]=b", "--set", "m={7}", "--set", "p.b=2,p.c[1]=3",
         "--set-json", '{"j": [9]}', "--set", r"dot\.key=1"]
    )  # fmt: skip
    assert helm_sdk.merge_values(call, cwd=str(tmp_path)) == {
        "l": ["x", "b", "z"],  # an index sets one element (setIndex)
        "m": [7],  # a list value replaces the list
        "j": [9],  # a JSON object merges like a values file
        "p": {"a": 1, "b": 2, "c": [None, 3]},
        "dot.key": 1,
    }
