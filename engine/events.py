"""What the trainer tells its listeners: small frozen dataclasses.

Events carry Python scalars and numpy arrays, never live tensors, so a
listener on another thread (the GUI) or in a file (the session writer) can
keep them without racing the training loop. Epochs and steps are counted
from 1: ``epoch`` is the epoch being trained (or just finished), ``step``
the number of optimiser steps taken so far in the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union

import numpy as np


@dataclass(frozen=True)
class DatasetInfo:
    """What listeners need to know about the data (arrays are fixed for the run).

    Attributes
    ----------
    probe_images : (P, C, H, W) float32, the images reconstructed every epoch.
    probe_labels : (P,) int64 or None.
    map_labels : (M,) int64 or None, labels of the validation images whose codes
        form the latent map (``EpochSnapshot.map_latents``).
    map_factors : (M, F) float32 or None, their ground-truth factors.
    """

    source: str
    image_shape: tuple[int, int, int]
    n_train: int
    n_val: int
    probe_images: np.ndarray
    probe_labels: np.ndarray | None
    map_labels: np.ndarray | None
    map_factors: np.ndarray | None
    factor_names: tuple[str, ...] = ()
    label_names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RunStarted:
    """Emitted once, before the first step (also when a run resumes)."""

    config_json: str
    device: str
    n_parameters: int
    term_names: tuple[str, ...]
    data: DatasetInfo
    steps_per_epoch: int
    start_epoch: int        # first epoch this call trains (1 for a new run)
    start_step: int         # steps already taken before this call
    total_epochs: int       # last epoch this call will train
    stage: int | None = None


@dataclass(frozen=True)
class StepMetrics:
    """Training loss terms of one logged step (batch means, per image)."""

    epoch: int
    step: int
    batch: int              # 1-based batch index within the epoch
    batches: int            # batches per epoch
    terms: dict[str, float]
    samples_per_sec: float
    wall_time: float        # seconds of training, cumulative over resumes
    stage: int | None = None


@dataclass(frozen=True)
class EpochEnded:
    """Epoch means of every term on the training batches and on the validation set."""

    epoch: int
    step: int
    train: dict[str, float]
    val: dict[str, float]
    wall_time: float
    samples_per_sec: float
    stage: int | None = None


@dataclass(frozen=True)
class EpochSnapshot:
    """Everything needed to replay an epoch, as arrays.

    Attributes
    ----------
    probe_inputs : (P, C, H, W) the encoder inputs (corrupted for denoising).
    probe_recon : (P, C, H, W) mean reconstructions, in [0, 1].
    probe_latent_mean : (P, D) codes (means for a stochastic encoder).
    probe_latent_logvar : (P, D) or None.
    map_latents : (M, D) codes of the latent-map validation images.
    map_latent_logvar : (M, D) or None.
    kl_per_dim : (D,) mean KL per latent dimension on the validation set, or None.
    decoder : parameter name -> array, enough to rebuild the decoder on the CPU.
    """

    epoch: int
    step: int
    probe_inputs: np.ndarray
    probe_recon: np.ndarray
    probe_latent_mean: np.ndarray
    probe_latent_logvar: np.ndarray | None
    map_latents: np.ndarray
    map_latent_logvar: np.ndarray | None
    kl_per_dim: np.ndarray | None
    decoder: dict[str, np.ndarray] = field(default_factory=dict)
    stage: int | None = None


@dataclass(frozen=True)
class Checkpoint:
    """All state needed to resume exactly, as plain arrays (no pickle).

    ``optimizer`` holds the optimiser's tensors by flattened key
    (``state/<param index>/<name>``) and ``optimizer_json`` the rest of its
    state dict (param groups, hyper-parameters). ``rng`` holds generator
    states as uint8 arrays. ``position`` is the batch index within
    ``epoch`` (0 at an epoch boundary) and ``permutation`` that epoch's order.
    ``epoch_sums`` are the running sums of the current epoch's train terms.
    """

    epoch: int
    step: int
    position: int
    wall_time: float
    model: dict[str, np.ndarray]
    optimizer: dict[str, np.ndarray]
    optimizer_json: str
    rng: dict[str, np.ndarray]
    permutation: np.ndarray | None
    epoch_sums: dict[str, float]


@dataclass(frozen=True)
class CheckpointSaved:
    """A new checkpoint is available (at epoch ends and when a run stops)."""

    checkpoint: Checkpoint
    stage: int | None = None


@dataclass(frozen=True)
class RunFinished:
    """The run ended normally: all epochs done (``reason='completed'``) or stopped by the user."""

    epoch: int
    step: int
    reason: str
    final_train: dict[str, float]
    final_val: dict[str, float]
    wall_time: float
    stage: int | None = None


@dataclass(frozen=True)
class RunFailed:
    """The run could not go on. ``message`` says what happened and what to try."""

    message: str
    epoch: int
    step: int
    term: str | None = None
    stage: int | None = None


Event = Union[RunStarted, StepMetrics, EpochEnded, EpochSnapshot, CheckpointSaved,
              RunFinished, RunFailed]
Emit = Callable[[Event], None]
