"""``info`` for pretraining runs and for the fine-tuning comparison a file may hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.errors import SessionError
from engine.pretraining.reader import PretrainingFile
from engine.pretraining.results import read_comparison_h5
from engine.session.reader import open_h5_for_reading


def pretraining_lines(p: PretrainingFile) -> list[str]:
    """Stages, their kinds and final validation loss, and the stacked encoder."""
    cfg = p.config
    sizes = " -> ".join(str(s) for s in
                        ((int(np.prod(p.image_shape)),) if p.image_shape else ()) + cfg.widths)
    lines = [f"{p.path.name}: Autoencoder Studio greedy layer-wise pretraining run ({p.status})",
             f"stack:     {sizes} ({cfg.code_activation} codes), {cfg.stage_epochs} epochs "
             f"per stage, {cfg.finetune_epochs} end-to-end",
             "stages:"]
    for s in p.stages:
        val = {k[4:]: v for k, v in s.epochs.items() if k.startswith("val/")}
        done = len(s.epochs.get("epoch", []))
        recon = val.get("recon")
        last = f"val recon {recon[-1]:.4g}" if recon is not None and len(recon) else "no epochs"
        lines.append(f"  {s.stage}  {s.role:<11} {s.kind:<22} {done} epochs  {last}  "
                     f"({s.outcome})")
    ready = "ready" if p.stacked_model else "missing (the run did not finish)"
    lines.append(f"stacked:   encoder {ready}; next: python main.py finetune {p.path.name}")
    return lines


def comparison_lines(path: Path) -> list[str]:
    """The pretrained-vs-random table stored under ``/finetune``, or nothing."""
    try:
        with open_h5_for_reading(path) as f:
            if "finetune" not in f:
                return []
        c = read_comparison_h5(path)
    except (OSError, SessionError):
        return []
    t = c["table"]
    mode = "linear probe" if c.get("frozen") else "fine-tuning everything"
    lines = [f"fine-tuning comparison ({mode}, {c.get('epochs')} epochs), validation accuracy:",
             f"  {'labels':>12}  {'pretrained':>10}  {'random':>8}"]
    for name, size, pre, rnd in zip(c["budget_names"], t["budgets"], t["pretrained_accuracy"],
                                    t["random_accuracy"]):
        label = f"{name} ({int(size)})" if str(name) == "all" else str(name)
        lines.append(f"  {label:>12}  {100 * pre:>9.1f}%  {100 * rnd:>7.1f}%")
    return lines
