"""The golden corpus's own runner, golden/tool/golden.py, loaded once as a module.

Tests use it to run corpus cases (tests/test_golden.py, tests/test_resolver_parity.py) and
to build the byte-deterministic images the corpus pushes, so the digests in expected outputs
hold in every test registry (tests/fixtures_registry.py).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "golden" / "cases"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("golden_tool", ROOT / "golden/tool/golden.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden = _load()
