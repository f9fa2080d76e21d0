"""The 64x64 colour presets at speed: samples/s, the snapshot's share of an epoch, exactness.

For each preset (``conv-vae-64``, ``dcgan-64``) on generated 64x64 RGB
images (smooth random colour fields, saved as a uint8 ``.npy``; nothing is
downloaded), in one process:

- training samples/s over ``--epochs`` epochs (validation included, as in
  a real run; no snapshot or checkpoint);
- the epoch snapshot (what the window and the session show of an epoch:
  reconstructions or samples, codes, spectra, the interactive weights) in
  ms, and as a share of an epoch;
- on CUDA, the cost of exact numerics (``engine.device.use_exact_numerics``:
  deterministic cuDNN, no TF32) against cuDNN's autotuner with TF32: rounds
  alternate the two, and the ratio fast / exact is printed.

A preset this checkout lacks is skipped with a line saying so.

Run: ``python benchmarks/bench_presets_64.py [--device cuda] [--images 4096]
[--epochs 2] [--rounds 2] [--presets conv-vae-64 dcgan-64]``. Figures are printed, never asserted.
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

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from engine.data import load_dataset  # noqa: E402
from engine.device import resolve_device  # noqa: E402
from engine.presets import load_preset, preset_names  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

PRESETS = ("conv-vae-64", "dcgan-64")


def colour_fields(n: int, side: int = 64, seed: int = 0) -> np.ndarray:
    """(n, side, side, 3) uint8: smooth random colour fields (4x4 noise, upsampled)."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand((n, 3, 4, 4), generator=g)
    img = F.interpolate(low, size=(side, side), mode="bicubic", align_corners=False)
    return (img.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def fast_numerics(on: bool) -> None:
    """cuDNN's autotuner and TF32 (on), or back to exact numerics (off)."""
    torch.backends.cudnn.benchmark = on
    torch.backends.cudnn.deterministic = not on
    torch.backends.cudnn.allow_tf32 = on
    torch.backends.cuda.matmul.allow_tf32 = on


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(config, dataset, epochs: int, fast: bool) -> tuple[float, float, float]:
    """(samples/s, snapshot s, epoch s) of one trainer under exact or fast numerics."""
    trainer = Trainer(config, dataset)       # sets exact numerics on CUDA
    if fast:
        fast_numerics(True)
    device = trainer.device
    sync(device)
    t0 = time.perf_counter()
    trainer.run(lambda e: None, until_epoch=epochs, snapshots=False, checkpoints=False)
    sync(device)
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    trainer.snapshot(epochs)
    sync(device)
    snap = time.perf_counter() - t1
    fast_numerics(False)
    return len(trainer.train_idx) * epochs / seconds, snap, seconds / epochs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--images", type=int, default=4096)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--presets", nargs="+", default=list(PRESETS))
    args = ap.parse_args()
    device = resolve_device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device {device} ({name}), torch {torch.__version__}, {args.images} images of "
          f"64x64x3, {args.epochs} epochs x {args.rounds} rounds, torch threads "
          f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}", flush=True)
    known = set(preset_names())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "colour64.npy"
        np.save(path, colour_fields(args.images))
        for preset in args.presets:
            if preset not in known:
                print(f"{preset}: skipped: the preset is missing from this checkout (it comes "
                      f"with issue 18's 64x64 colour presets)")
                continue
            config = load_preset(preset).with_overrides({
                "device": args.device, "data.source": "file", "data.path": str(path),
                "data.limit": None, "optim.epochs": args.epochs})
            dataset = load_dataset(config.data, config.seed)
            measure(config, dataset, 1, False)   # warm-up: allocator, kernels, cuDNN
            sides = [False, True] if device.type == "cuda" else [False]
            runs = {side: [] for side in sides}
            for r in range(args.rounds):
                for side in (sides if r % 2 == 0 else sides[::-1]):
                    runs[side].append(measure(config, dataset, args.epochs, side))
            rate, snap, epoch = (statistics.median(x[i] for x in runs[False]) for i in range(3))
            line = (f"{preset}: {rate:,.0f} samples/s (exact numerics); snapshot "
                    f"{snap * 1e3:.0f} ms = {snap / (epoch + snap):.1%} of an epoch with it "
                    f"(epoch {epoch:.2f} s, {len(dataset.train_idx)} images)")
            if True in runs:
                fast = statistics.median(x[0] for x in runs[True])
                line += (f"; cuDNN autotuner + TF32 {fast:,.0f} samples/s: exact numerics cost "
                         f"{fast / rate:.2f}x")
            print(line, flush=True)


if __name__ == "__main__":
    main()
