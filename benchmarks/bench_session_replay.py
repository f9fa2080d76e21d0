"""Replay latency: open a long session and jump to epochs, as the GUI's timeline does.

Builds a session of ``--epochs`` epochs (default 100) for a preset (default
the default preset, ``variational``). By default one epoch is trained for
real and its events are replayed with new epoch numbers, which gives a file
of the true layout and size in seconds; ``--train`` trains every epoch.
Then it measures, over ``--jumps`` random epochs:

- ``Session.open`` (format, config, data, history, epoch means), and
- a jump: ``snapshot(epoch)`` + ``decoder(epoch)`` + decoding one code,

and the worst case of opening and jumping once. The file was just written,
so it is read from the page cache (as when the GUI opens a recent run).

Run: ``python benchmarks/bench_session_replay.py [--preset variational] [--epochs 100]
[--jumps 50] [--train]``
Target: open + jump well under 100 ms.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.events import CheckpointSaved, RunFinished, RunStarted  # noqa: E402
from engine.presets import DEFAULT_PRESET, load_preset  # noqa: E402
from engine.session import Session, SessionWriter  # noqa: E402
from engine.trainer import Trainer  # noqa: E402


def build_session(path: Path, preset: str, epochs: int, train: bool) -> None:
    config = load_preset(preset).with_overrides({"optim.epochs": epochs if train else 1,
                                                 "device": "cpu"})
    trainer = Trainer(config)
    if train:
        with SessionWriter(path) as writer:
            trainer.run(writer)
        return
    events = []
    trainer.run(events.append)
    started = dataclasses.replace(events[0], total_epochs=epochs)
    one_epoch = [e for e in events[1:] if not isinstance(e, RunFinished)]
    steps = trainer.steps_per_epoch
    with SessionWriter(path) as writer:
        writer(started)
        for epoch in range(1, epochs + 1):
            for e in one_epoch:
                if isinstance(e, CheckpointSaved):
                    ck = dataclasses.replace(e.checkpoint, epoch=epoch, step=epoch * steps)
                    e = CheckpointSaved(ck)
                elif not isinstance(e, RunStarted):
                    e = dataclasses.replace(e, epoch=epoch, step=e.step + (epoch - 1) * steps)
                writer(e)
        writer(events[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default=DEFAULT_PRESET)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--jumps", type=int, default=50)
    ap.add_argument("--train", action="store_true", help="train every epoch for real")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.h5"
        t = time.perf_counter()
        build_session(path, args.preset, args.epochs, args.train)
        print(f"{args.preset}: {args.epochs}-epoch session, {path.stat().st_size / 1e6:.1f} MB "
              f"(built in {time.perf_counter() - t:.1f} s)")
        rng = np.random.default_rng(0)
        opens, jumps, both = [], [], []
        for _ in range(args.jumps):
            epoch = int(rng.integers(1, args.epochs + 1))
            t0 = time.perf_counter()
            with Session.open(path) as session:
                s = session.run()
                t1 = time.perf_counter()
                snap = s.snapshot(epoch)
                decoder = s.decoder(epoch)
                decoder.decode(snap.arrays["probe_latent_mean"][:1])
                t2 = time.perf_counter()
            opens.append(t1 - t0)
            jumps.append(t2 - t1)
            both.append(t2 - t0)
        ms = lambda xs: f"median {1e3 * statistics.median(xs):6.1f} ms, max {1e3 * max(xs):6.1f} ms"
        print(f"open:                       {ms(opens)}")
        print(f"jump (snapshot + decoder):  {ms(jumps)}")
        print(f"open + jump:                {ms(both)}")


if __name__ == "__main__":
    main()
