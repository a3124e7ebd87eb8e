"""Shared test set-up.

Fixtures for real services live in their own plugin modules (registry and Docker engine,
git servers).  A service that cannot start makes its tests *fail* in CI (CI=true) and skip
elsewhere, so a developer without dockerd can still run the unit tests, while CI can never
go green by silently skipping.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
pytest_plugins = ["fixtures_registry", "fixtures_git"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def service_unavailable(what: str) -> None:
    """Call when a real service a test needs cannot be started."""
    if IN_CI:
        pytest.fail(f"{what} could not be started in CI", pytrace=False)
    pytest.skip(f"{what} is not available on this machine")


@pytest.fixture
def git_env(tmp_path: Path) -> dict[str, str]:
    """An environment for deterministic git commits: pinned identity and dates, no user config."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Golden Corpus",
        "GIT_AUTHOR_EMAIL": "golden@corpus.invalid",
        "GIT_COMMITTER_NAME": "Golden Corpus",
        "GIT_COMMITTER_EMAIL": "golden@corpus.invalid",
        "GIT_AUTHOR_DATE": "2021-03-04T05:06:07+0000",
        "GIT_COMMITTER_DATE": "2021-03-04T05:06:07+0000",
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    return env
