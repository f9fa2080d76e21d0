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


def modes_covered(points: np.ndarray, source: str, noise: float | None) -> tuple[int, float]:
    """(modes with at least 2% of the points within 3 noise std of them, fraction of points
    near any mode) for the 8 Gaussians."""
    from engine.data.toy2d import DEFAULT_NOISE, _PLACEMENT, to_data_space
    if source != "gaussians":
        raise ValueError(f"modes are counted on the 8 Gaussians (data.source gaussians), "
                         f"not on {source!r}")
    angle = 2 * np.pi * np.arange(8) / 8
    centres = to_data_space(source, np.stack([np.cos(angle), np.sin(angle)], 1))
    radius = 3 * (DEFAULT_NOISE[source] if noise is None else noise) / _PLACEMENT[source][2]
    d = np.linalg.norm(points[:, None, :] - centres[None], axis=2)
    near = d.min(1) < radius
    counts = np.bincount(d.argmin(1)[near], minlength=8)
    return int((counts >= 0.02 * len(points)).sum()), float(near.mean())


def chance_near(source: str, noise: float | None) -> float:
    """The fraction of data space within 3 noise std of a mode: what points spread
    uniformly over the square would score (a 200 x 200 grid of them)."""
    g = (np.arange(200) + 0.5) / 200
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    return modes_covered(grid, source, noise)[1]
