"""``export --script run.py``: a run as a standalone, readable PyTorch script ("export as code").

The script rebuilds the run's autoencoder and objective from its config in
plain ``torch`` — only the parts this config uses: its encoder and decoder
layers, its likelihood, its regularisers, its corruption, its optimiser —
and trains it. The images it trains on (the run's training and validation
split, in the app's order) go beside it as ``<name>_data.pt``, a plain
tensor file (``torch.load(..., weights_only=True)``), so the script needs
neither this app nor its data loaders.

Run with the same seed on the CPU, the script makes the same random draws
in the same order as the app's trainer (initial weights, the epoch's
shuffle, noise and reparameterisation), so its first epoch reproduces the
session's first-epoch losses; it prints the largest difference at the end.
The session's numbers are written into the script for that.
"""

from __future__ import annotations

import inspect
import pprint
from pathlib import Path

import numpy as np
import torch

from engine.config import RunConfig
from engine.data import load_dataset
from engine import random_streams
from engine.errors import StudioError
from engine.models import family_class
from engine.session.runs import SessionRun
from engine.session.schema import fail
from engine.export.script_parts import (corruption_code, likelihood_code, loss_code,
                                          model_code)

def data_path(script: Path) -> Path:
    """The images file that goes beside ``script``: ``run.py`` -> ``run_data.pt``."""
    return script.with_name(f"{script.stem}_data.pt")


def check_script(run: SessionRun, path: str | Path, force: bool = False) -> None:
    """Raise what :func:`export_script` would refuse before reading the data or writing."""
    path = Path(path)
    cfg = run.config
    if not family_class(cfg).traits(cfg).scriptable:
        raise fail(run.path, f"run '{run.run_id}' is a {cfg.model.family}: --script writes "
                             "autoencoder runs only")
    if run.role != "run":
        raise fail(run.path, f"run '{run.run_id}' is a {run.role} of a job: it trains on "
                             "codes or starts from other runs' weights, which a standalone "
                             "script cannot rebuild; export a plain run (python main.py train)")
    targets = [path, data_path(path)]
    for t in targets:
        if t.exists() and not force:
            raise fail(t, "already exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise fail(path, f"cannot write here: the folder {path.parent} does not exist")


def export_script(run: SessionRun, path: str | Path, force: bool = False) -> list[Path]:
    """Write the script and its images file; returns both paths.

    Raises
    ------
    SessionError
        A run this exporter cannot express (another family, a greedy stage on
        codes, a stack or classifier started from other weights), data that
        no longer loads or differs from the session's, or files that exist.
    """
    path = Path(path)
    check_script(run, path, force)
    cfg = run.config
    targets = [path, data_path(path)]
    train, val = _images(run)
    eh = run.epoch_history
    first = {}
    if len(eh["epoch"]) and int(eh["epoch"][0]) == 1:
        first = {part: {t: float(v[0]) for t, v in eh[part].items()} for part in ("train", "val")}
    try:
        torch.save({"train": train, "val": val, "image_shape": list(run.data.image_shape)},
                   targets[1])
        path.write_text(script_text(cfg, run, first, targets[1].name, path.name),
                        encoding="utf-8")
    except OSError as e:
        raise fail(path, f"cannot write the script: {e.strerror or e}") from None
    return targets


def _images(run: SessionRun) -> tuple[torch.Tensor, torch.Tensor]:
    """The run's training and validation images, exactly as its trainer held them.

    uint8 when the float32 images are exactly k/255 (the script divides by 255),
    else float32.
    """
    cfg = run.config
    try:
        ds = load_dataset(cfg.data, cfg.seed)
    except StudioError as e:
        raise fail(run.path, f"the run's data cannot be loaded to write it beside the "
                             f"script: {e}") from None
    if not np.array_equal(ds.images[ds.probe_idx], run.data.probe_images):
        raise fail(run.path, f"the data ({ds.source}) is not the data this run was trained "
                             "on: it changed since the session was written")
    out = []
    for idx in (ds.train_idx, ds.val_idx):
        # Rows of an array, or read from the files of a streamed set (a .npy, a folder).
        x = torch.from_numpy(np.ascontiguousarray(ds.images[np.asarray(idx, np.int64)]))
        u8 = torch.round(x * 255).clamp(0, 255).to(torch.uint8)
        out.append(u8 if torch.equal(u8.float() / 255, x) else x.clone())
    return out[0], out[1]


# -- the script ---------------------------------------------------------------------------------

def script_text(cfg: RunConfig, run: SessionRun, first: dict, data_name: str,
                script_name: str = "run.py") -> str:
    """The whole script for ``cfg`` (see the module docstring)."""
    m, o, opt = cfg.model, cfg.objective, cfg.optim
    c, h, w = run.data.image_shape
    per_channel = o.levels if o.likelihood == "categorical" else 1
    config_literal = pprint.pformat(cfg.to_dict(), sort_dicts=False, width=92)
    first_literal = pprint.pformat(first, sort_dicts=False, width=92)
    header = f'''\
#!/usr/bin/env python3
"""{cfg.name}: a {cfg.kind_label()} autoencoder, exported from Autoencoder Studio.

Session {run.path.name}, run '{run.run_id}'. This file needs only PyTorch: it
rebuilds the run's model and objective and trains it on the images in
{data_name} (the run's training and validation split, kept beside it).

    python {script_name} [--epochs N] [--device cpu|cuda] [--seed S]

On the CPU with the run's seed (the default) it makes the same random draws in
the same order as the app (initial weights, shuffling, noise), so its first
epoch reproduces the session's first-epoch losses, and it says so at the end.
"""

import argparse
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# The session's run config, for reference (the constants below come from it).
CONFIG = {config_literal}

SEED = {cfg.seed}
EPOCHS = {opt.epochs}
BATCH_SIZE = {opt.batch_size}
IMAGE_SHAPE = ({c}, {h}, {w})            # channels, height, width
LATENT_DIM = {m.latent_dim}
EVAL_BATCH = 500
DATA_FILE = Path(__file__).with_name({data_name!r})

# The session's epoch-1 means (training batches and validation set), to check against.
SESSION_FIRST_EPOCH = {first_literal}
'''
    parts = [header, _streams_code(), model_code(cfg, (c, h, w), per_channel),
             likelihood_code(o), corruption_code(o), loss_code(cfg), _training_code(cfg)]
    return "\n\n\n".join(p.strip("\n") for p in parts) + "\n"


def _streams_code() -> str:
    """The app's seed derivation (engine/random_streams.py), copied: the same draws."""
    rs = random_streams
    return (f"# -- random numbers: the epoch's order from (seed, epoch), a step's noise from "
            f"(seed, step)\n\n_MASK = (1 << 64) - 1\nORDER, NOISE = {rs.ORDER:#x}, "
            f"{rs.NOISE:#x}\n\n\n{inspect.getsource(rs._splitmix64)}\n\n"
            f"{inspect.getsource(rs.stream_seed)}")


def _training_code(cfg: RunConfig) -> str:
    opt = cfg.optim
    if opt.optimizer in ("adam", "adamw"):
        name = "Adam" if opt.optimizer == "adam" else "AdamW"
        make = f"torch.optim.{name}(params, lr={opt.lr!r}, weight_decay={opt.weight_decay!r})"
    else:
        name = "SGD" if opt.optimizer == "sgd" else "RMSprop"
        make = (f"torch.optim.{name}(params, lr={opt.lr!r}, momentum={opt.momentum!r}, "
                f"weight_decay={opt.weight_decay!r})")
    grad = "torch.enable_grad()" if cfg.objective.contractive > 0 else "torch.no_grad()"
    if opt.grad_clip is not None:
        step = f'''\
            clipped = [p for p in params if p.grad is not None]
            norm = torch.nn.utils.get_total_norm([p.grad for p in clipped])
            values = torch.stack([t.detach() for t in terms.values()] + [norm]).tolist()
            if not all(math.isfinite(v) for v in values):
                raise SystemExit(f"diverged at step {{step + 1}}: a term or the gradient is not finite")
            torch.nn.utils.clip_grads_with_norm_(clipped, {opt.grad_clip!r}, norm)
            values = values[:-1]'''
    else:
        step = '''\
            values = torch.stack([t.detach() for t in terms.values()]).tolist()
            if not all(math.isfinite(v) for v in values):
                raise SystemExit(f"diverged at step {step + 1}: a term is not finite")'''
    return f'''\
# -- training

def evaluate(encoder, decoder, images, epoch, seed, device):
    """Mean of every term over the validation images (their own seeded noise)."""
    generator = torch.Generator(device=device)
    generator.manual_seed((seed * 1_000_003 + epoch) % (2**63))
    sums, n = {{}}, 0
    with {grad}:
        for i in range(0, images.shape[0], EVAL_BATCH):
            x = images[i:i + EVAL_BATCH]
            for name, value in loss_terms(encoder, decoder, x, generator,
                                          create_graph=False).items():
                sums[name] = sums.get(name, 0.0) + float(value.detach()) * len(x)
            n += len(x)
    return {{name: s / n for name, s in sums.items()}} if n else {{}}


def load_images(device):
    data = torch.load(DATA_FILE, weights_only=True)
    out = []
    for part in ("train", "val"):
        x = data[part]
        out.append((x.float() / 255 if x.dtype == torch.uint8 else x.float()).to(device))
    return out


def words(terms):
    return " ".join(f"{{name}} {{value:.9g}}" for name, value in terms.items())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    train_images, val_images = load_images(device)

    torch.manual_seed(args.seed)                 # the initial weights
    encoder, decoder = Encoder(), Decoder()      # (the encoder draws first)
    encoder.to(device)
    decoder.to(device)
    params = [*decoder.parameters(), *encoder.parameters()]
    optimizer = {make}
    order_generator = torch.Generator()           # each epoch's order, drawn on the CPU
    generator = torch.Generator(device=device)    # each step's noise, reparameterisation

    n = train_images.shape[0]
    batches = math.ceil(n / BATCH_SIZE)
    step, first = 0, {{}}
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        order_generator.manual_seed(stream_seed(args.seed, ORDER, epoch))
        order = torch.randperm(n, generator=order_generator).to(device)
        sums, count = {{}}, 0
        for b in range(batches):
            x = train_images[order[b * BATCH_SIZE:(b + 1) * BATCH_SIZE]]
            generator.manual_seed(stream_seed(args.seed, NOISE, step))
            terms = loss_terms(encoder, decoder, x, generator)
            optimizer.zero_grad(set_to_none=True)
            terms["total"].backward()
{step}
            optimizer.step()
            step += 1
            for name, value in zip(terms, values):
                sums[name] = sums.get(name, 0.0) + value * len(x)
            count += len(x)
        train = {{name: s / count for name, s in sums.items()}}
        val = evaluate(encoder, decoder, val_images, epoch, args.seed, device)
        if epoch == 1:
            first = {{"train": train, "val": val}}
        print(f"epoch {{epoch}}/{{args.epochs}}  train {{words(train)}} | val {{words(val)}}  "
              f"({{n / (time.perf_counter() - t0):,.0f}} samples/s)", flush=True)
    if SESSION_FIRST_EPOCH and first:
        diffs = [abs(first[part][k] - v) / max(abs(v), 1e-12)
                 for part, terms in SESSION_FIRST_EPOCH.items() for k, v in terms.items()
                 if k in first[part]]
        print(f"first epoch against the session: largest relative difference "
              f"{{max(diffs):.2g}}")


if __name__ == "__main__":
    main()
'''
