"""A dry run of publishing 1,000 branches costs what re-publishing them unchanged costs.

``skrender bulk --publish --dry-run`` / ``--check`` read the branches exactly as publishing
does (one ``ls-remote``, one blob-less fetch, trees in-process), plus, for the diffs, one fetch
of the old manifests that changed.  Measured against re-publishing the same 1,000 branches
unchanged, in the same run (interleaved medians), on a loopback ``git daemon``.

Runs only with ``--benchmark-enable``:
``python3 -m pytest benchmarks/test_dryrun_bench.py --benchmark-enable -s``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from benchutil import interleaved_medians, opt_in
from test_publish_bench import BATCH_ROUNDS, ENVIRONMENTS, SERVICES, _targets
from test_publish_bench import daemon as daemon  # the fixture
from test_publish_bench import git_env as git_env  # the fixture

from engine.gitops import branchread
from engine.gitops.publish import publish_many

pytestmark = opt_in

CHANGED = 10  # branches whose manifest differs from what they hold
DRY_RUN_RATIO = 1.5  # the dry run (with diffs) vs re-publishing everything unchanged


@pytest.mark.integration
def test_dry_run_of_1000_branches_vs_unchanged_republish(
    benchmark: Any, daemon: Callable[[], str], git_env: dict[str, str], tmp_path: Path
) -> None:
    url = daemon()
    published = _targets(SERVICES * len(ENVIRONMENTS), "v1")
    assert all(r.changed for r in publish_many(repo=url, targets=published, env=git_env))
    newer = _targets(CHANGED, "v2")
    rendered = []
    for number, target in enumerate(published):
        source = tmp_path / f"{number}.yaml"
        data = (newer[number] if number < CHANGED else target).files["manifest.yaml"]
        source.write_bytes(data)
        rendered.append(branchread.RenderedFile(target.branch, "manifest.yaml", str(source)))

    def dry_run() -> None:
        changes = branchread.compare(url, rendered, diff=True, env=git_env)
        assert sum(c.changed for c in changes) == CHANGED and all(c.diff for c in changes[:CHANGED])

    def check() -> None:
        changes = branchread.compare(url, rendered, diff=False, env=git_env)
        assert sum(c.changed for c in changes) == CHANGED

    def republish() -> None:
        results = publish_many(repo=url, targets=published, env=git_env)
        assert not any(r.changed or r.error for r in results)

    dry_s, floor_s = interleaved_medians(dry_run, republish, BATCH_ROUNDS)
    check_s, _ = interleaved_medians(check, republish, BATCH_ROUNDS)
    benchmark.extra_info.update(dry_run_s=dry_s, check_s=check_s, republish_s=floor_s)
    benchmark.pedantic(dry_run, rounds=1, iterations=1)
    print(
        f"\n1000 branches, {CHANGED} changed: dry run {dry_s:.3f}s, check {check_s:.3f}s, "
        f"re-publish unchanged {floor_s:.3f}s ({dry_s / floor_s:.2f}x)"
    )
    assert dry_s <= DRY_RUN_RATIO * floor_s, f"{dry_s:.3f}s vs {floor_s:.3f}s"
