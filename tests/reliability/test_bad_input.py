"""Bad input gets one clear error naming the file, never a traceback (issue 6, part 1).

Every case runs the real CLI (``python3 -m engine render``) as a subprocess in a temp tree and
checks: exit status 1, nothing on stdout, no "Traceback", no "internal error", and a message
naming the file (and the field or line where there is one).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reliability.helpers import OFFLINE, SKAFFOLD_YAML, assert_clean_failure, make_tree, run_cli

# name -> (files overriding the default tree, strings the message must contain)
CONFIG_CASES: dict[str, tuple[dict[str, str | bytes], tuple[str, ...]]] = {
    "invalid-yaml": (
        {"skaffold.yaml": SKAFFOLD_YAML.replace("  - image: foo", "  - image: foo\n   x: [")},
        ("skaffold.yaml", "line 3: did not find expected key"),
    ),
    "unknown-field": (
        {"skaffold.yaml": SKAFFOLD_YAML.replace("  artifacts:", "  artifactz:")},
        ("skaffold.yaml", "field artifactz not found"),
    ),
    "wrong-type": (
        {"skaffold.yaml": SKAFFOLD_YAML.replace("  - image: foo", "  - image: [foo]")},
        ("skaffold.yaml", "cannot unmarshal !!seq into string"),
    ),
    "duplicate-key": (
        {"skaffold.yaml": SKAFFOLD_YAML.replace("kind: Config", "kind: Config\nkind: Config")},
        ("skaffold.yaml", 'mapping key "kind" already defined at line 2'),
    ),
    "invalid-image-name": (
        {"skaffold.yaml": SKAFFOLD_YAML.replace("image: foo", 'image: "FOO BAR!"')},
        ("skaffold.yaml", "invalid image"),
    ),
    "broken-template": (
        {"skaffold.yaml": SKAFFOLD_YAML.replace("template: v1", 'template: "{{.FOO"')},
        ("envTemplate", "unclosed action"),
    ),
    "unknown-template-function": (
        {"skaffold.yaml": SKAFFOLD_YAML.replace("template: v1", 'template: "{{nope 1}}"')},
        ("envTemplate", 'function "nope" not defined'),
    ),
    "non-utf8-config": (
        {"skaffold.yaml": SKAFFOLD_YAML.encode() + b"metadata:\n  name: \xff\xfe\n"},
        ("skaffold.yaml",),
    ),
    "config-is-a-list": ({"skaffold.yaml": "- apiVersion: skaffold/v4beta13\n"}, ()),
    "config-is-a-scalar": ({"skaffold.yaml": "just text, apiVersion\n"}, ("skaffold.yaml",)),
    "unknown-api-version": (
        {"skaffold.yaml": SKAFFOLD_YAML.replace("v4beta13", "v9")},
        ("skaffold/v9",),
    ),
    "missing-manifest": (
        {"skaffold.yaml": SKAFFOLD_YAML.replace("k8s/*.yaml", "k8s/absent.yaml")},
        ("k8s/absent.yaml", "skaffold.yaml"),
    ),
}

MANIFEST_CASES: dict[str, tuple[dict[str, str | bytes], tuple[str, ...]]] = {
    "invalid-yaml": ({"k8s/bad.yaml": "apiVersion: v1\nkind: [Pod\n"}, ("k8s/bad.yaml",)),
    "duplicate-key": (
        {"k8s/dup.yaml": "apiVersion: v1\nkind: Pod\nkind: Pod\n"},
        ("k8s/dup.yaml", 'mapping key "kind" already defined at line 2'),
    ),
    "list-document": ({"k8s/list.yaml": "- a\n- b\n"}, ("k8s/list.yaml", "!!seq")),
    "scalar-document": ({"k8s/scalar.yaml": "hello\n"}, ("k8s/scalar.yaml", "!!str")),
    "non-utf8": (
        {"k8s/latin1.yaml": b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\xe9\n"},
        ("k8s/latin1.yaml", "UTF-8"),
    ),
    "binary-among-globbed": (
        {"k8s/zz-blob.yaml": bytes(range(256)) * 8},
        ("k8s/zz-blob.yaml",),
    ),
    "dangling-symlink": ({}, ("k8s/gone.yaml", "no such file")),
    "directory-named-in-rawyaml": ({}, ("k8s/dir.yaml", "is a directory")),
}


@pytest.mark.parametrize("name", sorted(CONFIG_CASES))
def test_bad_config_fails_cleanly(tmp_path: Path, name: str) -> None:
    files, names = CONFIG_CASES[name]
    tree = make_tree(tmp_path / "app", files)
    run = run_cli(["render", *OFFLINE], tree)
    assert_clean_failure(run, names=names)


@pytest.mark.parametrize("name", sorted(MANIFEST_CASES))
def test_bad_manifest_fails_cleanly(tmp_path: Path, name: str) -> None:
    files, names = MANIFEST_CASES[name]
    tree = make_tree(tmp_path / "app", files)
    if name == "dangling-symlink":
        os.symlink("nowhere.yaml", tree / "k8s" / "gone.yaml")
    if name == "directory-named-in-rawyaml":
        (tree / "k8s" / "dir.yaml").mkdir()
        config = SKAFFOLD_YAML.replace("- k8s/*.yaml", "- k8s/pod.yaml\n  - k8s/dir.yaml")
        # a glob walks directories; a directory named literally is read, and fails
        (tree / "skaffold.yaml").write_text(config)
    run = run_cli(["render", *OFFLINE], tree)
    assert_clean_failure(run, names=names)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_manifest(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "app")
    (tree / "k8s" / "pod.yaml").chmod(0)
    run = run_cli(["render", *OFFLINE], tree)
    assert_clean_failure(run, names=("k8s/pod.yaml", "permission denied"))


def test_missing_config_file(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "app")
    run = run_cli(["render", *OFFLINE, "-f", "nope.yaml"], tree)
    assert_clean_failure(run, names=("nope.yaml", "not found"))


def test_bad_flag_is_a_usage_error(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "app")
    run = run_cli(["render", "--offline=maybe"], tree)
    assert_clean_failure(run, names=("--offline",), code=127)


def test_bad_build_artifacts_file(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "app", {"artifacts.json": "{not json"})
    run = run_cli(["render", *OFFLINE, "-a", "artifacts.json"], tree)
    assert run.code != 0 and "Traceback" not in run.stderr, run.stderr
    assert "internal error" not in run.stderr


def test_good_tree_still_renders(tmp_path: Path) -> None:
    """The control: the tree the cases break renders, so each failure is the break's doing."""
    tree = make_tree(tmp_path / "app")
    run = run_cli(["render", *OFFLINE], tree)
    assert run.code == 0, run.stderr
    assert "image: gcr.io/p/foo:v1" in run.stdout
