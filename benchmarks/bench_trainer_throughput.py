"""Trainer throughput versus a bare hand-written PyTorch loop, in one process.

The model is the pytorch/examples VAE (784-400-20, Bernoulli decoder, batch
128, Adam 1e-3) on the bundled MNIST subset. Both sides train on the same
tensors on the same device and, like the example, evaluate the held-out set
after every epoch. Rounds alternate (bare, trainer, bare, trainer, ...) so
that drift in the machine's load hits both alike; the median of the rounds
is reported, and the median of each round's own ratio: on a shared machine
single rounds swing by +-8 %, and a round's two runs, back to back, share
most of the machine's state of the moment.

``--examples`` adds pytorch/examples' own loop (vae/main.py: a DataLoader
over the data set, sigmoid decoder, BCE) on the same digits; ``--precision
bfloat16`` runs the trainer with ``precision=bfloat16`` and the bare loop
under the same bf16 autocast; ``--compile`` also times the bare loop with
``torch.compile`` (compiled before timing).

Wall-clock samples/s is what a user gets; samples per second of process time
is printed too: it counts the work per sample and moves far less when other
people's jobs share the machine. ``--threads 1`` keeps a loaded machine from
making torch's thread team wait for a second core.

Run: ``python benchmarks/bench_trainer_throughput.py [--epochs 3] [--rounds 7] [--device cpu]
[--threads N] [--examples] [--precision float32|bfloat16] [--compile] [--limit N]``
(``--limit``: fewer digits, for ``scripts/gpu_check.sh --dry-run``)
Target: ratio (trainer / bare) >= 1.0 on the CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.data import load_dataset  # noqa: E402
from engine.device import resolve_device, torch_threads  # noqa: E402
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


def bare_loop(train: torch.Tensor, test: torch.Tensor, epochs: int, device,
              bf16: bool = False, model: nn.Module | None = None) -> float:
    """Samples per second of a minimal loop (train + test pass each epoch)."""
    torch.manual_seed(0)
    model = model if model is not None else ExampleVAE().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = train.shape[0]
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
    t0 = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n, device=device)
        total = 0.0
        for i in range(0, n, 128):
            x = train[perm[i:i + 128]]
            opt.zero_grad()
            with autocast:
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


class ExamplesVAE(ExampleVAE):
    """pytorch/examples vae/main.py as it is: the decoder ends in a sigmoid."""

    def forward(self, x):
        logits, mu, logvar = super().forward(x)
        return torch.sigmoid(logits), mu, logvar


def examples_loop(train: torch.Tensor, test: torch.Tensor, epochs: int, device) -> float:
    """Samples per second of pytorch/examples' vae/main.py train() and test() loops.

    Its DataLoader (shuffle, batch 128; one worker and pinned memory on CUDA)
    over the same images, kept on the CPU as a data set is.
    """
    from torch.utils.data import DataLoader, TensorDataset
    torch.manual_seed(0)
    kwargs = {"num_workers": 1, "pin_memory": True} if device.type == "cuda" else {}
    labels = torch.zeros(train.shape[0], dtype=torch.long)
    train_loader = DataLoader(TensorDataset(train.cpu(), labels), batch_size=128, shuffle=True,
                              **kwargs)
    test_loader = DataLoader(TensorDataset(test.cpu(), labels[:test.shape[0]]), batch_size=128,
                             shuffle=False, **kwargs)
    model = ExamplesVAE().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def loss_function(recon_x, x, mu, logvar):
        bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return bce + kld

    t0 = time.perf_counter()
    for _ in range(epochs):
        model.train()
        train_loss = 0
        for data, _ in train_loader:
            data = data.to(device)
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        model.eval()
        test_loss = 0
        with torch.no_grad():
            for data, _ in test_loader:
                data = data.to(device)
                recon_batch, mu, logvar = model(data)
                test_loss += loss_function(recon_batch, data, mu, logvar).item()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return train.shape[0] * epochs / (time.perf_counter() - t0)


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
    ap.add_argument("--examples", action="store_true",
                    help="also time pytorch/examples' own DataLoader loop")
    ap.add_argument("--precision", default="float32", choices=("float32", "bfloat16"))
    ap.add_argument("--compile", action="store_true", help="also time the bare loop compiled")
    ap.add_argument("--threads", type=int, default=torch_threads(),
                    help="torch threads (default: the cores this process may use)")
    ap.add_argument("--limit", type=int, default=None, help="train on the first N digits")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    bf16 = args.precision == "bfloat16"
    cfg = load_preset("variational").with_overrides(
        {"device": args.device, "optim.batch_size": 128, "optim.lr": 1e-3,
         "optim.epochs": args.epochs, "model.hidden": [400], "model.latent_dim": 20,
         "precision": args.precision,
         **({"data.limit": args.limit} if args.limit else {})})
    dataset = load_dataset(cfg.data, cfg.seed)
    device = resolve_device(args.device)
    images = torch.from_numpy(dataset.images).to(device)
    train = images[torch.from_numpy(dataset.train_idx).to(device)]
    test = images[torch.from_numpy(dataset.val_idx).to(device)]

    bare_loop(train, test, 1, device, bf16)  # warm-up every path (allocator, kernels)
    trainer_loop(cfg, dataset, 1)
    if args.examples:
        examples_loop(train, test, 1, device)
    compiled = None
    if args.compile:
        t0 = time.perf_counter()
        compiled = torch.compile(ExampleVAE().to(device))
        bare_loop(train, test, 1, device, bf16, model=compiled)
        print(f"torch.compile: {time.perf_counter() - t0:.1f} s to compile and train one epoch")
    bare, ours, examples, comp = [], [], [], []
    cpu_bare, cpu_ours = [], []  # samples per second of process time: the work per sample
    samples = dataset.n_train * args.epochs
    for r in range(args.rounds):
        c0 = time.process_time()
        bare.append(bare_loop(train, test, args.epochs, device, bf16))
        c1 = time.process_time()
        ours.append(trainer_loop(cfg, dataset, args.epochs))
        c2 = time.process_time()
        cpu_bare.append(samples / (c1 - c0))
        cpu_ours.append(samples / (c2 - c1))
        line = f"round {r + 1}: bare {bare[-1]:,.0f} samples/s, trainer {ours[-1]:,.0f} samples/s"
        if args.examples:
            examples.append(examples_loop(train, test, args.epochs, device))
            line += f", pytorch/examples {examples[-1]:,.0f}"
        if compiled is not None:
            comp.append(bare_loop(train, test, args.epochs, device, bf16, model=compiled))
            line += f", bare compiled {comp[-1]:,.0f}"
        print(line, flush=True)
    b, t = statistics.median(bare), statistics.median(ours)
    print(f"device {device}, torch threads {torch.get_num_threads()}, precision {args.precision}, "
          f"{dataset.n_train} training images, {args.epochs} epochs x {args.rounds} rounds, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"bare loop: {b:,.0f} samples/s   trainer: {t:,.0f} samples/s   "
          f"ratio trainer/bare: {t / b:.3f}   (target >= 1.0)")
    paired = statistics.median(o / r for o, r in zip(ours, bare))
    print(f"median of the rounds' own ratios: {paired:.3f}")
    cb, co = statistics.median(cpu_bare), statistics.median(cpu_ours)
    print(f"per second of process time (less moved by other work on the machine): bare "
          f"{cb:,.0f}, trainer {co:,.0f} samples   ratio {co / cb:.3f}")
    if args.examples:
        e = statistics.median(examples)
        print(f"pytorch/examples' own loop: {e:,.0f} samples/s   ratio trainer/examples: "
              f"{t / e:.3f}")
    if compiled is not None:
        c = statistics.median(comp)
        print(f"bare loop compiled: {c:,.0f} samples/s   ratio compiled/bare: {c / b:.3f}")


if __name__ == "__main__":
    main()
