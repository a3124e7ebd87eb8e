from __future__ import annotations

from pathlib import Path

import pytest

from engine.stages import dockerfile
from engine.stages.dockerfile import DockerfileError, PatternMatcher, dependencies, process_word


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def test_copy_add_dirs_globs_and_dockerignore(tmp_path: Path) -> None:
    ctx = _tree(
        tmp_path,
        {
            "Dockerfile": "FROM scratch\nCOPY src /src\nADD *.txt conf/ /etc/\n"
            "COPY --from=builder /x /y\nADD https://example.com/f /f\n",
            "src/a.py": "",
            "src/sub/b.py": "",
            "src/sub/skip.log": "",
            "one.txt": "",
            ".hidden.txt": "",
            "conf/x.yaml": "",
            "unused.md": "",
            ".dockerignore": "# comment\n**/*.log\n",
        },
    )
    (ctx / "src" / "empty").mkdir()
    assert dependencies(str(ctx), "Dockerfile", {}, {}) == [
        ".hidden.txt",
        "Dockerfile",
        "conf/x.yaml",
        "one.txt",
        "src/a.py",
        "src/empty",
        "src/sub/b.py",
    ]


def test_build_args_env_and_multistage(tmp_path: Path) -> None:
    ctx = _tree(
        tmp_path,
        {
            "Dockerfile": "ARG DIR=default\nFROM scratch AS base\nENV SUB=inner \\\n  X=1\n"
            "# a comment\nCOPY $DIR/${SUB}/f.txt /\nFROM base\nCOPY extra.txt /\n",
            "given/inner/f.txt": "",
            "default/inner/f.txt": "",
            "extra.txt": "",
        },
    )
    assert dependencies(str(ctx), "Dockerfile", {"DIR": "given"}, {}) == [
        "Dockerfile",
        "extra.txt",
        "given/inner/f.txt",
    ]
    assert "default/inner/f.txt" in dependencies(str(ctx), "Dockerfile", {}, {})


def test_missing_dockerfile_and_unmatched_source(tmp_path: Path) -> None:
    assert dependencies(str(tmp_path), "Dockerfile", {}, {}) == ["Dockerfile"]
    _tree(tmp_path, {"Dockerfile": "FROM scratch\nCOPY nope*.txt /\n"})
    with pytest.raises(DockerfileError, match="must match at least one file"):
        dependencies(str(tmp_path), "Dockerfile", {}, {})


def test_base_image_needs_its_config(tmp_path: Path) -> None:
    _tree(tmp_path, {"Dockerfile": "FROM alpine:3\nCOPY a /\n", "a": "", "b": ""})
    with pytest.raises(DockerfileError, match="retrieving image"):
        dependencies(str(tmp_path), "Dockerfile", {}, {})

    def config(image: str) -> dict[str, object]:
        assert image == "alpine:3"
        return {"WorkingDir": "/w", "OnBuild": ["COPY b /b"]}

    deps = dependencies(str(tmp_path), "Dockerfile", {}, {}, image_config=config)
    assert deps == ["Dockerfile", "a", "b"]


def test_shell_words() -> None:
    env = {"A": "x", "E": ""}
    assert process_word("'$A'\"$A\"\\$A${A}", env) == "$Ax$Ax"
    assert process_word("${E:-d}${E-d}${U:+p}${A:+p}", env) == "dp"
    assert process_word("$1$", env) == "$"


def test_pattern_matcher_semantics() -> None:
    m = PatternMatcher(["docs", "*.md", "!README.md", "**/tmp"])
    assert m.matches_or_parent_matches("docs/x.txt")
    assert m.matches_or_parent_matches("a.md")
    assert not m.matches_or_parent_matches("README.md")
    assert m.matches_or_parent_matches("a/b/tmp")
    assert not m.matches_or_parent_matches("sub/a.md")
    assert dockerfile.read_ignore_patterns("/abs/\n ! keep \n#c\n./x/../y\n") == [
        "abs",
        "!keep",
        "y",
    ]


def test_invalid_instruction_fails(tmp_path: Path) -> None:
    _tree(tmp_path, {"Dockerfile": "FROM scratch\nBOGUS x\n"})
    with pytest.raises(DockerfileError, match="unknown instruction"):
        dependencies(str(tmp_path), "Dockerfile", {}, {})


def test_pattern_matcher_uses_gos_regexp() -> None:
    # moby's patternmatcher compiles "^...$" with Go's regexp: POSIX classes work, "." never
    # matches a newline, and a trailing backslash escapes the "$" that closes the regexp
    m = PatternMatcher(["[[:digit:]]*.txt", "a**b"])
    assert m.matches_or_parent_matches("7days.txt")
    assert not m.matches_or_parent_matches("days.txt")
    assert m.matches_or_parent_matches("a/x/b")
    assert not m.matches_or_parent_matches("a\nb")
    trailing = PatternMatcher(["*.log\\"])
    assert trailing.matches_or_parent_matches("x.log$")
    assert not trailing.matches_or_parent_matches("x.log\\")
