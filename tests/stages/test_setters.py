"""kpt setters (--set / --set-value-file): engine.stages.setters, its rawYaml and kustomize
wiring."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.commands import _flags
from engine.core.errors import ConfigError, ManifestError
from engine.pipeline import RenderRequest, render
from engine.stages import setters
from engine.stages.kyaml import folded as kyaml_folded

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
apiVersion: skaffold/v4beta14
kind: Config
manifests:
  rawYaml: [k8s/*.yaml]
  kustomize:
    paths: [kus/overlay]
"""
CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm # from-param: ${name}
data:
  mixed: prefix-foo-suffix # from-param: prefix-${v}-suffix
  untouched: keep # from-param: ${unknown}
envs: # from-param: ${envs}
- a
"""
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p # from-param: ${name}
spec:
  containers:
  - name: c
    image: nginx:1.0 # from-param: nginx:${tag}
    args: # from-param: ${envs}
    - old
"""


def _tree(tmp_path: Path, config: str = CONFIG) -> Path:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "kus" / "base").mkdir(parents=True)
    (tmp_path / "kus" / "overlay").mkdir()
    (tmp_path / "skaffold.yaml").write_text(config)
    (tmp_path / "k8s" / "cm.yaml").write_text(CONFIG_MAP)
    (tmp_path / "kus" / "base" / "kustomization.yaml").write_text("resources: [pod.yaml]\n")
    (tmp_path / "kus" / "base" / "pod.yaml").write_text(POD)
    (tmp_path / "kus" / "overlay" / "kustomization.yaml").write_text(
        "resources: [../base]\ncommonLabels: {tier: web}\n"
    )
    return tmp_path


def _render(tree: Path, values: dict[str, str]) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": str(tree)}
    request = RenderRequest(cwd=str(tree), digest_source="none", env=env, setters=values)
    return render(request).text


def _apply(text: str, values: dict[str, str]) -> str:
    return setters.apply_to_pieces([text], values)[0]


# --- values -----------------------------------------------------------------------------------


def test_set_overrides_the_value_file_and_entries_without_equals_are_ignored(
    tmp_path: Path,
) -> None:
    (tmp_path / "vals.env").write_text("a=FROMFILE\nb=file\n# comment\n")
    got = setters.parse_setters(["b=flag", "junk", "c=x=y"], "vals.env", cwd=str(tmp_path))
    assert got == {"a": "FROMFILE", "b": "flag", "c": "x=y"}


def test_missing_value_file_fails_like_skaffolds_runner(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"creating renderer: open nope\.env: no such file"):
        setters.parse_setters([], "nope.env", cwd=str(tmp_path))


def test_set_flag_is_comma_split_and_repeatable(tmp_path: Path) -> None:
    args = _flags.parse_render_args(["--set", "a=1,b=2", "--set=c=[x, y]"])
    _flags.resolve_flags(args, {})
    request = _flags.render_request(args, str(tmp_path), {})
    # pflag's string slice splits on commas: "[x, y]" is cut in two
    assert dict(request.setters) == {"a": "1", "b": "2", "c": "[x"}


def test_no_setter_flags_give_an_empty_mapping(tmp_path: Path) -> None:
    args = _flags.parse_render_args([])
    _flags.resolve_flags(args, {})
    assert dict(_flags.render_request(args, str(tmp_path), {}).setters) == {}


# --- scalar setters ---------------------------------------------------------------------------


def test_scalar_pattern_substitutes_the_named_setters() -> None:
    text = "a: prefix-foo-suffix # from-param: prefix-${v}-suffix\n"
    assert _apply(text, {"v": "FROMFILE"}) == (
        "a: prefix-FROMFILE-suffix # from-param: prefix-${v}-suffix\n"
    )


def test_unknown_setter_names_leave_the_field_as_is() -> None:
    text = "a: keep # from-param: ${other}\nb: 1 # from-param:${v}\n"
    assert _apply(text, {"v": "x"}) == text


def test_comment_after_a_key_with_a_null_value_sets_nothing() -> None:
    text = "a: # from-param: ${x}\nb:\n- # from-param: ${x}\n"
    assert _apply(text, {"x": "v"}) == text


def test_names_not_given_are_read_back_from_the_current_value() -> None:
    text = "image: nginx:1.7 # from-param: ${image}:${tag}\n"
    assert _apply(text, {"tag": "2.0"}).startswith("image: nginx:2.0 ")


def test_unresolvable_names_are_an_error() -> None:
    with pytest.raises(ManifestError, match=r"values for setters \[\$\{y\}\] must be provided"):
        _apply("a: ab # from-param: ${x}-${y}\n", {"x": "z"})


def test_plain_values_are_resolved_again_quoted_ones_stay_strings() -> None:
    text = (
        "plain: a # from-param: ${n}\n"
        'quoted: "a" # from-param: ${n}\n'
        "colon: a # from-param: ${c}\n"
        "empty: a # from-param: ${e}\n"
        "block: | # from-param: ${n}\n  old\n"
        "after: 1\n"
    )
    got = _apply(text, {"n": "3", "c": "x: y", "e": ""})
    from engine import yamlv3

    assert yamlv3.load_all(got)[0] == {
        "plain": 3,  # kyaml keeps the plain style: yaml.v3 reads an int back
        "quoted": "3",
        "colon": "x: y",
        "empty": "",
        "block": "3",
        "after": 1,
    }


def test_anchor_of_a_set_scalar_is_kept() -> None:
    from engine import yamlv3

    got = _apply("a: &x old # from-param: ${v}\nb: *x\n", {"v": "new"})
    assert yamlv3.load_all(got)[0] == {"a": "new", "b": "new"}


# --- sequence setters -------------------------------------------------------------------------


def test_sequence_setter_replaces_block_and_flow_lists() -> None:
    from engine import yamlv3

    text = (
        "envs: # from-param: ${envs}\n- a\n- b\n"
        "flow: [a] # from-param: ${envs}\n"
        "nested:\n  list: # from-param: ${envs}\n  - {x: 1}\n  next: 2\n"
    )
    got = yamlv3.load_all(_apply(text, {"envs": "[x, 'y', 3]"}))[0]
    assert got == {
        "envs": ["x", "y", 3],
        "flow": ["x", "y", 3],
        "nested": {"list": ["x", "y", 3], "next": 2},
    }


def test_block_style_sequence_value_and_empty_value() -> None:
    from engine import yamlv3

    text = "a: # from-param: ${v}\n- old\nb: # from-param: ${e}\n- old\n"
    got = yamlv3.load_all(_apply(text, {"v": "- p\n- q: 1\n", "e": ""}))[0]
    assert got == {"a": ["p", {"q": 1}], "b": []}


@pytest.mark.parametrize("value", ["[x", "x", "{a: 1}"])
def test_sequence_setter_needs_a_list(value: str) -> None:
    with pytest.raises(ManifestError) as info:
        _apply("envs: # from-param: ${envs}\n- a\n", {"envs": value})
    assert str(info.value) == (
        f'input to array setter must be an array of values, but found "{value}"'
    )


def test_sequence_setter_pattern_must_be_one_setter() -> None:
    with pytest.raises(ManifestError, match=r'invalid setter pattern for array node: "x-\$\{a\}"'):
        _apply("envs: # from-param: x-${a}\n- a\n", {"a": "[b]"})


# --- kustomize mirror helpers -----------------------------------------------------------------


def test_is_kubernetes_manifest() -> None:
    assert setters.is_kubernetes_manifest("kind: A\napiVersion: v1\nmetadata: {}\n")
    assert setters.is_kubernetes_manifest("a: 1\n---\napiVersion: v1\nkind: A\nmetadata:\n")
    assert not setters.is_kubernetes_manifest("a: 1\n")
    assert not setters.is_kubernetes_manifest("key=value\nother\n")
    assert not setters.is_kubernetes_manifest("- a\n")


def test_mirrored_files_get_kyamls_folded_scalar_rewrite() -> None:
    from engine import yamlv3

    text = "apiVersion: v1\nkind: A\nmetadata: {}\nv: >\n  a\n   b\n"
    got = setters.apply_to_file_text(text, {"x": "1"})
    assert yamlv3.load_all(got)[0]["v"] == kyaml_folded("a\n b\n")


# --- through render ---------------------------------------------------------------------------


def test_render_applies_setters_to_raw_yaml_and_kustomize_bases(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    text = _render(tree, {"v": "FROMFILE", "name": "set", "tag": "2.0", "envs": "[x]"})
    assert text == (
        "apiVersion: v1\n"
        "data:\n"
        "  mixed: prefix-FROMFILE-suffix\n"
        "  untouched: keep\n"
        "envs:\n"
        "  - x\n"
        "kind: ConfigMap\n"
        "metadata:\n"
        "  name: set\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: Pod\n"
        "metadata:\n"
        "  labels:\n"
        "    tier: web\n"
        "  name: set\n"
        "spec:\n"
        "  containers:\n"
        "    - args:\n"
        "        - x\n"
        "      image: nginx:2.0\n"
        "      name: c\n"
    )
    # the sources are untouched: kustomize ran on a mirror
    assert (tree / "kus" / "base" / "pod.yaml").read_text() == POD


def test_setters_that_match_nothing_change_nothing(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    assert _render(tree, {"zzz": "1"}) == _render(tree, {})


def test_mirror_needs_a_kustomization_file(tmp_path: Path) -> None:
    tree = _tree(tmp_path, CONFIG.replace("kus/overlay", "nokus"))
    (tree / "nokus").mkdir()
    with pytest.raises(ManifestError) as info:
        _render(tree, {"v": "x"})
    assert str(info.value) == (
        f"cannot locate kustomization file from provided directory: {tree / 'nokus'}"
    )


def test_mirror_reports_a_missing_resource(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    (tree / "kus" / "overlay" / "kustomization.yaml").write_text("resources: [gone.yaml]\n")
    with pytest.raises(ManifestError, match=r"^stat .*/kus/overlay/gone\.yaml: no such file"):
        _render(tree, {"v": "x"})


def test_render_without_setters_does_not_load_the_setters_module(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    code = (
        "import sys\nfrom engine.cli import main\n"
        "try:\n    main(['render', '--digest-source=none', '-o', 'out.yaml'])\n"
        "except SystemExit:\n    pass\n"
        "print('engine.stages.setters' in sys.modules, 'ruamel' in sys.modules)\n"
    )
    env = {"PATH": os.environ["PATH"], "HOME": str(tree), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert done.stdout.splitlines()[-1] == "False False"
    assert "name: cm" in (tree / "out.yaml").read_text()


def test_file_text_deeper_than_libyaml_allows_is_still_parsed() -> None:
    # kyaml (yaml.v3) reads 10000 levels; PyYAML 6.0.4's libyaml alone would refuse 1000
    from engine.stages.setters import apply_to_file_text

    deep = "x: " + "[" * 1500 + "]" * 1500 + "\n"
    text = deep + "y: >\n  folded\n   more\n"
    assert apply_to_file_text(text, {}) != text  # the folded scalar is still rewritten
