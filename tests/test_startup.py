"""Start-up behaviour of `skrender render`: what it imports, how it ends, proc.which.

The render benchmark (benchmarks/test_render_bench.py) measures the time; these tests pin
the mechanisms behind it, so a change that brings a heavy module back fails here first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.commands import COMMANDS
from engine.core import proc

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "monorepo"
RENDER_ARGS = [
    "render",
    "-p",
    "production",
    "--default-repo",
    "gcr.io/p",
    "--offline=true",
    "--digest-source=tag",
]
# Modules a seed render must not import: each costs milliseconds of every run.
HEAVY = ("dataclasses", "inspect", "shutil", "tempfile", "hashlib", "logging", "concurrent")


@pytest.fixture
def seed(tmp_path: Path, git_env: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """The bundled seed example in a git repository of its own; its service dir and env."""
    repo = tmp_path / "monorepo"
    shutil.copytree(SEED, repo)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "seed"]):
        subprocess.run(["git", *args], cwd=repo, env=git_env, check=True)
    return repo / "services" / "foo", {**git_env, "PYTHONPATH": str(ROOT)}


def _python(code: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_seed_render_imports_no_heavy_module(seed: tuple[Path, dict[str, str]]) -> None:
    cwd, env = seed
    code = (
        "import sys\n"
        "before = set(sys.modules)  # site may import some (.pth files of a sandbox)\n"
        "from engine.cli import main\n"
        f"code = main({RENDER_ARGS!r})\n"
        f"heavy = [m for m in {HEAVY!r} if m in set(sys.modules) - before]\n"
        "sys.stderr.write(f'exit={code} heavy={heavy}\\n')\n"
    )
    done = _python(code, cwd, env)
    assert done.stderr.splitlines()[-1] == "exit=0 heavy=[]", done.stderr
    assert "image: gcr.io/p/foo:production-" in done.stdout


def test_quick_exit_keeps_output_and_status(
    seed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    cwd, env = seed
    in_process = _python(
        f"from engine.cli import main\nraise SystemExit(main({RENDER_ARGS!r}))", cwd, env
    )
    as_program = subprocess.run(
        [sys.executable, "-m", "engine", *RENDER_ARGS],
        cwd=cwd, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert as_program.returncode == in_process.returncode == 0, as_program.stderr
    assert as_program.stdout == in_process.stdout
    assert as_program.stdout.endswith("          name: foo\n")  # the whole document got out

    out = tmp_path / "out.yaml"
    written = subprocess.run(
        [sys.executable, "-m", "engine", *RENDER_ARGS, "-o", str(out)],
        cwd=cwd, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert out.read_text() == as_program.stdout

    failed = subprocess.run(
        [sys.executable, "-m", "engine", *RENDER_ARGS, "-f", "missing.yaml"],
        cwd=cwd, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert failed.returncode == 1
    assert failed.stderr.startswith("skaffold config file missing.yaml not found")


def test_main_from_a_program_ends_the_process_only_without_argv(
    seed: tuple[Path, dict[str, str]],
) -> None:
    cwd, env = seed
    code = (
        "import sys\n"
        "from engine.cli import main\n"
        f"print('returned', main({RENDER_ARGS!r}), file=sys.stderr)\n"
        f"sys.argv[1:] = {RENDER_ARGS!r}\n"
        "main()\n"
        "print('not reached', file=sys.stderr)\n"
    )
    done = _python(code, cwd, env)
    assert done.returncode == 0
    assert done.stderr.splitlines() == ["returned 0"]
    assert done.stdout.count("apiVersion: apps/v1") == 2  # both renders printed in full


def test_quick_exit_runs_atexit_callbacks_once(seed: tuple[Path, dict[str, str]]) -> None:
    cwd, env = seed
    code = (
        "import atexit, sys\n"
        "from engine.cli import main\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        f"sys.argv[1:] = {RENDER_ARGS!r}\n"
        "main()\n"
        "print('not reached', file=sys.stderr)\n"
    )
    done = _python(code, cwd, env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.endswith("          name: foo\natexit ran\n")


def test_a_running_thread_keeps_the_normal_exit(seed: tuple[Path, dict[str, str]]) -> None:
    cwd, env = seed
    code = (
        "import sys, threading, time\n"
        "from engine.cli import main\n"
        "def late():\n"
        "    time.sleep(0.2)\n"
        "    print('thread done', file=sys.stderr)\n"
        "threading.Thread(target=late).start()\n"
        f"sys.argv[1:] = {RENDER_ARGS!r}\n"
        "sys.exit(main())\n"
    )
    done = _python(code, cwd, env)
    assert done.returncode == 0
    assert done.stderr == "thread done\n"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_top_level_help_and_errors_still_list_every_command() -> None:
    helped = _cli("--help")
    assert helped.returncode == 0
    for name in COMMANDS:
        assert f"\n    {name} " in helped.stdout
    bad = _cli("nosuchcommand")
    assert bad.returncode == 127
    assert bad.stderr.startswith('unknown command "nosuchcommand" for "skrender"\n')
    unknown = _cli("render", "--nosuchflag")
    assert unknown.returncode == 127
    assert unknown.stderr.startswith("unknown flag: --nosuchflag\n")


def test_render_help_uses_the_terminal_width() -> None:
    wide = _cli("render", "--help").stdout
    narrow = subprocess.run(
        [sys.executable, "-m", "engine", "render", "--help"],
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "50"},
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    assert len(narrow.splitlines()) > len(wide.splitlines())
    assert max(map(len, wide.splitlines())) > 50


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """bin/ with an executable, a non-executable file and an executable directory."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "tool").write_text("#!/bin/sh\n")
    (bin_dir / "tool").chmod(0o755)
    (bin_dir / "plain").write_text("")
    (bin_dir / "adir").mkdir(mode=0o755)
    return tmp_path


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("tool", "{bin}"),
        ("plain", "{bin}"),
        ("adir", "{bin}"),
        ("missing", "{bin}"),
        ("tool", ""),
        ("tool", "/nonexistent:{bin}:{bin}"),
        ("tool", "bin"),  # relative directory
        ("tool", ":/nonexistent"),  # empty entry: the working directory
        ("bin/tool", "/nonexistent"),  # a path is checked as given
        ("bin/plain", None),
        ("{bin}/tool", ""),
    ],
)
def test_which_follows_shutil(
    tools: Path, monkeypatch: pytest.MonkeyPatch, name: str, path: str | None
) -> None:
    monkeypatch.chdir(tools)
    bin_dir = str(tools / "bin")
    name = name.format(bin=bin_dir)
    search = None if path is None else path.format(bin=bin_dir)
    expected = shutil.which(name, path=search if search is not None else os.environ.get("PATH"))
    assert proc.which(name, search) == expected


def test_which_finds_tools_on_the_process_path(monkeypatch: pytest.MonkeyPatch) -> None:
    assert proc.which("git") == shutil.which("git")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert proc.which("git") is None


def test_render_needs_neither_ruamel_nor_re2(seed: tuple[Path, dict[str, str]]) -> None:
    """A render reads the global config and kubeconfig with its own yaml.v3 decoder and runs
    Go patterns without google-re2 when that is missing: an interpreter with only PyYAML
    still renders (skrender run from a checkout by a system Python)."""
    service, env = seed
    home = Path(env["HOME"])
    (home / ".skaffold").mkdir(exist_ok=True)
    (home / ".skaffold" / "config").write_text("global:\n  default-repo: gcr.io/global\n")
    (home / ".kube").mkdir(exist_ok=True)
    (home / ".kube" / "config").write_text("current-context: dev-ctx\n")
    code = (
        "import sys\n"
        "sys.modules['ruamel'] = None\n"
        "sys.modules['re2'] = None\n"
        "from engine import cli\n"
        f"sys.exit(cli.main({RENDER_ARGS!r}))\n"
    )
    done = _python(code, service, env)
    assert done.returncode == 0, done.stderr
    assert "image: gcr.io/p/foo:" in done.stdout
