"""Cost of sample quality (FID, precision / recall) in each epoch's snapshot, as a share of an epoch.

For each preset the same seeded model is trained for an epoch with no
snapshots (the epoch time: training and validation), then its snapshot is
built repeatedly with the sample-quality arrays and without them, rounds
alternating so drift in the machine's load hits both alike; medians are
printed, with the added time as a share of the epoch. The reference
features (computed once per run, at its first snapshot) are timed apart.

How it grows: the scores' own cost (samples, features, FID, the k-NN
manifolds) against the number of held-out images N — 400 and 1,000 points
(``data.n_points`` 4,000 and 10,000) for the GAN on 8 Gaussians; the k-NN
distances grow as N², the samples and the features as N.

The share over a preset's whole run counts the epochs it scores: its first and every k-th
(``quality_every``; by default every epoch for 2-D points, every 5th for images).

Run: ``python benchmarks/bench_sample_quality.py [--presets gan-toy gan ...] [--rounds 5]
[--threads N] [--no-growth]``. Target: a few percent of training for the presets that ship.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.analysis.quality_probe import scored  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

PRESETS = ("gan-toy", "vae-toy", "rbm-toy", "gan", "vae-2d", "rbm")


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def trained(preset: str, **over) -> tuple[Trainer, float]:
    config = load_preset(preset).with_overrides({"device": "cpu", "optim.epochs": 1, **over})
    trainer = Trainer(config)
    epoch_s = timed(lambda: trainer.run(lambda e: None, snapshots=False, checkpoints=False))
    return trainer, epoch_s


def measure(preset: str, rounds: int) -> None:
    trainer, epoch_s = trained(preset)
    quality = trainer.quality
    first = timed(lambda: quality.reference())
    real_arrays = quality.arrays
    with_q, without = [], []
    trainer.snapshot(1)   # warm-up
    for r in range(rounds):
        for on in ((True, False) if r % 2 == 0 else (False, True)):
            quality.arrays = real_arrays if on else (lambda *a, **k: {})
            (with_q if on else without).append(timed(lambda: trainer.snapshot(1)))
    quality.arrays = real_arrays
    # The scores alone, on the snapshot's own arrays (what the difference above estimates).
    arrays, gen = trainer.snapshot(1).arrays, trainer._eval_generator(-2)
    alone = statistics.median(timed(lambda: quality.arrays(trainer.model, arrays, gen))
                              for _ in range(rounds))
    a, b = statistics.median(without), statistics.median(with_q)
    n = len(quality.reference()[0])
    # Over the preset's own run: scored at its first epoch and every k-th.
    cfg = load_preset(preset)
    epochs = cfg.optim.epochs
    count = sum(scored(cfg, trainer.dataset.image_shape, e) for e in range(1, epochs + 1))
    print(f"{preset:8s} N={n:4d}  epoch {epoch_s * 1e3:7.0f} ms   snapshot without "
          f"{a * 1e3:6.1f} ms, with {b * 1e3:6.1f} ms (+{(b - a) / epoch_s:5.1%})   scores "
          f"alone {alone * 1e3:6.1f} ms = {alone / epoch_s:5.1%} of an epoch; scored "
          f"{count} of its {epochs} epochs: {alone * count / (epoch_s * epochs):5.1%} "
          f"over the run   (reference features once: {first * 1e3:.0f} ms)   {load()}",
          flush=True)


def growth(rounds: int) -> None:
    out = {}
    for n_points in (4000, 10000):
        trainer, epoch_s = trained("gan-toy", **{"data.n_points": n_points})
        arrays = trainer.snapshot(1).arrays
        q = trainer.quality
        gen = trainer._eval_generator(-2)
        times = [timed(lambda: q.arrays(trainer.model, arrays, gen)) for _ in range(rounds)]
        out[n_points] = (len(q.reference()[0]), statistics.median(times), epoch_s)
    (n1, t1, e1), (n2, t2, e2) = out[4000], out[10000]
    print(f"growth (gan-toy): N={n1} {t1 * 1e3:.1f} ms ({t1 / e1:.1%} of its epoch), "
          f"N={n2} {t2 * 1e3:.1f} ms ({t2 / e2:.1%} of its epoch): x{t2 / t1:.1f} for "
          f"x{n2 / n1:.1f} the points   {load()}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presets", nargs="+", default=list(PRESETS))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--no-growth", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"cpu, {torch.get_num_threads()} threads, median of {args.rounds} rounds; "
          f"{load()}", flush=True)
    for preset in args.presets:
        measure(preset, args.rounds)
    if not args.no_growth:
        growth(args.rounds)


if __name__ == "__main__":
    main()
