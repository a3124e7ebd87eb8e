"""A profile's ``patches`` keep an empty-mapping tag policy (issue 15, item 6).

skaffold applies patches to ``yaml.Marshal`` of the config (pkg/skaffold/schema/profiles.go
applyProfile), and yaml.v3 keeps a non-nil pointer to an empty struct (``inputDigest: {}``,
``sha256: {}``) under ``omitempty``.  A patch that does not touch the tag policy therefore
leaves the output as real skaffold renders the unpatched config (golden/cases/c-*).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from engine.pipeline import RenderRequest, render

CASES = Path(__file__).resolve().parent.parent / "golden" / "cases"

# rewrites a field to the value it already has: the config is the same after the patch
_SAME_VALUE_PATCH = """
profiles:
  - name: same
    patches:
      - op: replace
        path: /manifests/rawYaml/0
        value: {raw_yaml}
"""


@pytest.mark.parametrize("case", ["c-inputdigest", "c-sha256"])
def test_empty_mapping_tag_policy_survives_patches(tmp_path: Path, case: str) -> None:
    app = tmp_path / "app"
    shutil.copytree(CASES / case / "app", app, symlinks=True)
    config = (app / "skaffold.yaml").read_text()
    raw_yaml = config.split("rawYaml:\n", 1)[1].split("\n", 1)[0].strip().removeprefix("- ")
    (app / "skaffold.yaml").write_text(config + _SAME_VALUE_PATCH.format(raw_yaml=raw_yaml))
    _commit(app)  # in a git repo the lost policy would show: the git SHA tagger would be used
    request = RenderRequest(
        cwd=str(app),
        profiles=("same",),
        default_repo="gcr.io/golden-proj",
        digest_source="tag",
        env={"HOME": str(tmp_path)},
    )
    assert render(request).text == (CASES / case / "expected.yaml").read_text()


def _commit(repo: Path) -> None:
    env = {
        "HOME": str(repo.parent),
        "PATH": "/usr/bin:/bin",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "c"]):
        subprocess.run(argv, cwd=repo, env=env, check=True, timeout=30)
