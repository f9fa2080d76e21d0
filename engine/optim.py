"""The optimiser a config names."""

from __future__ import annotations

from typing import Iterable

import torch

from engine.config import OptimConfig


def make_optimizer(params: Iterable[torch.nn.Parameter], cfg: OptimConfig) -> torch.optim.Optimizer:
    """Adam, AdamW, SGD (with momentum) or RMSprop with the config's lr and weight decay.

    Adam, AdamW and SGD use torch's fused implementation (one kernel per
    parameter tensor) where the installed torch has it for the device: on the
    CPU Adam's step takes a third of the time of the default per-tensor loop
    (270 vs 790 us for the 784-400-20 VAE), which made the trainer faster
    than a bare hand-written loop (benchmarks/bench_trainer_throughput.py).
    The update is the same algorithm; results differ by float rounding only.
    """
    params = list(params)
    if cfg.optimizer == "adam":
        return _fused_if_possible(torch.optim.Adam, params, lr=cfg.lr,
                                  weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return _fused_if_possible(torch.optim.AdamW, params, lr=cfg.lr,
                                  weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return _fused_if_possible(torch.optim.SGD, params, lr=cfg.lr, momentum=cfg.momentum,
                                  weight_decay=cfg.weight_decay)
    return torch.optim.RMSprop(params, lr=cfg.lr, momentum=cfg.momentum,
                               weight_decay=cfg.weight_decay)


def _fused_if_possible(cls, params: list[torch.nn.Parameter], **options) -> torch.optim.Optimizer:
    """``cls(params, fused=True, ...)``, or the default implementation where torch has no fused one.

    Torch before 2.4 has no fused optimisers on the CPU, and none for some
    devices; it says so when the optimiser is made.
    """
    if params:
        try:
            return cls(params, fused=True, **options)
        except (RuntimeError, TypeError, ValueError):
            pass
    return cls(params, **options)
