"""What the claims read of a trained run: its last snapshot, its history, its final model.

Most claims read the arrays of the run's last snapshot — the numbers the
lesson's views draw (``identity_error``, ``jacobian_frobenius``,
``map_latents``; :mod:`engine.analysis` computes them) — so the printed
claim and the views agree. Where no snapshot array holds the number (the
error on corrupted digits, bits per pixel), the run's final model is rebuilt
from its last checkpoint and measured on the run's own validation images
(the split its seed made, never trained on). Kept apart from the claims so
each claim reads as its sentence (:mod:`engine.lessons.claims`).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from engine.checkpoint import load_module_arrays
from engine.config import RunConfig
from engine.data import load_dataset
from engine.models import build_model
from engine.session import SessionRun
from engine.session.schema import fail

#: Validation images a measurement on the final model uses (fewer when the split has fewer).
MEASURE_IMAGES = 500


def final_model(run: SessionRun):
    """The run's model with the weights of its last checkpoint, on the CPU, in eval mode.

    Raises
    ------
    SessionError
        When the run saved no checkpoint.
    """
    ck = run.checkpoint()
    if ck is None:
        raise fail(run.path, f"run '{run.run_id}' saved no weights to measure")
    cfg = run.config.with_overrides({"device": "cpu"})
    with torch.random.fork_rng(devices=[]):
        model = build_model(cfg, tuple(run.data.image_shape), run.data.n_classes)
    load_module_arrays(model, ck.model)
    return model.eval()


@lru_cache(maxsize=4)
def _images(config_json: str) -> tuple[np.ndarray, np.ndarray]:
    cfg = RunConfig.from_json(config_json)
    ds = load_dataset(cfg.data, cfg.seed)
    idx = ds.val_idx if len(ds.val_idx) else ds.train_idx
    idx = np.asarray(idx[:MEASURE_IMAGES])
    return np.ascontiguousarray(ds.images[idx], np.float32), (
        np.zeros(len(idx), np.int64) if ds.labels is None else ds.labels[idx])


def held_out_images(run: SessionRun) -> torch.Tensor:
    """(N, C, H, W) validation images of the run's own split (N <= MEASURE_IMAGES)."""
    d = run.config.data
    cfg = RunConfig(data=d, seed=run.config.seed)  # the data and split alone key the cache
    return torch.from_numpy(_images(cfg.to_json())[0])


@torch.no_grad()
def reconstruction_error(model, x: torch.Tensor) -> float:
    """Mean squared error per pixel (values in [0, 1]) of the mean reconstruction of ``x``."""
    return float((model.reconstruct(x) - x).pow(2).mean())


def last_snapshot(run: SessionRun):
    """The snapshot of the run's last saved epoch (the views' arrays: identity_error,
    probe_error, jacobian_frobenius, map_latents, ...).

    Raises
    ------
    SessionError
        When the run saved no snapshot, or its last one lacks an array the claims read
        (a session from before those arrays existed).
    """
    if not run.snapshot_epochs:
        raise fail(run.path, f"run '{run.run_id}' saved no snapshot to measure")
    return run.snapshot(run.snapshot_epochs[-1])


def snapshot_array(run: SessionRun, name: str) -> np.ndarray:
    """One array of the last snapshot, as float64; SessionError naming it when absent."""
    arrays = last_snapshot(run).arrays
    if name not in arrays:
        raise fail(run.path, f"run '{run.run_id}' has no '{name}' in its snapshots (it was "
                             "recorded by an earlier version): run the lesson again (--again)")
    return np.asarray(arrays[name], np.float64)


def last_val(run: SessionRun, term: str) -> float:
    """The last epoch's validation mean of a term (NaN when absent)."""
    v = run.epoch_history.get("val", {}).get(term)
    return float(v[-1]) if v is not None and len(v) else float("nan")


def first_val(run: SessionRun, term: str) -> float:
    v = run.epoch_history.get("val", {}).get(term)
    return float(v[0]) if v is not None and len(v) else float("nan")


def finite(*values: float) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
