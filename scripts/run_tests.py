"""Run the whole test suite as four pytest processes at once, then report each.

The suite is mostly single-threaded (one torch thread per test, windows waiting on their
training threads), so on the two cores of a laptop or CI runner one pytest process
leaves a core idle: four plain processes — the window tests in two halves, the engine's
and the command line's — take about 6 minutes where one takes about 10.

Why not pytest-xdist: its workers talk to the controller on threads of their own, and a
garbage collection that fires on such a thread can free Qt widgets off the GUI thread
(:mod:`gui.gui_thread_gc`); one ``-n 2`` run crashed that way. Plain processes have no
such threads. Each part gets its own ``--basetemp`` so their temporary folders never meet.

Usage: ``python scripts/run_tests.py [pytest options, e.g. -x or -k name]``; the exit
status is the first part's that failed, else 0 (a part with no selected test is no failure). ``python -m pytest -q`` runs the same
tests in one process.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NO_TESTS = 5      # pytest's exit status when a part has no test that ``-k`` selects


def parts() -> dict[str, list[str]]:
    """Part name -> the test paths it runs (every test file exactly once): the window tests
    in two halves, then each other folder of tests (``tests/engine``, ``tests/cli``)."""
    tests = ROOT / "tests"
    gui = sorted(str(p.relative_to(ROOT)) for p in (tests / "gui").rglob("test_*.py"))
    folders = sorted(d for d in tests.iterdir()
                     if d.is_dir() and d.name != "gui" and any(d.rglob("test_*.py")))
    return {"window tests (1 of 2)": gui[0::2], "window tests (2 of 2)": gui[1::2],
            **{f"{d.name} tests": [str(d.relative_to(ROOT))] for d in folders}}


def main(options: list[str]) -> int:
    work = Path(tempfile.mkdtemp(prefix="studio-tests-"))
    running = []
    for i, (name, paths) in enumerate(parts().items()):
        log = (work / f"part{i}.log").open("w")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               f"--basetemp={work / f'tmp{i}'}", *options, *paths]
        running.append((name, log, time.perf_counter(),
                        subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)))
    ended: dict[int, float] = {}
    while len(ended) < len(running):      # note when each ends (they end in any order)
        for i, (*_, proc) in enumerate(running):
            if i not in ended and proc.poll() is not None:
                ended[i] = time.perf_counter()
        time.sleep(0.2)
    status, summary = 0, []
    for i, (name, log, start, proc) in enumerate(running):
        rc = proc.returncode
        log.close()
        took = ended[i] - start
        text = Path(log.name).read_text(errors="replace")
        print(f"\n===== {name}: exit {rc}, {took:.0f} s =====\n{text}", flush=True)
        last = text.strip().splitlines()[-1] if text.strip() else "(no output)"
        summary.append(f"{name}: {last}")
        if rc not in (0, NO_TESTS) and status == 0:
            status = rc
    print("\n".join(["", "===== summary ====="] + summary))
    nothing = all(proc.returncode == NO_TESTS for *_, proc in running)
    return NO_TESTS if nothing else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
