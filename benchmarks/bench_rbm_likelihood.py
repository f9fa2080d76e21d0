"""What an RBM's log-likelihood costs per epoch, and how close AIS comes to the exact log Z.

Trains a 20-hidden-unit RBM on the bundled MNIST for a few epochs (so log Z is a
real model's, not a random one's), then times the exact log Z (2^20 hidden states)
and AIS at several numbers of temperatures, and prints each estimate's distance from
the exact value with its ±3-standard-error bar. Also times AIS at the ``rbm``
preset's size (64 hidden units, 100 runs x 1000 temperatures), which runs at every
epoch end.

    python benchmarks/bench_rbm_likelihood.py [--epochs 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from engine.models.boltzmann import ais_log_z  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from engine.trainer import Trainer  # noqa: E402


def trained_rbm(hidden: int, epochs: int):
    cfg = load_preset("rbm").with_overrides({"model.latent_dim": hidden, "optim.epochs": epochs,
                                             "device": "cpu"})
    trainer = Trainer(cfg)
    trainer.run(lambda e: None, snapshots=False, checkpoints=False)
    return trainer.model.machine


def timed(fn):
    t = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3, help="training epochs of the RBMs")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    m = trained_rbm(20, args.epochs)
    with torch.no_grad():
        exact, t_exact = timed(lambda: float(m.log_z_exact()))
    print(f"20 hidden units, {args.epochs} epochs: exact log Z = {exact:.3f} "
          f"({t_exact:.2f} s for 2^20 states)")
    for steps in (100, 1000, 5000):
        est, t = timed(lambda: ais_log_z(m, 100, steps, torch.Generator().manual_seed(0)))
        inside = est.lower <= exact <= est.upper
        print(f"  AIS 100 runs x {steps:>4} temperatures: {est.log_z:.3f} "
              f"(error {est.log_z - exact:+.3f}; bar {est.lower - exact:+.3f} … "
              f"{est.upper - exact:+.3f}, {'contains' if inside else 'MISSES'} the exact "
              f"value) in {t:.2f} s")
    m64 = trained_rbm(64, 1)
    est, t = timed(lambda: ais_log_z(m64, 100, 1000, torch.Generator().manual_seed(0)))
    print(f"64 hidden units (the rbm preset): AIS 100 x 1000 in {t:.2f} s an epoch "
          f"(log Z ≈ {est.log_z:.2f}, bar width {est.upper - est.lower:.3f})")


if __name__ == "__main__":
    main()
