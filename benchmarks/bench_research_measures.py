"""Cost of the research measures in a snapshot, as a share of an epoch, and how it grows.

For each configuration a seeded model is trained for a few epochs without
snapshots (the epoch time), then the measures of its last snapshot are
computed repeatedly from that snapshot's arrays
(:func:`engine.analysis.epoch_measures.epoch_measures`): I(x; z) every epoch,
MIG + DCI + FactorVAE at a scored epoch. Rounds alternate the two so the
machine's load hits both alike; medians are printed beside the load average.
A second table times each score on synthetic codes of growing size (images
M, dimensions D) to show how the cost grows.

Run: ``python benchmarks/bench_research_measures.py [--rounds 5] [--threads 1]``
Target: a few % of an epoch (the scores are computed every
:data:`~engine.analysis.epoch_measures.SCORE_EVERY` epochs, the information every epoch).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.analysis.dci import dci  # noqa: E402
from engine.analysis.disentanglement import factor_vae_score, mig  # noqa: E402
from engine.analysis.epoch_measures import SCORE_EVERY, epoch_measures  # noqa: E402
from engine.analysis.mutual_information import mutual_information  # noqa: E402
from engine.data import load_dataset  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

CONFIGS = {
    "sprites VAE, 6-d (lesson 13)": ("sprites-vae-2d", {
        "data.n_sprites": 6000, "model.latent_dim": 6, "model.hidden": [256]}),
    "sprites VAE, 10-d, 512-256": ("sprites-vae-2d", {
        "data.n_sprites": 10000, "model.latent_dim": 10}),
    "variational (digits, 20-d)": ("variational", {}),
}


def seconds(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def per_epoch(name: str, preset: str, over: dict, epochs: int, rounds: int) -> None:
    config = load_preset(preset).with_overrides({"device": "cpu", "optim.epochs": epochs,
                                                 **over})
    trainer = Trainer(config, load_dataset(config.data, config.seed))
    epoch_s = seconds(lambda: trainer.run(lambda e: None, snapshots=False,
                                          checkpoints=False)) / epochs
    arrays = trainer.model.snapshot(trainer.probe, trainer._eval_generator(-1))[1]
    factors = trainer.map_factors
    info, scored = [], []
    for r in range(rounds):
        for which in ((0, 1) if r % 2 == 0 else (1, 0)):
            if which == 0:      # an epoch between scorings: the information alone
                info.append(seconds(lambda: epoch_measures(arrays, factors, True, 2, 99)))
            else:
                scored.append(seconds(lambda: epoch_measures(arrays, factors, True, 1, 99)))
    a, b = statistics.median(info), statistics.median(scored)
    m = len(arrays["map_latents"])
    mean = (a * (SCORE_EVERY - 1) + b) / SCORE_EVERY
    print(f"{name:30s} M={m:5d}  epoch {epoch_s * 1e3:7.0f} ms   I(x;z) epoch {a * 1e3:6.1f} ms "
          f"({a / epoch_s:5.1%})   scored epoch {b * 1e3:6.1f} ms ({b / epoch_s:5.1%})   "
          f"mean over {SCORE_EVERY} epochs {mean / epoch_s:5.1%}", flush=True)


def growth(rounds: int) -> None:
    print("\neach score on synthetic codes (5 factors, one categorical), median ms:")
    print(f"{'M':>6s} {'D':>4s} {'I(x;z)':>8s} {'MIG':>8s} {'DCI':>8s} {'FactorVAE':>10s}")
    for m, d in ((500, 10), (1000, 10), (2000, 10), (1000, 20), (1000, 40)):
        rng = np.random.default_rng(0)
        f = np.stack([rng.integers(0, 3, m), *rng.uniform(size=(4, m))], 1)
        z = np.concatenate([f, rng.standard_normal((m, d - 5))], 1)
        lv = np.full_like(z, -2.0)
        times = [statistics.median(seconds(fn) for _ in range(rounds)) * 1e3 for fn in (
            lambda: mutual_information(z, lv), lambda: mig(z, f), lambda: dci(z, f),
            lambda: factor_vae_score(z, f))]
        print(f"{m:6d} {d:4d} " + " ".join(f"{t:8.1f}" for t in times[:3])
              + f" {times[3]:10.1f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=2, help="epochs trained to time an epoch")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the window's 1)")
    ap.add_argument("--only-growth", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"cpu, {torch.get_num_threads()} torch thread(s), median of {args.rounds} rounds, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    if not args.only_growth:
        for name, (preset, over) in CONFIGS.items():
            per_epoch(name, preset, over, args.epochs, args.rounds)
    growth(args.rounds)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
