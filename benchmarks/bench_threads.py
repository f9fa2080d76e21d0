"""Torch threads on a busy machine: the default choice against each fixed count.

Starts ``--busy`` CPU-burning processes (two by default: on the 2-core
development machine that is every core taken), then trains short runs of
each preset with

- the default: the command line's policy (:mod:`engine.threads`), which
  takes the cores other processes leave free, checked at the run's start
  and again at epoch ends;
- each fixed thread count of ``--counts``.

Rounds alternate the three (and rotate their order) so drift in the
machine's other load hits them alike; medians are printed, with the ratio
default / best fixed count (target <= 1.2) and the counts the default chose.
The load average is printed at the start of each round. It also times what
the choice itself costs: a re-check at an epoch's end, and the first check
of a run (which waits up to 0.1 s for a window when none is open).

Run: ``python benchmarks/bench_threads.py [--busy 2] [--rounds 3]
[--presets vae-toy variational] [--counts 1,2]``. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from engine import threads  # noqa: E402
from engine.data import load_dataset  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

#: Short runs: a few seconds each on one idle core.
RUNS = {"vae-toy": {"optim.epochs": 3},
        "variational": {"optim.epochs": 2, "data.limit": 2000}}


def start_busy(n: int) -> list[subprocess.Popen]:
    """``n`` processes that each keep a core busy until stopped."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def stop_busy(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=10)


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def timed_run(config, dataset, policy: threads.ThreadPolicy) -> tuple[float, int]:
    """Seconds of ``Trainer.run`` under ``policy`` and the thread count it ended with."""
    trainer = Trainer(config, dataset)
    with threads.using(policy):
        t0 = time.perf_counter()
        trainer.run(lambda e: None)
        seconds = time.perf_counter() - t0
        return seconds, torch.get_num_threads()


def choice_costs(repeats: int = 200) -> tuple[float, float]:
    """(µs of a re-check at an epoch's end, ms of a run's first check with no open window)."""
    policy = threads.ThreadPolicy()
    threads.LOAD.others_busy()
    time.sleep(threads.MIN_WINDOW)
    t0 = time.perf_counter()
    for _ in range(repeats):
        threads.LOAD._last = threads.LOAD._reading()   # as if the last check was long ago
        threads.LOAD._last = (threads.LOAD._last[0] - 1.0, *threads.LOAD._last[1:])
        threads.choose_threads(policy)
    recheck = (time.perf_counter() - t0) / repeats * 1e6
    threads.LOAD.others_busy()
    t0 = time.perf_counter()
    threads.choose_threads(policy)                      # the window just opened: waits
    first = (time.perf_counter() - t0) * 1e3
    return recheck, first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy", type=int, default=2, help="CPU-burning processes beside the runs")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--presets", nargs="+", default=list(RUNS))
    ap.add_argument("--counts", default="1,2", help="fixed thread counts to compare")
    args = ap.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    print(f"{os.cpu_count()} cores ({threads.core_limit()} usable), torch {torch.__version__}, "
          f"{args.busy} busy processes beside the runs; load average {load()}")
    configs = {p: load_preset(p).with_overrides({**RUNS.get(p, {}), "device": "cpu"})
               for p in args.presets}
    data = {p: load_dataset(c.data, c.seed) for p, c in configs.items()}
    recheck, first = choice_costs()
    print(f"the choice itself: a re-check {recheck:.0f} µs (at most once a second, at an "
          f"epoch's end), a first check with no window open {first:.0f} ms")
    sides = ["default"] + [f"{c} thread{'s' if c > 1 else ''}" for c in counts]
    policies = [threads.ThreadPolicy()] + [threads.ThreadPolicy(c) for c in counts]
    busy = start_busy(args.busy)
    try:
        time.sleep(1.0)  # the burners at full speed before the first measurement
        times = {p: {s: [] for s in sides} for p in args.presets}
        chosen = {p: Counter() for p in args.presets}
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}: load average {load()}", flush=True)
            for p in args.presets:
                order = list(range(len(sides)))
                order = order[r % len(order):] + order[:r % len(order)]
                for i in order:
                    seconds, used = timed_run(configs[p], data[p], policies[i])
                    times[p][sides[i]].append(seconds)
                    if i == 0:
                        chosen[p][used] += 1
    finally:
        stop_busy(busy)
    print(f"\nmedians of {args.rounds} rounds, {args.busy} busy processes; load average now "
          f"{load()}")
    for p in args.presets:
        med = {s: statistics.median(v) for s, v in times[p].items()}
        best = min(sides[1:], key=med.get)
        ratio = med["default"] / med[best]
        picks = ", ".join(f"{n} thread{'s' if n > 1 else ''} x{k}"
                          for n, k in sorted(chosen[p].items()))
        print(f"  {p:12s} " + "; ".join(f"{s} {med[s]:.2f} s" for s in sides)
              + f"  -> default / best fixed ({best}) = {ratio:.2f} "
                f"({'met' if ratio <= 1.2 else 'NOT met'}: <= 1.2); default chose {picks}")


if __name__ == "__main__":
    main()
