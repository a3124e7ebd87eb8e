"""The README's commands and library snippet work as written (issue 10, items 2 and 4).

The set-up command's install part is what `.ci/run` does (a brand-new venv); here its render
part runs exactly as the README spells it, from the repository root, and must print the
golden case's bytes (real skaffold's output for the same example).  The library snippet runs
twice in one process, and the package face works in any import order.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# real skaffold's render of the bundled example (golden corpus case, copied into golden/)
SEED = ROOT / "golden" / "cases" / "a-seed-production-digest-tag" / "expected.yaml"
# the gitCommit tag depends on the checkout (its commit, a dirty tree): compared apart
TAG = re.compile(r"(gcr\.io/my-gitops-proj/foo:)production-(\S+)")


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def _code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)


def _render_part(command: str) -> str:
    """The set-up command without its leading install steps (``python3 -m pip install``)."""
    steps = command.strip().split(" && ")
    while steps and re.match(r"python3? -m (pip install|venv)\b|\. .*activate$", steps[0]):
        steps.pop(0)
    assert steps, f"nothing left of {command!r} once the install is taken off"
    return " && ".join(steps)


def _env() -> dict[str, str]:
    """The environment the set-up leaves: this venv's ``skrender`` first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def _normalised(manifests: str) -> str:
    return TAG.sub(r"\1production-TAG", manifests)


def _expected_tag() -> str | None:
    """``<short sha>`` (``-dirty``) when this checkout is a git work tree, else None."""
    head = subprocess.run(
        ["git", "rev-parse", "--short=7", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    if head.returncode != 0:
        return None
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", "examples/monorepo/services/foo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    tags = subprocess.run(
        ["git", "tag", "--points-at", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    if tags.stdout.strip():
        return None  # a tagged commit is tagged with its tag name: not predicted here
    return head.stdout.strip() + ("-dirty" if status.stdout.strip() else "")


def test_setup_commands_are_two_blocks_with_a_venv_first() -> None:
    blocks = _code_blocks(_section("Set-up"), "sh")
    assert len(blocks) == 3, blocks  # the venv, then the two set-up commands
    assert "venv" in blocks[0]
    assert all(len(block.strip().splitlines()) == 1 for block in blocks)


def test_setup_render_command_runs_as_written_and_leaves_the_shell_where_it_was() -> None:
    command = _code_blocks(_section("Set-up"), "sh")[1]
    render = _render_part(command)
    assert "skrender render" in render
    # the second command must run in the directory the first started in: print it after
    done = subprocess.run(
        ["bash", "-c", f"{render}\nstatus=$?\npwd\nexit $status"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    manifests, _, cwd = done.stdout.rstrip("\n").rpartition("\n")
    assert Path(cwd) == ROOT
    assert _normalised(manifests + "\n") == _normalised(SEED.read_text(encoding="utf-8"))
    tag = _expected_tag()
    if tag is not None:
        assert f"gcr.io/my-gitops-proj/foo:production-{tag}\n" in manifests


def _library_snippet() -> str:
    blocks = _code_blocks(README.read_text(encoding="utf-8"), "python")
    found = [block for block in blocks if "engine.render(" in block]
    assert len(found) == 1, "the README shows one library snippet"
    return found[0]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter (import order is process-wide), from the repo root."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_library_snippet_runs_twice_in_one_process() -> None:
    program = textwrap.dedent(
        f"""
        import contextlib, io, sys
        snippet = {_library_snippet()!r}
        outputs = []
        for _ in range(2):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(snippet, "README.md", "exec"), {{"__name__": "__main__"}})
            outputs.append(buffer.getvalue())
        assert outputs[0] == outputs[1], outputs
        sys.stdout.write(outputs[0])
        """
    )
    done = _python(program)
    assert done.returncode == 0, done.stderr
    assert _normalised(done.stdout) == _normalised(SEED.read_text(encoding="utf-8"))


IMPORT_ORDERS = {
    "package only": "import engine",
    "pipeline first": "import engine.pipeline",
    "from-import of the names": "from engine import RenderRequest, RenderResult, render",
    "command modules first": "import engine.commands.render, engine.cli, engine.pipeline",
    "cli run first": (
        "import contextlib, io, os, engine.cli\n"
        "os.chdir('examples/monorepo/services/foo')\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert engine.cli.main(['render', '--offline=true', '--digest-source=tag']) == 0\n"
        "os.chdir('../../../..')"
    ),
}


@pytest.mark.parametrize("imports", IMPORT_ORDERS.values(), ids=IMPORT_ORDERS.keys())
def test_package_face_works_in_any_import_order(imports: str) -> None:
    program = textwrap.dedent(
        """
        {imports}
        import engine, engine.pipeline
        assert callable(engine.render) and engine.render.__module__ == "engine"
        assert engine.RenderRequest is engine.pipeline.RenderRequest
        assert engine.RenderResult is engine.pipeline.RenderResult
        request = engine.RenderRequest(
            cwd="examples/monorepo/services/foo", offline=True, digest_source="tag"
        )
        first = engine.render(request)
        again = engine.render(cwd=request.cwd, offline=True, digest_source="tag")
        assert isinstance(first, engine.RenderResult)
        assert first.text == again.text and "kind: Deployment" in first.text
        assert callable(engine.render) and engine.render.__module__ == "engine"
        print("ok")
        """
    ).format(imports=imports)
    done = _python(program)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


def test_no_submodule_shadows_the_package_face() -> None:
    """Importing a submodule sets it as an attribute of the package: one named like a face
    name (the old engine/render.py) would replace engine.render once anything imported it."""
    import pkgutil

    import engine

    names = {module.name for module in pkgutil.iter_modules(engine.__path__)}
    assert names.isdisjoint(engine.__all__), names & set(engine.__all__)


def test_package_ships_py_typed() -> None:
    """py.typed is in the package and in setuptools' package data (so in the wheel)."""
    assert (ROOT / "engine" / "py.typed").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = pyproject.split("[tool.setuptools.package-data]", 1)[1].split("\n[", 1)[0]
    assert re.search(r'^engine = \[[^]]*"py\.typed"', section, flags=re.MULTILINE), section
