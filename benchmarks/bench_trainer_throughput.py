"""Trainer throughput versus a bare hand-written PyTorch loop, in one process.

The model is the pytorch/examples VAE (784-400-20, Bernoulli decoder, batch
128, Adam 1e-3) on the bundled MNIST subset. Both sides train on the same
tensors on the same device and, like the example, evaluate the held-out set
after every epoch. Rounds alternate (bare, trainer, bare, trainer, ...) so
that drift in the machine's load hits both alike; the median of the rounds
is reported, and the median of each round's own ratio: on a shared machine
single rounds swing by +-8 %, and a round's two runs, back to back, share
most of the machine's state of the moment.

Run: ``python benchmarks/bench_trainer_throughput.py [--epochs 3] [--rounds 7] [--device cpu]``
Target: ratio (trainer / bare) >= 0.95 on the CPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.data import load_dataset  # noqa: E402
from engine.device import resolve_device  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from engine.trainer import Trainer  # noqa: E402


class ExampleVAE(nn.Module):
    """pytorch/examples vae/main.py, with the decoder returning logits."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def forward(self, x):
        h = F.relu(self.fc1(x.view(-1, 784)))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.fc4(F.relu(self.fc3(z))), mu, logvar


def loss_fn(logits, x, mu, logvar):
    bce = F.binary_cross_entropy_with_logits(logits, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (bce + kld) / x.shape[0]


def bare_loop(train: torch.Tensor, test: torch.Tensor, epochs: int, device) -> float:
    """Samples per second of a minimal loop (train + test pass each epoch)."""
    torch.manual_seed(0)
    model = ExampleVAE().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = train.shape[0]
    t0 = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n, device=device)
        total = 0.0
        for i in range(0, n, 128):
            x = train[perm[i:i + 128]]
            opt.zero_grad()
            loss = loss_fn(*_unpack(model(x), x))
            loss.backward()
            total += loss.item()
            opt.step()
        model.eval()
        with torch.no_grad():
            for i in range(0, test.shape[0], 500):
                x = test[i:i + 500]
                loss_fn(*_unpack(model(x), x)).item()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return n * epochs / (time.perf_counter() - t0)


def _unpack(out, x):
    logits, mu, logvar = out
    return logits, x, mu, logvar


def trainer_loop(cfg, dataset, epochs: int) -> float:
    trainer = Trainer(cfg, dataset)
    t0 = time.perf_counter()
    # Nobody records this run: no snapshot or checkpoint copy is built (as for the bare loop).
    trainer.run(lambda e: None, until_epoch=epochs, snapshots=False, checkpoints=False)
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return dataset.n_train * epochs / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    cfg = load_preset("variational").with_overrides(
        {"device": args.device, "optim.batch_size": 128, "optim.lr": 1e-3,
         "optim.epochs": args.epochs, "model.hidden": [400], "model.latent_dim": 20})
    dataset = load_dataset(cfg.data, cfg.seed)
    device = resolve_device(args.device)
    images = torch.from_numpy(dataset.images).to(device)
    train = images[torch.from_numpy(dataset.train_idx).to(device)]
    test = images[torch.from_numpy(dataset.val_idx).to(device)]

    bare_loop(train, test, 1, device)  # warm-up both paths (allocator, kernels)
    trainer_loop(cfg, dataset, 1)
    bare, ours = [], []
    for r in range(args.rounds):
        bare.append(bare_loop(train, test, args.epochs, device))
        ours.append(trainer_loop(cfg, dataset, args.epochs))
        print(f"round {r + 1}: bare {bare[-1]:,.0f} samples/s, trainer {ours[-1]:,.0f} samples/s")
    b, t = statistics.median(bare), statistics.median(ours)
    print(f"device {device}, torch threads {torch.get_num_threads()}, "
          f"{dataset.n_train} training images, {args.epochs} epochs x {args.rounds} rounds")
    print(f"bare loop: {b:,.0f} samples/s   trainer: {t:,.0f} samples/s   "
          f"ratio trainer/bare: {t / b:.3f}   (target >= 0.95)")
    paired = statistics.median(o / r for o, r in zip(ours, bare))
    print(f"median of the rounds' own ratios: {paired:.3f}")


if __name__ == "__main__":
    main()
