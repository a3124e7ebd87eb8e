"""inputDigest for ko, custom, buildpacks, kaniko, Bazel and Jib artifacts, on real files.

Each expected tag is computed here from skaffold's documented algorithm
(``pkg/skaffold/tag/input_digest.go``): the dependency paths (relative results joined with the
artifact's context, plus the Dockerfile path as written for Docker-like builders), sorted; for
each path that exists (relative to the working directory), md5 of its path relative to the
context followed by its bytes (regular files only); the sha256 of the JSON list of those hex
digests plus a newline.  The dependency lists themselves are written out by hand from the
builders' rules in ``pkg/skaffold/build/*/dependencies.go`` for the files each test creates.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from engine.skaffold.schema import Artifact, Config, TagPolicy
from engine.stages import builddeps, tagging


def _digest(cwd: Path, context: str, paths: list[str]) -> str:
    hashes = []
    for path in sorted(paths):
        full = cwd / path
        if not os.path.lexists(full):
            continue
        h = hashlib.md5(usedforsecurity=False)
        h.update(os.path.relpath(cwd / path, cwd / context).encode())
        if stat.S_ISREG(os.lstat(full).st_mode):
            h.update(full.read_bytes())
        hashes.append(h.hexdigest())
    encoded = json.dumps(hashes, separators=(",", ":")) + "\n"  # Go json.Encoder: compact + newline
    return hashlib.sha256(encoded.encode()).hexdigest()


def _artifact(builder: str, spec: dict[str, Any], context: str = "app") -> Artifact:
    raw = {"image": "img", "context": context, builder: spec}
    return Artifact(image="img", context=context, builder=builder, docker=None, raw=raw)


def _tag(cwd: Path, art: Artifact, env: dict[str, str] | None = None) -> str:
    cfg = Config("/x/skaffold.yaml", 0, True, artifacts=(art,), tag_policy=TagPolicy("inputDigest"))
    [(_, ref)] = tagging.image_tags([cfg], cwd=str(cwd), env=env or {"PATH": os.environ["PATH"]})
    return ref


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.fixture
def go_tree(tmp_path: Path) -> Path:
    _write(
        tmp_path / "app",
        {
            "main.go": "package main\n",
            "pkg/util.go": "package pkg\n",
            "pkg/util_test.go": "package pkg\n",
            ".hidden/x.go": "package hidden\n",
            "go.mod": "module x\n",
            "README.md": "readme\n",
            "cmd/skip/s.go": "package skip\n",
            "cmd/keep/k.go": "package keep\n",
        },
    )
    return tmp_path


def test_ko_default_hashes_every_go_file(go_tree: Path) -> None:
    # build/ko/dependencies.go: "**/*.go" (doublestar: dot directories included)
    deps = [".hidden/x.go", "cmd/keep/k.go", "cmd/skip/s.go", "main.go", "pkg/util.go",
            "pkg/util_test.go"]  # fmt: skip
    expected = _digest(go_tree, "app", [f"app/{d}" for d in deps])
    assert _tag(go_tree, _artifact("ko", {"fromImage": "x"})) == f"img:{expected}"


def test_ko_paths_and_ignore(go_tree: Path) -> None:
    spec = {"dependencies": {"paths": ["cmd", "go.mod"], "ignore": ["cmd/skip", "**/*.md"]}}
    expected = _digest(go_tree, "app", ["app/cmd/keep/k.go", "app/go.mod"])
    assert _tag(go_tree, _artifact("ko", spec)) == f"img:{expected}"


def test_ko_empty_paths_hash_nothing(go_tree: Path) -> None:
    # paths: [] is not "unset": no default, no files
    expected = _digest(go_tree, "app", [])
    assert _tag(go_tree, _artifact("ko", {"dependencies": {"paths": []}})) == f"img:{expected}"


def test_pattern_matching_nothing_falls_back(go_tree: Path) -> None:
    spec = {"dependencies": {"paths": ["nothing/**"]}}
    assert _tag(go_tree, _artifact("ko", spec)) == "img:latest"
    with pytest.raises(builddeps.DependencyError, match='pattern "nothing/\\*\\*" did not match'):
        builddeps.list_files(str(go_tree / "app"), ["nothing/**"], [])


def test_buildpacks_default_is_the_whole_context_links_not_followed(go_tree: Path) -> None:
    os.symlink("pkg", go_tree / "app" / "link")
    all_files = [
        ".hidden/x.go", "README.md", "cmd/keep/k.go", "cmd/skip/s.go", "go.mod", "link",
        "main.go", "pkg/util.go", "pkg/util_test.go",
    ]  # fmt: skip
    expected = _digest(go_tree, "app", [f"app/{d}" for d in all_files])
    assert _tag(go_tree, _artifact("buildpacks", {"builder": "b"})) == f"img:{expected}"


def test_custom_paths_default_and_ignore(go_tree: Path) -> None:
    spec: dict[str, Any] = {"buildCommand": "./build.sh"}
    every = [".hidden/x.go", "README.md", "cmd/keep/k.go", "cmd/skip/s.go", "go.mod",
             "main.go", "pkg/util.go", "pkg/util_test.go"]  # fmt: skip
    expected = _digest(go_tree, "app", [f"app/{d}" for d in every])
    assert _tag(go_tree, _artifact("custom", spec)) == f"img:{expected}"
    spec["dependencies"] = {"paths": ["**/*.go"], "ignore": ["**/*_test.go", ".hidden/**"]}
    some = ["cmd/keep/k.go", "cmd/skip/s.go", "main.go", "pkg/util.go"]
    expected = _digest(go_tree, "app", [f"app/{d}" for d in some])
    assert _tag(go_tree, _artifact("custom", spec)) == f"img:{expected}"


def test_custom_command_lists_the_dependencies(go_tree: Path) -> None:
    python = shutil.which("python3") or "python3"
    script = "import json; print(json.dumps(['main.go', 'go.mod', 'gone.txt']))"
    (go_tree / "app" / "deps.py").write_text(script)
    spec = {"buildCommand": "b", "dependencies": {"command": f"{python} deps.py"}}
    expected = _digest(go_tree, "app", ["app/main.go", "app/go.mod", "app/gone.txt"])
    assert _tag(go_tree, _artifact("custom", spec)) == f"img:{expected}"
    (go_tree / "app" / "deps.py").write_text("print('not json')")
    assert _tag(go_tree, _artifact("custom", spec)) == "img:latest"


def test_custom_dockerfile_and_its_path_as_written(go_tree: Path) -> None:
    _write(go_tree / "app", {"Dockerfile": "FROM scratch\nARG F\nCOPY $F /\n", "x.txt": "x"})
    dockerfile = {"path": "Dockerfile", "buildArgs": {"F": "x.txt"}}
    spec = {"buildCommand": "b", "dependencies": {"dockerfile": dockerfile}}
    # docker deps (relative to the context) joined with it, plus "Dockerfile" relative to the
    # working directory, where there is none: not hashed.
    expected = _digest(go_tree, "app", ["app/Dockerfile", "app/x.txt", "Dockerfile"])
    assert _tag(go_tree, _artifact("custom", spec)) == f"img:{expected}"
    (go_tree / "Dockerfile").write_text("FROM scratch\n")
    expected_too = _digest(go_tree, "app", ["app/Dockerfile", "app/x.txt", "Dockerfile"])
    assert expected_too != expected
    assert _tag(go_tree, _artifact("custom", spec)) == f"img:{expected_too}"


def test_kaniko_context_sub_path_quirk(tmp_path: Path) -> None:
    # Dependencies are found in <context>/<contextSubPath> but joined with <context> alone.
    _write(
        tmp_path / "app",
        {"sub/Dockerfile": "FROM scratch\nCOPY f.txt /\n", "sub/f.txt": "sub", "f.txt": "top"},
    )
    spec = {"contextSubPath": "sub"}
    expected = _digest(tmp_path, "app", ["app/Dockerfile", "app/f.txt", "Dockerfile"])
    assert _tag(tmp_path, _artifact("kaniko", spec)) == f"img:{expected}"


def test_bazel_without_bazel_falls_back(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    empty = tmp_path / "bin"
    empty.mkdir()
    art = _artifact("bazel", {"target": "//:app.tar"})
    assert _tag(tmp_path, art, {"PATH": str(empty)}) == "img:latest"
    assert builddeps._label_path("//pkg/sub:file.go") == "pkg/sub/file.go"
    assert builddeps._label_path("//:BUILD") == "BUILD"


@pytest.mark.skipif(shutil.which("java") is None, reason="Jib needs a working JVM")
def test_jib_maven_wrapper_output(tmp_path: Path) -> None:
    app = tmp_path / "app"
    _write(app, {"pom.xml": "<project/>", "src/main/A.java": "class A {}",
                 "src/main/target/out.class": "x", "res/r.txt": "r"})  # fmt: skip
    files = {
        "build": [str(app / "pom.xml")],
        "inputs": [str(app / "src"), str(app / "res" / "r.txt"), str(app / "missing")],
        "ignore": [str(app / "src" / "main" / "target")],
    }
    # The project's own Maven wrapper (what `mvnw` prints for jib:_skaffold-files-v2).
    wrapper = app / "mvnw"
    wrapper.write_text(
        f"#!/bin/sh\necho noise\necho 'BEGIN JIB JSON'\necho '{json.dumps(files)}'\n"
    )
    wrapper.chmod(0o755)
    expected = _digest(tmp_path, "app", ["app/pom.xml", "app/res/r.txt", "app/src/main/A.java"])
    assert _tag(tmp_path, _artifact("jib", {"type": "maven"})) == f"img:{expected}"

