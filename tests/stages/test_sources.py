"""engine.stages.sources: skaffold's rawYaml and kustomize manifest sources."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from engine.core.errors import ConfigError, ManifestError, ToolError, YamlError
from engine.skaffold.schema import Config, Kustomize, Manifests
from engine.stages import sources

# --- skaffold's TestAppend* vectors (pkg/skaffold/kubernetes/manifest/manifests_test.go) ---

POD1 = """apiVersion: v1
kind: Pod
metadata:
  name: leeroy-web
spec:
  containers:
  - name: leeroy-web
    image: leeroy-web"""

POD2 = """apiVersion: v1
kind: Pod
metadata:
  name: leeroy-app
spec:
  containers:
  - name: leeroy-app
    image: leeroy-app"""

CLUSTER_ROLE = """aggregationRule: {}
apiVersion: v1
kind: ClusterRole"""

POD_UNORDERED = """kind: Pod
metadata:
  name: leeroy-web
apiVersion: v1
spec:
  containers:
  - name: leeroy-web
    image: leeroy-web"""

ROLE_BINDING = """apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
subjects:
- kind: ServiceAccount
  name: default
  namespace: default"""

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: my-app
spec:
  selector:
    app: my-app"""


def test_append_empty() -> None:
    assert sources.append_split("") == [""]


def test_append_single_and_unordered() -> None:
    assert sources.append_split(POD1) == [POD1]
    assert sources.append_split(POD_UNORDERED) == [POD_UNORDERED]


def test_append_with_separators() -> None:
    data = POD1 + "\n---\n" + POD2 + "\n---\n" + POD_UNORDERED
    assert sources.append_split(data) == [POD1, POD2, POD_UNORDERED]


def test_append_without_separators() -> None:
    data = POD1 + "\n" + POD2 + "\n" + CLUSTER_ROLE
    assert sources.append_split(data) == [POD1, POD2, CLUSTER_ROLE]


def test_append_different_api_version() -> None:
    assert sources.append_split("apiVersion: v1\napiVersion: v2") == [
        "apiVersion: v1",
        "apiVersion: v2",
    ]


def test_append_service_and_role_binding() -> None:
    entries = sources.append_split(ROLE_BINDING + "\n" + SERVICE)
    assert entries == [ROLE_BINDING, SERVICE]
    assert sources.join_entries(entries) == ROLE_BINDING + "\n---\n" + SERVICE


def test_append_commented_separator_cuts_kind_first_documents() -> None:
    # spec 8.1: '--- # c' does not split; kind-before-apiVersion documents get fragmented
    data = "kind: ConfigMap\napiVersion: v1\n--- # two\nkind: ConfigMap\napiVersion: v1\n"
    assert sources.append_split(data) == [
        "kind: ConfigMap",
        "apiVersion: v1\n--- # two\nkind: ConfigMap",
        "apiVersion: v1\n",
    ]


def test_append_crlf_separator_is_not_a_separator() -> None:
    data = "apiVersion: v1\r\nkind: A\r\n---\r\napiVersion: v1\r\nkind: B\r\n"
    # no exact "\n---\n": the key-order heuristic runs ("apiVersion" < "kind" continues)
    assert sources.append_split(data) == [
        "apiVersion: v1\r\nkind: A\r\n---\r",
        "apiVersion: v1\r\nkind: B\r\n",
    ]


def test_append_single_api_version_is_kept_verbatim() -> None:
    data = "\n\nkind: A\n---\nkind: B\napiVersion: v1\n"
    assert sources.append_split(data) == [data]


def test_append_leading_non_key_line_and_equal_keys() -> None:
    data = "# c\napiVersion: v1\napiVersion: v2\n"
    # the comment opens the first part with a newline; an equal key starts a new part
    assert sources.append_split(data) == ["\n# c\napiVersion: v1", "apiVersion: v2\n"]


# --- the kyaml pass ---------------------------------------------------------------------------


def test_join_entries_trims_go_whitespace_only() -> None:
    assert sources.join_entries([" a\n\n", "\tb \u00a0"]) == "a\n---\nb"
    # U+001C is whitespace to Python but not to Go
    assert sources.join_entries(["\x1ca"]) == "\x1ca"


def test_kyaml_pieces_restores_newlines_but_not_on_the_last() -> None:
    assert sources.kyaml_pieces(["a: |\n  x\n", "b: |\n  y\n"]) == [
        "a: |\n  x\n",
        "b: |\n  y",
    ]


def test_kyaml_pieces_comment_separator_and_crlf() -> None:
    assert sources.kyaml_pieces(["a: 1\r\n--- # next\r\nb: 2\r\n"]) == ["a: 1\n", "b: 2"]


def test_kyaml_pieces_first_line_separator_is_not_split() -> None:
    assert sources.kyaml_pieces(["---\na: 1\n---\n"]) == ["---\na: 1\n---"]


def test_kyaml_pieces_invalid_separator() -> None:
    with pytest.raises(ManifestError, match=r"^invalid document separator: --- foo$"):
        sources.kyaml_pieces(["a: 1\n--- foo\nb: 2"])


def test_kyaml_pieces_empty() -> None:
    assert sources.kyaml_pieces([]) == []
    assert sources.kyaml_pieces([" \n"]) == []


# --- rawYaml file selection ---------------------------------------------------------------------


def _config(
    raw_yaml: tuple[str, ...] = (),
    kustomize: Kustomize | None = None,
    *,
    name: str | None = None,
    source: str = "/w/skaffold.yaml",
    **manifest_fields: Any,
) -> Config:
    manifests = Manifests(raw_yaml=raw_yaml, kustomize=kustomize, **manifest_fields)
    return Config(source_file=source, index=0, is_root=True, name=name, manifests=manifests)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    files = {
        "k8s/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
        "k8s/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        "k8s/B-upper.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: upper\n",
        "k8s/10-z.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: z\n",
        "k8s/2-y.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n",
        "k8s/c.yml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        "k8s/notes.txt": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n",
        "k8s/sub/d.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n",
        "k8s/sub/.e.json": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "e"}}',
    }
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def _rel(root: Path, paths: list[str]) -> list[str]:
    return [os.path.relpath(p, root) for p in paths]


def test_raw_yaml_explicit_order(tree: Path) -> None:
    cfg = _config(("k8s/b.yaml", "k8s/a.yaml", "k8s/10-z.yaml"))
    files = sources.raw_yaml_files(cfg, cwd=str(tree), env={})
    assert _rel(tree, files) == ["k8s/b.yaml", "k8s/a.yaml", "k8s/10-z.yaml"]
    assert all(os.path.isabs(f) for f in files)


def test_raw_yaml_duplicates_keep_first_position(tree: Path) -> None:
    files = sources.raw_yaml_files(_config(("k8s/b.yaml", "k8s/*")), cwd=str(tree), env={})
    assert _rel(tree, files) == [
        "k8s/b.yaml",
        "k8s/10-z.yaml",
        "k8s/2-y.yaml",
        "k8s/B-upper.yaml",
        "k8s/a.yaml",
        "k8s/c.yml",
        "k8s/notes.txt",
        "k8s/sub/.e.json",  # a globbed directory is walked, dot-files included
        "k8s/sub/d.yaml",
    ]
    files = sources.raw_yaml_files(_config(("k8s/*.yaml", "k8s/b.yaml")), cwd=str(tree), env={})
    assert _rel(tree, files)[-1] == "k8s/b.yaml" and len(files) == 5


def test_raw_yaml_existing_directory_taken_literally(tree: Path) -> None:
    files = sources.raw_yaml_files(_config(("k8s/sub",)), cwd=str(tree), env={})
    assert _rel(tree, files) == ["k8s/sub"]
    # ...and then dropped by the extension filter, without error
    assert sources.raw_yaml_entries(_config(("k8s/sub",)), cwd=str(tree), env={}) == []


def test_raw_yaml_extension_filter(tree: Path) -> None:
    cwd = str(tree)
    globbed = sources.raw_yaml_entries(_config(("k8s/*",)), cwd=cwd, env={})
    assert not any("notes" in e for e in globbed)
    assert any("name: c" in e for e in globbed)  # .yml is kept
    # a relative entry is joined to the cwd, so it never equals the listed string
    assert sources.raw_yaml_entries(_config(("k8s/notes.txt",)), cwd=cwd, env={}) == []
    absolute = f"{tree}/k8s/notes.txt"
    entries = sources.raw_yaml_entries(_config((absolute,)), cwd=cwd, env={})
    assert entries == [(tree / "k8s/notes.txt").read_text()]


def test_raw_yaml_no_match_is_not_an_error_here(tree: Path) -> None:
    assert sources.raw_yaml_files(_config(("nothing/*.yaml",)), cwd=str(tree), env={}) == []


def test_raw_yaml_bad_glob(tree: Path) -> None:
    with pytest.raises(ManifestError, match="syntax error in pattern"):
        sources.raw_yaml_files(_config(("k8s/[",)), cwd=str(tree), env={})


def test_raw_yaml_unreadable_listed_directory(tree: Path) -> None:
    (tree / "dir.yaml").mkdir()
    with pytest.raises(ManifestError, match=r"^read .*/dir\.yaml: is a directory$"):
        sources.raw_yaml_entries(_config(("dir.yaml",)), cwd=str(tree), env={})


def test_raw_yaml_symlinked_directory_not_followed_by_walk(tree: Path) -> None:
    (tree / "k8s" / "link").symlink_to(tree / "k8s" / "sub")
    files = _rel(tree, sources.raw_yaml_files(_config(("k8s/*",)), cwd=str(tree), env={}))
    assert "k8s/link" in files  # added as a file, as godirwalk reports it
    assert not any(f.startswith("k8s/link/") for f in files)


def test_raw_yaml_template_expansion(tree: Path) -> None:
    pytest.importorskip("engine.golang.texttemplate")
    cfg = _config(("k8s/{{.WHICH}}.yaml",))
    files = sources.raw_yaml_files(cfg, cwd=str(tree), env={"WHICH": "a"})
    assert _rel(tree, files) == ["k8s/a.yaml"]


# --- validation ----------------------------------------------------------------------------------


def test_validate_raw_yaml_ok_and_default_skipped(tree: Path, tmp_path: Path) -> None:
    sources.validate_raw_yaml(_config(("k8s/*.yaml", "k8s/sub")), cwd=str(tree))
    sources.validate_raw_yaml(_config(("https://example.invalid/x.yaml",)), cwd=str(tree))
    empty = tmp_path / "empty"
    empty.mkdir()
    sources.validate_raw_yaml(_config(("k8s/*.yaml",)), cwd=str(empty))


def test_validate_raw_yaml_missing(tree: Path) -> None:
    cfg = _config(("k8s/a.yaml", "nothing/*.yaml"), source="/w/skaffold.yaml")
    with pytest.raises(ConfigError) as info:
        sources.validate_raw_yaml(cfg, cwd=str(tree))
    assert str(info.value) == (
        "invalid skaffold config: source: /w/skaffold.yaml, in unnamed config[0]: "
        'Manifest file "nothing/*.yaml" referenced in skaffold config could not be found. '
        'Verify that file "nothing/*.yaml" referenced in config "/w/skaffold.yaml" exists '
        "and the path and naming are correct."
    )
    assert info.value.exit_code == 1


def test_validate_raw_yaml_templates_are_not_expanded(tree: Path) -> None:
    with pytest.raises(ConfigError, match=r'in module "svc": Manifest file "k8s/\{\{\.X\}\}'):
        sources.validate_raw_yaml(_config(("k8s/{{.X}}.yaml",), name="svc"), cwd=str(tree))


def test_with_default_raw_yaml() -> None:
    lone = _config(())
    assert sources.with_default_raw_yaml([lone])[0].manifests.raw_yaml == ("k8s/*.yaml",)
    kz = _config((), Kustomize())
    assert sources.with_default_raw_yaml([kz])[0].manifests.raw_yaml == ()
    assert sources.with_default_raw_yaml([lone, lone])[1].manifests.raw_yaml == ()


# --- kustomize ----------------------------------------------------------------------------------


def test_kustomize_build_args_split_on_single_spaces() -> None:
    args = sources.kustomize_build_args(["--load-restrictor LoadRestrictionsNone", "a  b"], "/p")
    assert args == ["--load-restrictor", "LoadRestrictionsNone", "a", "", "b", "/p"]


def test_kustomize_argv_tool_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is required"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").symlink_to(kubectl)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert sources.kustomize_argv(["--x y"], "/p") == ["kubectl", "kustomize", "--x", "y", "/p"]
    _fake_tool(bin_dir / "kustomize", 0)
    assert sources.kustomize_argv([], "/p") == ["kustomize", "build", "/p"]
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert sources.kustomize_argv([], "/p") == ["kustomize", "build", "/p"]


def _fake_tool(path: Path, status: int) -> None:
    path.write_text(f"#!/bin/sh\necho out; echo err >&2; exit {status}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **extra}


def _kustomization(root: Path, rel: str, name: str) -> None:
    directory = root / rel
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kustomization.yaml").write_text("resources:\n- cm.yaml\n")
    (directory / "cm.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: |\n    v\n"
    )


def test_kustomize_outputs_in_path_order(tmp_path: Path) -> None:
    _kustomization(tmp_path, "kz/two", "two")
    _kustomization(tmp_path, "kz/one", "one")
    cfg = _config((), Kustomize(paths=("kz/two", f"{tmp_path}/kz/one")))
    outputs = sources.kustomize_outputs(cfg, cwd=str(tmp_path), env=_env())
    assert len(outputs) == 2
    assert "name: two" in outputs[0] and "name: one" in outputs[1]


def test_kustomize_missing_directory_is_a_tool_error(tmp_path: Path) -> None:
    if shutil.which("kustomize"):
        pytest.skip("a standalone kustomize is on PATH")
    cfg = _config((), Kustomize(paths=("kubernetes/overlays/nope",)))
    with pytest.raises(ToolError) as info:
        sources.kustomize_outputs(cfg, cwd=str(tmp_path), env=_env())
    message = str(info.value)
    assert message.startswith(f"running [kubectl kustomize {tmp_path}/kubernetes/overlays/nope]")
    assert "\n - cause: exit status 1" in message
    assert info.value.exit_code == 1


def test_kustomize_failure_status_propagates(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_tool(bin_dir / "kustomize", 3)
    cfg = _config((), Kustomize(paths=("kz",), build_args=("--a b",)))
    env = _env(PATH=f"{bin_dir}:{os.environ['PATH']}")
    with pytest.raises(ToolError) as info:
        sources.kustomize_outputs(cfg, cwd=str(tmp_path), env=env)
    assert info.value.exit_code == 3
    assert str(info.value) == (
        f"running [kustomize build --a b {tmp_path}/kz]\n"
        ' - stdout: "out\\n"\n - stderr: "err\\n"\n - cause: exit status 3'
    )


def test_kustomize_path_template(tmp_path: Path) -> None:
    pytest.importorskip("engine.golang.texttemplate")
    _kustomization(tmp_path, "kz/overlays/staging", "staging")
    cfg = _config((), Kustomize(paths=("kz/overlays/{{.OVERLAY}}",)))
    paths = sources.kustomize_paths(cfg, cwd=str(tmp_path), env={"OVERLAY": "staging"})
    assert paths == [f"{tmp_path}/kz/overlays/staging"]


# --- generate (needs engine.yamlv3) -------------------------------------------------------------


@pytest.fixture
def yamlio() -> Any:
    return pytest.importorskip("engine.yamlv3")


def test_generate_renderer_order_and_block_scalar_at_end(tmp_path: Path, yamlio: Any) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "m.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\ndata:\n"
        "  last: |\n    ends the document\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\ndata:\n"
        "  last: |\n    ends the file\n"
    )
    _kustomization(tmp_path, "kz", "kz")
    cfg = _config(("k8s/*.yaml",), Kustomize(paths=("kz",)))
    raw, kz = sources.generate(cfg, cwd=str(tmp_path), env=_env())
    assert [d["data"]["last"] for d in raw] == ["ends the document\n", "ends the file"]
    assert kz == [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kz"}, "data": {"k": "v\n"}}
    ]


def test_generate_single_list_is_unwrapped(tmp_path: Path, yamlio: Any) -> None:
    (tmp_path / "list.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n"
        "    name: p\n- null\n"
    )
    (tmp_path / "other.yaml").write_text("apiVersion: v1\nkind: Pod\n")
    [docs] = sources.generate(_config(("list.yaml",)), cwd=str(tmp_path), env=_env())
    assert docs == [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}]
    [docs] = sources.generate(_config(("list.yaml", "other.yaml")), cwd=str(tmp_path), env=_env())
    assert [d["kind"] for d in docs] == ["List", "Pod"]


def test_generate_drops_empty_documents(tmp_path: Path, yamlio: Any) -> None:
    (tmp_path / "m.yaml").write_text("---\n# only a comment\n---\nnull\n---\n{}\n---\na: 1\n")
    [docs] = sources.generate(_config(("m.yaml",)), cwd=str(tmp_path), env=_env())
    assert docs == [{"a": 1}]


def test_generate_rejects_non_mapping_documents(tmp_path: Path, yamlio: Any) -> None:
    (tmp_path / "m.yaml").write_text("- a\n- b\n")
    with pytest.raises(ManifestError, match="cannot unmarshal !!seq into map"):
        sources.generate(_config(("m.yaml",)), cwd=str(tmp_path), env=_env())


def test_generate_invalid_separator(tmp_path: Path, yamlio: Any) -> None:
    (tmp_path / "m.yaml").write_text("a: 1\n--- foo\nb: 2\n")
    with pytest.raises(ManifestError, match="invalid document separator: --- foo"):
        sources.generate(_config(("m.yaml",)), cwd=str(tmp_path), env=_env())


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"remote_manifests": ({"manifest": "pod/x"},)}, "manifests.remoteManifests"),
    ],
)
def test_generate_unsupported_sources(fields: dict[str, Any], needle: str) -> None:
    with pytest.raises(ManifestError, match=needle):
        sources.generate(_config(("k8s/*.yaml",), **fields), cwd="/nonexistent", env={})


def test_generate_leaves_helm_renderers_for_later(tmp_path: Path) -> None:
    # the helm renderer needs the build artifacts (its post-renderer): it runs after tagging
    helm = {"releases": [{"name": "a", "chartPath": "c"}]}
    config = _config((), helm=helm)._replace(legacy_helm={"releases": [{"name": "b"}]})
    jobs = sources.generate(config, cwd=str(tmp_path), env={})
    assert all(isinstance(job, sources.HelmJob) for job in jobs)
    assert [[r.name for r in job.renderer.releases] for job in jobs] == [["a"], ["b"]]


def test_generate_gcs_unsupported() -> None:
    with pytest.raises(ManifestError, match=r"gs://b/x\.yaml"):
        sources.generate(_config(("gs://b/x.yaml",)), cwd="/nonexistent", env={})


def test_generate_kustomize_block_scalar_loses_newline_before_separator(
    tmp_path: Path, yamlio: Any
) -> None:
    # Append splits kustomize output on "\n---\n", eating the newline that ends a clip block
    # scalar of every document but the last; skaffold decodes the entries untrimmed.
    (tmp_path / "kustomization.yaml").write_text("resources:\n- a.yaml\n")
    (tmp_path / "a.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nzzz: |\n  v\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\nzzz: |\n  w\n"
    )
    [docs] = sources.generate(_config((), Kustomize(paths=(".",))), cwd=str(tmp_path), env=_env())
    assert [d["zzz"] for d in docs] == ["v", "w\n"]


def test_generate_malformed_yaml(tmp_path: Path, yamlio: Any) -> None:
    (tmp_path / "m.yaml").write_text("a: 1\n---\nb: [\n")
    with pytest.raises(YamlError, match=r"^MalformedYAMLError: yaml: line \d+: ") as info:
        sources.generate(_config(("m.yaml",)), cwd=str(tmp_path), env=_env())
    assert info.value.exit_code == 1
