"""Tiny runs and session files shared by the session tests (no Qt, CPU only)."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from engine.config import RunConfig
from engine.data import load_dataset
from engine.events import Event
from engine.presets import load_preset
from engine.session import SessionWriter
from engine.trainer import Trainer

# A few hundred MNIST digits and a small MLP: an epoch takes tens of milliseconds.
TINY = {"data.limit": 300, "data.n_probe": 16, "model.hidden": [32], "optim.batch_size": 64,
        "device": "cpu"}

_DATASETS = {}


@contextmanager
def single_torch_thread():
    """One torch thread: these tiny models gain nothing from two, and on a shared
    machine two threads waiting on each other make every op many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def tiny_config(preset: str = "variational", epochs: int = 2, **overrides) -> RunConfig:
    over = dict(TINY)
    over["optim.epochs"] = epochs
    over.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_preset(preset).with_overrides(over)


def tiny_trainer(config: RunConfig, checkpoint=None) -> Trainer:
    """A trainer whose dataset is loaded once per config data section (faster tests)."""
    key = (config.data.limit, config.data.n_probe, config.seed, config.data.source)
    if key not in _DATASETS:
        _DATASETS[key] = load_dataset(config.data, config.seed)
    return Trainer(config, _DATASETS[key], checkpoint=checkpoint)


class Recorder:
    """A listener that keeps every event."""

    def __init__(self):
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]


def fan_out(*listeners):
    def emit(event):
        for listener in listeners:
            listener(event)
    return emit


def record_run(path, config: RunConfig, **writer_options) -> tuple[Trainer, Recorder]:
    """Train ``config`` into a new session at ``path``; returns the trainer and its events."""
    trainer = tiny_trainer(config)
    rec = Recorder()
    with SessionWriter(path, **writer_options) as writer:
        trainer.run(fan_out(rec, writer))
    return trainer, rec


def model_arrays(trainer: Trainer) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in trainer.model.state_dict().items()}
