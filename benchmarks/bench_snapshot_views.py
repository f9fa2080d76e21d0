"""Cost of the code views' snapshot arrays: per-epoch snapshot time with and without them.

For each preset the same seeded model is trained for a few epochs with no
snapshots (the epoch time), then its snapshot is built repeatedly, once as
it is now (the identity probe, the Jacobian spectrum at up to 16 probe
points, the reconstruction field, and the encoder's weights besides the
decoder's) and once as it was before (those arrays off, the decoder's
weights alone). Rounds alternate so drift in the machine's load hits both
alike; medians are printed, as a share of the epoch time. The file growth
of a session per epoch, with and without the encoder's weights, is measured
on the default preset by writing real sessions of 2 and 4 epochs.

Run: ``python benchmarks/bench_snapshot_views.py [--presets variational plain ...]
[--epochs 2] [--rounds 5] [--threads N] [--no-growth]``
Target: the new arrays cost under ~5 % of an epoch for the presets that ship.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.data import load_dataset  # noqa: E402
from engine.models import Autoencoder  # noqa: E402
from engine.presets import DEFAULT_PRESET, load_preset  # noqa: E402
from engine.session import SessionWriter  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

PRESETS = ("variational", "plain", "denoising", "sparse", "contractive", "plain-undercomplete",
           "plain-overcomplete", "vae-toy")


@contextmanager
def as_before(model=None):
    """Snapshots as they were before the code views: no new arrays, the decoder alone."""
    target = model if model is not None else Autoencoder
    saved = {k: target.__dict__[k] for k in ("_code_view_arrays", "interactive_parts")
             if k in target.__dict__}
    # On the class the stub is a method (it gets self); on an instance it does not.
    target._code_view_arrays = ((lambda *a: ({}, {})) if model is not None
                                else (lambda self, *a: ({}, {})))
    target.interactive_parts = ("decoder",)
    try:
        yield
    finally:
        for k in ("_code_view_arrays", "interactive_parts"):
            if k in saved:
                setattr(target, k, saved[k])
            else:
                delattr(target, k)


def snapshot_seconds(trainer: Trainer, epoch: int) -> float:
    t = time.perf_counter()
    trainer.snapshot(epoch)
    return time.perf_counter() - t


def measure(preset: str, epochs: int, rounds: int) -> None:
    config = load_preset(preset).with_overrides({"device": "cpu", "optim.epochs": epochs})
    dataset = load_dataset(config.data, config.seed)
    trainer = Trainer(config, dataset)
    t = time.perf_counter()
    trainer.run(lambda e: None, snapshots=False, checkpoints=False)
    epoch_s = (time.perf_counter() - t) / epochs
    now, before = [], []
    snapshot_seconds(trainer, epochs)       # warm-up (vmap, allocator)
    for r in range(rounds):
        for new in ((True, False) if r % 2 == 0 else (False, True)):
            if new:
                now.append(snapshot_seconds(trainer, epochs))
            else:
                with as_before(trainer.model):
                    before.append(snapshot_seconds(trainer, epochs))
    a, b = statistics.median(before), statistics.median(now)
    d, m = config.model.latent_dim, trainer.model
    print(f"{preset:20s} D={d:5d}  epoch {epoch_s * 1e3:7.1f} ms   snapshot before "
          f"{a * 1e3:6.1f} ms ({a / epoch_s:6.1%})   now {b * 1e3:6.1f} ms ({b / epoch_s:6.1%})"
          f"   added {(b - a) / epoch_s:+6.1%} of an epoch", flush=True)
    del m


def session_bytes(config, dataset, folder: Path, epochs: int, before: bool) -> int:
    cfg = config.with_overrides({"optim.epochs": epochs})
    path = folder / f"{'before' if before else 'now'}-{epochs}.h5"
    with (as_before() if before else _nothing()):
        trainer = Trainer(cfg, dataset)
        # Every epoch's weights, as this comparison was made (a session now keeps weights
        # at a few epochs only: bench_session_size.py measures that).
        with SessionWriter(path, weights_budget=10**15) as writer:
            trainer.run(writer)
    return path.stat().st_size


@contextmanager
def _nothing():
    yield


def growth(preset: str) -> None:
    config = load_preset(preset).with_overrides({"device": "cpu"})
    dataset = load_dataset(config.data, config.seed)
    with tempfile.TemporaryDirectory() as tmp:
        out = {}
        for before in (True, False):
            two = session_bytes(config, dataset, Path(tmp), 2, before)
            four = session_bytes(config, dataset, Path(tmp), 4, before)
            out[before] = (four - two) / 2
        full = config.optim.epochs
    b, n = out[True], out[False]
    print(f"session growth per epoch ({preset}): before {b / 1e6:.3f} MB, now {n / 1e6:.3f} MB "
          f"(+{(n - b) / 1e6:.3f} MB, {n / b - 1:+.0%}); over its {full} epochs about "
          f"+{(n - b) * full / 1e6:.1f} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presets", nargs="+", default=list(PRESETS))
    ap.add_argument("--epochs", type=int, default=2, help="epochs trained to time an epoch")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--no-growth", action="store_true", help="skip the session growth")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"cpu, {torch.get_num_threads()} threads, median of {args.rounds} rounds", flush=True)
    for preset in args.presets:
        measure(preset, args.epochs, args.rounds)
    if not args.no_growth:
        growth(DEFAULT_PRESET)


if __name__ == "__main__":
    main()
