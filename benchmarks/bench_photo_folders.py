"""Folders of photos and the 64x64 colour presets: how long a folder takes to index, how fast
it decodes, and what samples/s ``conv-vae-64`` and ``dcgan-64`` train at.

1. Indexing: a generated folder of small JPEG and PNG files (``--files``, of
   mixed sizes) is listed as a run starts it (``load_dataset`` with
   ``data.stream=true``, ``data.image_size=64``: names are read, not images)
   at a quarter, a half and all of its files; the per-file cost is printed and
   extrapolated to 200,000 photos.
2. Decoding: images/s the streamed folder delivers at 64x64 (no training),
   with 0 and 1 DataLoader workers, alternating rounds.
3. The presets: samples/s of ``conv-vae-64`` and ``dcgan-64`` on their
   bundled colour sprites (in memory) and streamed from the folder, for
   ``--steps`` optimiser steps each (validation included, as a run counts it).

Run: ``python benchmarks/bench_photo_folders.py [--files 20000] [--steps 8]
[--rounds 2] [--device cpu] [--presets-only]``; on a GPU machine
``--presets-only --device cuda --steps 50`` gives the presets' GPU figures
(``scripts/gpu_check.sh``). Figures are printed with the load average, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.config import DataConfig  # noqa: E402
from engine.data import load_dataset  # noqa: E402
from engine.device import torch_threads  # noqa: E402
from engine.events import EpochEnded  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

PRESETS = ("conv-vae-64", "dcgan-64")
SIZES = [(96, 72), (64, 64), (80, 120), (150, 100), (72, 96)]


def write_folder(folder: Path, n: int, offset: int = 0) -> None:
    """``n`` small colourful JPEGs and PNGs of mixed sizes, in two class subfolders."""
    from PIL import Image, ImageDraw
    rng = np.random.default_rng(offset)
    for c in ("a", "b"):
        (folder / c).mkdir(parents=True, exist_ok=True)
    for i in range(offset, offset + n):
        w, h = SIZES[i % len(SIZES)]
        im = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(0, 256, 3)))
        r = int(rng.integers(8, min(w, h)))
        ImageDraw.Draw(im).ellipse([4, 4, 4 + r, 4 + r],
                                   fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        name = folder / ("a" if i % 2 else "b") / f"{i:06d}"
        im.save(f"{name}.jpg", quality=85) if i % 3 else im.save(f"{name}.png")


def index_seconds(folder: Path) -> float:
    t0 = time.perf_counter()
    ds = load_dataset(DataConfig(source="file", path=str(folder), image_size=64, stream=True,
                                 n_probe=16), 0)
    assert not isinstance(ds.images, np.ndarray)
    return time.perf_counter() - t0


def decode_rate(folder: Path, workers: int, images: int = 1024) -> float:
    """Images/s a streamed folder's batches reach the device at 64x64 (no training)."""
    cfg = load_preset("conv-vae-64").with_overrides({
        "data.source": "file", "data.path": str(folder), "data.stream": True,
        "data.workers": workers, "data.n_probe": 8, "optim.batch_size": 64})
    trainer = Trainer(cfg)
    data = trainer.data
    order = torch.randperm(data.n_train)[:images]
    batches = [order[i:i + 64] for i in range(0, len(order), 64)]
    t0 = time.perf_counter()
    for x, _ in data.epoch(batches):
        x.sum().item()
    data.close()
    return len(order) / (time.perf_counter() - t0)


def preset_rate(name: str, steps: int, device: str, folder: Path | None) -> float:
    """Samples/s of a preset over ``steps`` steps of one epoch (validation included)."""
    cfg = load_preset(name)
    batch = cfg.optim.batch_size
    n = int(steps * batch / 0.9) + 2
    over = {"device": device, "optim.epochs": 1, "data.n_probe": 16}
    if folder is None:
        over["data.n_sprites"] = max(n, 16)
    else:
        over.update({"data.source": "file", "data.path": str(folder), "data.stream": True,
                     "data.limit": n})
    trainer = Trainer(cfg.with_overrides(over))
    ends: list[EpochEnded] = []
    trainer.run(lambda e: ends.append(e) if isinstance(e, EpochEnded) else None,
                snapshots=False, checkpoints=False)
    return ends[-1].samples_per_sec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--presets-only", action="store_true",
                    help="only the presets' samples/s on their bundled sprites")
    ap.add_argument("--threads", type=int, default=torch_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    print(f"device {args.device}, torch threads {torch.get_num_threads()}, "
          f"{os.cpu_count()} cores, load average {load:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        if not args.presets_only:
            quarter = args.files // 4
            written, times = 0, {}
            for n in (quarter, 2 * quarter, 4 * quarter):
                t0 = time.perf_counter()
                write_folder(folder, n - written, written)
                made = time.perf_counter() - t0
                written = n
                times[n] = statistics.median(index_seconds(folder) for _ in range(3))
                print(f"indexing {n:7,} files: {times[n]:6.2f} s  ({1e6 * times[n] / n:5.1f} "
                      f"us a file; writing them took {made:.0f} s)", flush=True)
            per_file = (times[written] - times[quarter]) / (written - quarter)
            at_200k = times[written] + per_file * (200_000 - written)
            print(f"  -> 200,000 photos: about {at_200k:.1f} s before the first batch "
                  f"(per added file {1e6 * per_file:.1f} us)")
            rates: dict[int, list[float]] = {0: [], 1: []}
            for _ in range(args.rounds):
                for w in rates:
                    rates[w].append(decode_rate(folder, w))
            for w, r in rates.items():
                print(f"decoding at 64x64, {w} workers: {statistics.median(r):7,.0f} images/s",
                      flush=True)
        for name in PRESETS:
            sources = [("colour sprites in memory", None)]
            if not args.presets_only:
                sources.append(("photo folder streamed", folder))
            for what, src in sources:
                r = [preset_rate(name, args.steps, args.device, src) for _ in range(args.rounds)]
                print(f"{name:12s} {what:26s} {statistics.median(r):8,.1f} samples/s "
                      f"(rounds: {', '.join(f'{x:.1f}' for x in r)})", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
