"""Training throughput with the data in memory versus streamed from its file.

The same images — the bundled digits repeated to ``--images`` (uint8, 28x28)
— are written once as a .npy file and as a chunked HDF5 data set, and the
same run (the ``plain`` preset, batch 128, ``--epochs`` epochs) trains on
them: loaded whole (the default when the data fits), streamed from the
memory-mapped .npy and from the HDF5 file through the DataLoader, with
0..``--max-workers`` worker processes. Rounds alternate the paths so drift in
the machine's load hits all alike; the median samples/s of each path and its
ratio to the in-memory path are printed. ``--read-only`` also times the loader
alone (no training): the ceiling a streamed path can feed a faster model.

The files are in the page cache after the first read: this measures what
streaming costs in the trainer, not the disk. On a set larger than memory the
disk's random-read rate adds to it.

Run: ``python benchmarks/bench_data_streaming.py [--images 50000] [--epochs 1]
[--rounds 3] [--max-workers 2] [--threads N] [--device cpu]``. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.data.mnist import load_mnist  # noqa: E402
from engine.device import torch_threads  # noqa: E402
from engine.events import EpochEnded  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from engine.trainer import Trainer  # noqa: E402


def write_files(folder: Path, n: int) -> tuple[Path, Path]:
    """The bundled digits repeated to ``n`` images, as .npy and as chunked .h5 (uint8)."""
    digits = load_mnist()
    raw = np.round(digits.images[:, 0] * 255).astype(np.uint8)
    reps = -(-n // len(raw))
    images = np.tile(raw, (reps, 1, 1))[:n]
    labels = np.tile(digits.labels, reps)[:n]
    npy, h5 = folder / "digits.npy", folder / "digits.h5"
    np.save(npy, images)
    with h5py.File(h5, "w") as f:
        f.create_dataset("images", data=images, chunks=(64, 28, 28))
        f.create_dataset("labels", data=labels)
    return npy, h5


def train(cfg) -> float:
    """Samples per second over the run, from its epoch ends (validation included)."""
    trainer = Trainer(cfg)
    ends: list[EpochEnded] = []
    trainer.run(lambda e: ends.append(e) if isinstance(e, EpochEnded) else None,
                snapshots=False, checkpoints=False)
    return ends[-1].samples_per_sec


def read_only(cfg, epochs: int) -> float:
    """Images per second the data path delivers to the device, with no training."""
    trainer = Trainer(cfg)
    data, bs = trainer.data, cfg.optim.batch_size
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(data.n_train, device=data.index_device)
        batches = [perm[i:i + bs] for i in range(0, data.n_train, bs)]
        for x, _y in data.epoch(batches):
            x.sum().item()  # the batch has arrived on the device
    data.close()
    return data.n_train * epochs / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=50_000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-workers", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--read-only", action="store_true", help="also time the loader alone")
    ap.add_argument("--threads", type=int, default=torch_threads(),
                    help="torch threads (default: the cores this process may use; 1 on a "
                         "busy machine keeps the thread team from waiting for a second core)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        npy, h5 = write_files(Path(tmp), args.images)
        base = load_preset("plain").with_overrides({
            "device": args.device, "optim.epochs": args.epochs, "optim.batch_size": 128,
            "data.source": "file", "data.path": str(npy), "data.val_fraction": 0.02,
            "data.n_probe": 16})
        paths = {"in memory (.npy loaded)": {"data.path": str(npy), "data.stream": False}}
        for w in range(args.max_workers + 1):
            paths[f"streamed .npy, {w} workers"] = {"data.path": str(npy), "data.stream": True,
                                                    "data.workers": w}
            paths[f"streamed .h5, {w} workers"] = {"data.path": str(h5), "data.stream": True,
                                                   "data.workers": w}
        configs = {name: base.with_overrides(o) for name, o in paths.items()}
        train(configs["in memory (.npy loaded)"].with_overrides({"optim.epochs": 1}))  # warm-up
        rates: dict[str, list[float]] = {name: [] for name in configs}
        reads: dict[str, list[float]] = {name: [] for name in configs}
        for r in range(args.rounds):
            for name, cfg in configs.items():
                rates[name].append(train(cfg))
                if args.read_only:
                    reads[name].append(read_only(cfg, args.epochs))
            print(f"round {r + 1}: " + ", ".join(f"{rates[n][-1]:,.0f}" for n in configs),
                  flush=True)
    ref = statistics.median(rates["in memory (.npy loaded)"])
    print(f"\n{args.images:,} images 28x28 uint8 (float32 {args.images * 784 * 4 / 1e6:,.0f} MB), "
          f"device {args.device}, torch threads {torch.get_num_threads()}, "
          f"{os.cpu_count()} cores, {args.epochs} epoch(s) x {args.rounds} rounds, "
          f"load average {os.getloadavg()[0]:.1f}")
    for name in configs:
        rate = statistics.median(rates[name])
        line = f"  {name:28s} {rate:9,.0f} samples/s   ratio to in memory {rate / ref:.2f}"
        if args.read_only:
            line += f"   loader alone {statistics.median(reads[name]):10,.0f} images/s"
        print(line)


if __name__ == "__main__":
    main()
