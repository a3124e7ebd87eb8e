"""One `skrender render` of the seed example against one `kubectl kustomize` of its overlay.

Target (issue 2): skrender's wall time at most 2.5x the kustomize floor (skaffold itself is
about 4x here).  Both are started as processes, as a CI job starts them: skrender as the
`skrender` command of a regular (non-editable) install in a virtual environment of its own.
That keeps this machine's interpreter start-up hooks out of the measurement (an editable
install's finder and a sandbox ``.pth`` file, ~40 ms) which a user's install does not have.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest
from benchutil import ROOT, interleaved_medians, opt_in, run_quiet

pytestmark = opt_in

TARGET_RATIO = 2.5
SEED = ROOT / "examples" / "monorepo"


@pytest.fixture(scope="module")
def seed_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled seed example in a git repository of its own (gitCommit tagging)."""
    repo = tmp_path_factory.mktemp("seed") / "monorepo"
    shutil.copytree(SEED, repo)
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "seed"],
    ):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    return repo / "services" / "foo"


@pytest.fixture(scope="module")
def installed_skrender(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install .` into a fresh virtual environment; its dependencies come from this
    interpreter's site-packages through a path file (no network, no start-up hooks)."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "base-site-packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
        check=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )  # fmt: skip
    return venv / "bin" / "skrender"


def kustomize_argv(path: str) -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build", path]
    return ["kubectl", "kustomize", path]


def test_render_vs_kustomize_floor(benchmark, seed_repo: Path, installed_skrender: Path) -> None:  # type: ignore[no-untyped-def]
    render = [
        str(installed_skrender),
        "render",
        "-p",
        "production",
        "--default-repo",
        "gcr.io/my-gitops-proj",
        "--offline=true",
        "--digest-source=tag",
    ]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    floor = kustomize_argv("kubernetes/overlays/production")

    skrender_s, floor_s = interleaved_medians(
        lambda: run_quiet(render, seed_repo, env), lambda: run_quiet(floor, seed_repo), rounds=9
    )
    ratio = skrender_s / floor_s
    benchmark.extra_info.update(
        skrender_ms=round(skrender_s * 1000, 1),
        kustomize_ms=round(floor_s * 1000, 1),
        ratio=round(ratio, 2),
        target=TARGET_RATIO,
    )
    benchmark.pedantic(run_quiet, args=(render, seed_repo, env), rounds=3, iterations=1)
    print(f"\nskrender {skrender_s * 1e3:.0f} ms, kustomize {floor_s * 1e3:.0f} ms, x{ratio:.2f}")
    assert ratio <= TARGET_RATIO
