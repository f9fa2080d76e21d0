"""Train the digit classifier whose features sample quality is measured in.

Run once, by a developer, from the repository root (a few minutes on two cores; the
shipped weights: ``--epochs 30``, 97.6 % held out)::

    python scripts/train_digit_features.py [--epochs 30] [--out resources/data/digit_features.npz]

It trains :class:`engine.analysis.digit_features.DigitFeatureNet` on the
bundled 5,000 digits (``resources/data/mnist_5k.npz``): 4,000 for training
(each batch shifted by up to 2 pixels at random, so features do not hinge on
exact positions), 1,000 held out — 100 of each digit, chosen with a fixed
seed — on which it reports the accuracy. The weights (float32, 175 KB
compressed), the features' scale and that accuracy go into one .npz with no
pickle in it; the app reads the accuracy back (``read_meta``) to state it.

Note that a run's validation images, on which sample quality is measured, are
drawn from the same 5,000 digits: most were seen by this classifier in
training. That does not matter for a feature space (Inception saw ImageNet);
it is why the accuracy is stated on the 1,000 held out here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.analysis.digit_features import (DigitFeatureNet, save_weights,  # noqa: E402
                                            weights_path)
from engine.data.mnist import load_mnist  # noqa: E402

TEST_PER_DIGIT = 100
SEED = 20_19


def split(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices: ``TEST_PER_DIGIT`` of each digit held out, at random."""
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.choice(np.flatnonzero(labels == d), TEST_PER_DIGIT,
                                      replace=False) for d in range(10)])
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, np.sort(test)


def shifted(x: torch.Tensor, g: torch.Generator, most: int = 2) -> torch.Tensor:
    """Each image moved by up to ``most`` pixels in x and y (zero padding)."""
    b = x.shape[0]
    padded = F.pad(x, (most, most, most, most))
    dx = torch.randint(0, 2 * most + 1, (b,), generator=g)
    dy = torch.randint(0, 2 * most + 1, (b,), generator=g)
    rows = dy[:, None] + torch.arange(28)[None, :]            # (B, 28)
    cols = dx[:, None] + torch.arange(28)[None, :]
    idx = torch.arange(b)[:, None, None]
    return padded[idx, 0, rows[:, :, None], cols[:, None, :]][:, None]


def accuracy(net: DigitFeatureNet, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((net(x).argmax(1) == y).float().mean())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--out", type=Path, default=weights_path())
    args = p.parse_args(argv)
    torch.manual_seed(SEED)
    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    data = load_mnist()
    x = torch.from_numpy(data.images)
    y = torch.from_numpy(data.labels)
    train, test = split(data.labels, SEED)
    xt, yt = x[train], y[train]
    net = DigitFeatureNet()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    g = torch.Generator().manual_seed(SEED)
    t0 = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        net.train()
        order = torch.randperm(len(xt), generator=g)
        total = 0.0
        for i in range(0, len(order), 64):
            b = order[i:i + 64]
            loss = F.cross_entropy(net(shifted(xt[b], g)), yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        sched.step()
        net.eval()
        print(f"epoch {epoch:2d}: loss {total / len(xt):.4f}, held-out accuracy "
              f"{accuracy(net, x[test], y[test]):.4f}")
    net.eval()
    with torch.no_grad():
        feats = net.raw_features(xt)
        net.scale.fill_(float(feats.pow(2).mean().sqrt()))
    meta = {"test_accuracy": round(accuracy(net, x[test], y[test]), 4),
            "train_accuracy": round(accuracy(net, xt, yt), 4),
            "n_train": int(len(train)), "n_test": int(len(test)), "epochs": args.epochs,
            "seed": SEED, "augmentation": "random shifts of up to 2 pixels",
            "feature_scale": round(float(net.scale), 6),
            "data": "resources/data/mnist_5k.npz", "torch": torch.__version__}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_weights(net, args.out, meta)
    print(f"held-out accuracy {meta['test_accuracy']:.2%} on {meta['n_test']} digits "
          f"(train {meta['train_accuracy']:.2%}); {time.perf_counter() - t0:.0f} s; "
          f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
