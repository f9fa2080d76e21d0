"""Wall time of one sweep four ways: one run at a time with every core's threads (or one),
``--jobs N``
with torch's threads divided among the processes (what ``sweep`` does), and ``--jobs N``
with every process using every core (oversubscribed).

Each way trains the same runs (the same configs, seeds and data) into a fresh folder through
:class:`~engine.sweep.runner.SweepRunner` — worker processes, session files and all. Rounds
rotate the order of the ways so that drift in the machine's load hits each alike;
medians of the rounds are printed, and the ratios to the one-at-a-time time.

Run: ``python benchmarks/bench_sweep_jobs.py [--preset vae-2d] [--values 0.5,1,2,4]
[--epochs 3] [--jobs 2] [--rounds 3] [--set FIELD=VALUE ...]``
Expectation: on a small machine, divided threads beat oversubscription (the issue measured
7.3 s for two runs using every core at once against 5.6 s one after the other).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.config import parse_value  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from engine.sweep.plan import Axis, plan_runs  # noqa: E402
from engine.sweep.runner import (SweepRunner, base_identity, new_index,  # noqa: E402
                                 prepare_folder)


def one_sweep(base, axes, jobs: int, threads: int | None) -> float:
    runs = plan_runs(base, axes)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sweep"
        index = prepare_folder(folder, new_index(base_identity(base), axes, runs), False)
        runner = SweepRunner(folder, index, runs, jobs=jobs, quiet=True, say=lambda s: None)
        if threads is not None:
            runner.threads = threads
        t0 = time.perf_counter()
        outcome = runner.run()
        elapsed = time.perf_counter() - t0
        assert all(r.status == "completed" for r in outcome.index.runs), outcome.index
    return elapsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="vae-2d")
    p.add_argument("--field", default="objective.beta")
    p.add_argument("--values", default="0.5,1,2,4")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    a = p.parse_args()
    over = {"optim.epochs": a.epochs, "device": "cpu"}
    for item in a.set:
        k, v = item.split("=", 1)
        over[k] = parse_value(v)
    base = load_preset(a.preset).with_overrides(over)
    axes = [Axis(a.field, tuple(parse_value(v) for v in a.values.split(",")))]
    cores = os.cpu_count() or 1
    ways = {"one at a time, %d threads" % cores: (1, cores),
            "one at a time, 1 thread": (1, 1),
            "--jobs %d, %d thread(s) each (divided)" % (a.jobs, max(1, cores // a.jobs)): (a.jobs, None),
            "--jobs %d, %d threads each (oversubscribed)" % (a.jobs, cores): (a.jobs, cores)}
    times = {w: [] for w in ways}
    names = list(ways)
    for r in range(a.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for w in order:
            times[w].append(one_sweep(base, axes, *ways[w]))
            print(f"round {r + 1}: {w}: {times[w][-1]:.1f} s", flush=True)
    first = statistics.median(times[names[0]])
    print(f"\n{len(axes[0].values)} runs of {a.preset}, {a.epochs} epochs each, {cores} cores:")
    for w in names:
        m = statistics.median(times[w])
        print(f"  {w:45s} {m:6.1f} s   ratio to one at a time {m / first:.2f}")


if __name__ == "__main__":
    main()
