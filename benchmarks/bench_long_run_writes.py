"""Bytes a run writes to disk against its final session size, for long runs (issue 18 item 2).

A commit per epoch keeps the promise "once an epoch is printed, it and the earlier ones are
on disk"; what each commit rewrites besides the epoch's own rows (HDF5's chunk indexes and
object headers of every per-epoch dataset, the tables' last chunks) is paid once per epoch,
so it decides how the ratio grows with the number of epochs.

"before" is the writer with the file layout of the previous release (HDF5 1.8 objects:
``libver=("v108", "v108")``, B-tree chunk indexes; 512-row history chunks), "after" this
release's (``schema.LIBVER``, ``schema.HISTORY_CHUNK``); both run alternately in this
process on the same events. The events: a real 40-epoch ``variational --set
data.limit=1000`` run, trained once; 160 and 640 epochs repeat its epochs, renumbered (the
arrays of every epoch are real, so they compress as a run's do). The writer's clock is
simulated: each epoch lasts ``--epoch-seconds`` (0.15 s, the default preset's epoch on an
idle 2-core machine), so the checkpoint is written every ~30 s of that "training" as in a
real run, whatever the load here. A 64x64 colour ``conv-vae-64`` run (fewer sprites) is
trained for a few epochs and replayed the same way at the epoch length it had here.

Bytes written are the process's ``write_bytes - cancelled_write_bytes`` (``/proc/self/io``).
The writer's share is the training thread's time inside the writer per simulated epoch,
less its waits for the previous commit's publishing (fsync and catch-up on a background
thread, which a real epoch covers).

Run: ``python benchmarks/bench_long_run_writes.py [--epochs 40,160,640] [--conv-epochs 3]``
"""

from __future__ import annotations

import argparse
import dataclasses as dc
import os
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine.session.writer as writer_module  # noqa: E402
from engine.data import load_dataset  # noqa: E402
from engine.events import CheckpointSaved, RunFailed, RunFinished  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from engine.session import SessionWriter, atomic, layout, schema  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

LAYOUTS = {"before": (("v108", "v108"), 512), "after": (schema.LIBVER, schema.HISTORY_CHUNK)}


def load() -> str:
    return "load average %.1f %.1f %.1f" % os.getloadavg()


def written() -> int:
    io = {}
    with open("/proc/self/io") as f:
        for line in f:
            k, v = line.split(":")
            io[k] = int(v)
    return io["write_bytes"] - io["cancelled_write_bytes"]


def recorded(config) -> tuple[list, float]:
    """Every event of a run of ``config`` (nothing written) and its seconds per epoch."""
    events, t0 = [], time.perf_counter()
    Trainer(config, load_dataset(config.data, 0)).run(events.append)
    return events, (time.perf_counter() - t0) / config.optim.epochs


def repeated(events: list, epochs: int) -> list:
    """``events`` of a run of m epochs made into a run of ``epochs``: epoch e replays the
    events of epoch (e - 1) % m + 1, its epoch and step numbers shifted."""
    start, spe = events[0], events[0].steps_per_epoch
    by_epoch: dict[int, list] = {}
    for e in events[1:-1]:
        epoch = e.checkpoint.epoch if isinstance(e, CheckpointSaved) else e.epoch
        by_epoch.setdefault(epoch, []).append(e)
    assert isinstance(events[-1], (RunFinished, RunFailed))
    out = [dc.replace(start, total_epochs=epochs)]
    for epoch in range(1, epochs + 1):
        source = (epoch - 1) % len(by_epoch) + 1
        shift = epoch - source
        for e in by_epoch[source]:
            if isinstance(e, CheckpointSaved):
                c = e.checkpoint
                out.append(CheckpointSaved(dc.replace(c, epoch=c.epoch + shift,
                                                      step=c.step + shift * spe)))
            else:
                out.append(dc.replace(e, epoch=e.epoch + shift, step=e.step + shift * spe))
    out.append(dc.replace(events[-1], epoch=epochs, step=epochs * spe))
    return out


class Written:
    """``events`` written into a new session with one layout, the writer's clock advancing
    ``epoch_seconds`` an epoch: size, bytes written, checkpoints, seconds in the writer."""

    def __init__(self, events: list, path: Path, which: str, epoch_seconds: float):
        libver, history_chunk = LAYOUTS[which]
        saved = (schema.LIBVER, atomic.LIBVER, layout.HISTORY_CHUNK, layout.write_checkpoint,
                 writer_module.time, atomic.AtomicH5File.wait)
        waited = [0.0]

        def wait(self_):
            # Replayed back to back, each epoch's end waits for the last commit's fsync,
            # which a real epoch of epoch_seconds would have covered: not the writer's cost.
            t = time.perf_counter()
            try:
                saved[5](self_)
            finally:
                waited[0] += time.perf_counter() - t
        atomic.AtomicH5File.wait = wait
        clock = [0.0]
        self.checkpoints = 0

        def counted(run, ck):
            self.checkpoints += 1
            saved[3](run, ck)
        schema.LIBVER = atomic.LIBVER = libver
        layout.HISTORY_CHUNK, layout.write_checkpoint = history_chunk, counted
        writer_module.time = types.SimpleNamespace(monotonic=lambda: clock[0])
        try:
            before, inside = written(), 0.0
            writer = SessionWriter(path, force=True)
            for event in events:
                if isinstance(event, CheckpointSaved):   # an epoch's end
                    clock[0] += epoch_seconds
                t = time.perf_counter()
                writer(event)
                inside += time.perf_counter() - t
            t = time.perf_counter()
            writer.close()
            inside += time.perf_counter() - t
            self.disk = written() - before
        finally:
            (schema.LIBVER, atomic.LIBVER, layout.HISTORY_CHUNK, layout.write_checkpoint,
             writer_module.time, atomic.AtomicH5File.wait) = saved
        self.size = path.stat().st_size
        self.epochs = events[-1].epoch
        self.share = (inside - waited[0]) / (self.epochs * epoch_seconds)

    def words(self) -> str:
        return (f"{self.size / 1e6:6.1f} MB, wrote {self.disk / 1e6:7.1f} MB = "
                f"{self.disk / self.size:4.2f}x, {self.checkpoints} checkpoints, "
                f"writer {self.share:5.1%} of epoch time")


def compare(name: str, events: list, tmp: Path, epoch_seconds: float, rounds: int) -> None:
    results: dict[str, list[Written]] = {"before": [], "after": []}
    for r in range(rounds):
        for which in (("before", "after") if r % 2 == 0 else ("after", "before")):
            results[which].append(Written(events, tmp / f"{which}.h5", which, epoch_seconds))
    for which, runs in results.items():
        best = sorted(runs, key=lambda m: m.disk / m.size)[len(runs) // 2]
        print(f"  {name:26} {which:6}: {best.words()}   [{load()}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", default="40,160,640", help="run lengths, comma-separated")
    ap.add_argument("--epoch-seconds", type=float, default=0.15,
                    help="simulated length of an epoch of the variational run")
    ap.add_argument("--rounds", type=int, default=1, help="alternating rounds (median)")
    ap.add_argument("--conv-epochs", type=int, default=3, help="0 skips the conv-vae-64 run")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"bench_long_run_writes: 1 torch thread, {load()}")
    base, _ = recorded(load_preset("variational").with_overrides(
        {"optim.epochs": 40, "device": "cpu", "data.limit": 1000}))
    with tempfile.TemporaryDirectory() as tmp:
        print(f"\n== variational, data.limit=1000, epochs of {args.epoch_seconds} s "
              f"(checkpoint every ~30 s)")
        for epochs in (int(e) for e in args.epochs.split(",")):
            compare(f"{epochs} epochs", repeated(base, epochs), Path(tmp), args.epoch_seconds,
                    args.rounds)
        if args.conv_epochs:
            config = load_preset("conv-vae-64").with_overrides(
                {"optim.epochs": args.conv_epochs, "device": "cpu", "data.n_sprites": 256})
            events, seconds = recorded(config)
            print(f"\n== conv-vae-64 (64x64 colour sprites, 256 of them), {args.conv_epochs} "
                  f"epochs of {seconds:.1f} s as trained here")
            compare(f"{args.conv_epochs} epochs", events, Path(tmp), seconds, 1)
            compare(f"{args.conv_epochs} epochs, fast (GPU-like)", events, Path(tmp), 0.5, 1)


if __name__ == "__main__":
    main()
