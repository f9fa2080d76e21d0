"""scripts/run_tests.py splits the suite into parts: every test file must be in exactly one."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _runner():
    spec = importlib.util.spec_from_file_location("run_tests", ROOT / "scripts" / "run_tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_test_file_runs_in_exactly_one_part():
    covered = Counter()
    for paths in _runner().parts().values():
        for path in paths:
            target = ROOT / path
            files = [target] if target.is_file() else target.rglob("test_*.py")
            covered.update(str(f.relative_to(ROOT)) for f in files)
    every = {str(f.relative_to(ROOT)) for f in (ROOT / "tests").rglob("test_*.py")}
    assert set(covered) == every
    assert max(covered.values()) == 1
