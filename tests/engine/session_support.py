"""Tiny runs, jobs and session files shared by the engine tests (no Qt, CPU only)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from engine.config import RunConfig
from engine.control import TrainingControl
from engine.data import load_dataset
from engine.decoding import LatentDecoder
from engine.events import Event
from engine.presets import load_preset
from engine.session import Session, SessionWriter
from engine.trainer import Trainer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

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
    """A preset made tiny; ``a__b=v`` overrides field ``a.b``."""
    over = dict(TINY)
    over["optim.epochs"] = epochs
    over.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_preset(preset).with_overrides(over)


def tiny_pretraining(epochs: int = 1, stages=(16, 8), end_to_end_epochs: int = 0,
                     **overrides) -> RunConfig:
    """The stacked-pretraining preset, tiny: 784-16-8 sigmoid stages of ``epochs`` each."""
    over = {"data.limit": 300, "data.n_probe": 8, "optim.batch_size": 50, "device": "cpu",
            "optim.epochs": epochs, "model.hidden": list(stages[:-1]),
            "model.latent_dim": stages[-1],
            "pretraining": {"kinds": [], "end_to_end_epochs": end_to_end_epochs}}
    over.update({k.replace("__", "."): v for k, v in overrides.items()})
    return load_preset("stacked-pretraining").with_overrides(over)


def dataset_for(config: RunConfig):
    """The data of a config, loaded once per data section and seed (faster tests)."""
    key = (config.data, config.seed)
    if key not in _DATASETS:
        _DATASETS[key] = load_dataset(config.data, config.seed)
    return _DATASETS[key]


def tiny_trainer(config: RunConfig, checkpoint=None, init_weights=None) -> Trainer:
    """A trainer on the cached data set of its config."""
    return Trainer(config, dataset_for(config), checkpoint=checkpoint, init_weights=init_weights)


class StopAfter(TrainingControl):
    """A control that asks the trainer to stop once ``batches`` batches have run."""

    def __init__(self, batches: int):
        super().__init__()
        self.left = batches

    def should_stop(self) -> bool:
        self.left -= 1
        return self.left < 0


class Recorder:
    """A listener that keeps every event."""

    def __init__(self):
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def by_run(self) -> dict[str, list[Event]]:
        """A job's events split at each RunOpened (run id -> its events)."""
        from engine.events import RunOpened
        out: dict[str, list[Event]] = {}
        current = None
        for e in self.events:
            if isinstance(e, RunOpened):
                current = out.setdefault(e.run_id, [])
            elif current is not None:
                current.append(e)
        return out


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


def read_everything(path) -> int:
    """Open a session and read every part of every run; returns the primary's epochs."""
    with Session.open(path) as s:
        for run in s.runs.values():
            _ = run.history, run.epoch_history, run.data, run.config
            for epoch in run.snapshot_epochs:
                run.snapshot(epoch)
                if LatentDecoder.available(run.config):
                    run.decoder(epoch).decode(np.zeros((1, run.config.model.latent_dim)))
            run.checkpoint()
        return s.run().epochs_trained


def histories_equal(a, b, skip=("wall_time",)) -> None:
    """Assert two SessionRuns hold the same step and epoch tables (wall times aside)."""
    assert set(a.history) == set(b.history)
    for k in a.history:
        if k not in skip:
            np.testing.assert_array_equal(a.history[k], b.history[k], err_msg=k)
    np.testing.assert_array_equal(a.epoch_history["epoch"], b.epoch_history["epoch"])
    np.testing.assert_array_equal(a.epoch_history["step"], b.epoch_history["step"])
    for part in ("train", "val"):
        assert list(a.epoch_history[part]) == list(b.epoch_history[part])
        for k in a.epoch_history[part]:
            np.testing.assert_array_equal(a.epoch_history[part][k], b.epoch_history[part][k],
                                          err_msg=f"{part}/{k}")
