"""What the trainer and the orchestrators tell their listeners: small frozen dataclasses.

Events carry Python scalars, numpy arrays and the frozen
:class:`~engine.config.RunConfig` — never live tensors — so a listener on
another thread (the GUI) or in a file (the session writer) can keep them
without racing the training loop. Epochs and steps are counted from 1 and
per run: ``epoch`` is the epoch being trained (or just finished), ``step``
the number of optimiser steps taken so far in that run.

One run's events, in order::

    RunStarted  (StepMetrics ... EpochEnded [EpochSnapshot] CheckpointSaved) ...  RunFinished | RunFailed

A job of several runs (a greedy stack, a pretrained-versus-random
comparison) adds only what is its own: ``JobStarted`` once, with the plan of
its runs, then ``RunOpened`` before each run's events; every event after a
``RunOpened`` belongs to that run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Union

import numpy as np

if TYPE_CHECKING:
    from engine.config import RunConfig


@dataclass(frozen=True)
class DatasetInfo:
    """What listeners need to know about the data (arrays are fixed for the run).

    Attributes
    ----------
    probe_images : (P, C, H, W) float32, the images reconstructed every epoch.
    probe_labels : (P,) int64 or None.
    map_labels : (M,) int64 or None, labels of the validation images whose codes
        form the latent map (``EpochSnapshot.arrays["map_latents"]``).
    map_factors : (M, F) float32 or None, their ground-truth factors.
    n_classes : number of label classes, or None without labels.
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
    n_classes: int | None = None


@dataclass(frozen=True)
class RunStarted:
    """Emitted once per training call, before the first step (also when a run resumes)."""

    config: "RunConfig"
    device: str
    n_parameters: int
    term_names: tuple[str, ...]
    data: DatasetInfo
    steps_per_epoch: int
    start_epoch: int        # first epoch this call trains (1 for a new run)
    start_step: int         # steps already taken before this call
    total_epochs: int       # last epoch this call will train


@dataclass(frozen=True)
class StepMetrics:
    """Training terms of one logged step (batch means, per image)."""

    epoch: int
    step: int
    batch: int              # 1-based batch index within the epoch
    batches: int            # batches per epoch
    terms: dict[str, float]
    samples_per_sec: float
    wall_time: float        # seconds of training, cumulative over resumes


@dataclass(frozen=True)
class EpochEnded:
    """Epoch means of every term on the training batches and on the validation set."""

    epoch: int
    step: int
    train: dict[str, float]
    val: dict[str, float]
    wall_time: float
    samples_per_sec: float


@dataclass(frozen=True)
class EpochSnapshot:
    """Everything needed to replay an epoch, as named arrays (the views read them by name).

    Attributes
    ----------
    images : name -> (N, C, H, W) float32 in [0, 1], e.g. ``probe_inputs`` (the
        encoder inputs, corrupted for denoising) and ``probe_recon``.
    arrays : name -> array, e.g. ``probe_latent_mean`` (P, D), ``map_latents``
        (M, D), ``kl_per_dim`` (D,), ``confusion`` (K, K).
    weights : the state of the parts the window runs on the CPU (an
        autoencoder's encoder and decoder), by ``state_dict`` key (``decoder.net.0.weight``).
    weights_epoch : the epoch those weights are from, when not this one: a session keeps
        weights at a bounded set of epochs, and an epoch read back without its own
        carries the nearest earlier kept ones (None: its own, or none).
    preview : the model in the middle of epoch ``epoch``, after step ``step``, shown in
        slow motion (:meth:`~engine.control.TrainingControl.step_once`): for the views,
        never recorded (the epoch's own snapshot follows at its end).
    """

    epoch: int
    step: int
    images: dict[str, np.ndarray] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    weights_epoch: int | None = None
    preview: bool = False


@dataclass(frozen=True)
class Checkpoint:
    """All state needed to resume exactly, as plain arrays (no pickle).

    ``optimizers`` maps each optimiser's name (``model`` for a single one) to
    its tensors by flattened key (``state/<param index>/<name>``) and
    ``optimizer_json`` to the rest of its state dict (param groups,
    hyper-parameters). ``rng`` holds generator states as uint8 arrays.
    ``position`` is the batch index within ``epoch`` (0 at an epoch boundary)
    and ``permutation`` that epoch's order. ``epoch_sums`` are the running
    sums of the current epoch's train terms.
    """

    epoch: int
    step: int
    position: int
    wall_time: float
    model: dict[str, np.ndarray]
    optimizers: dict[str, dict[str, np.ndarray]]
    optimizer_json: dict[str, str]
    rng: dict[str, np.ndarray]
    permutation: np.ndarray | None
    epoch_sums: dict[str, float]


@dataclass(frozen=True)
class CheckpointSaved:
    """A new checkpoint is available (at epoch ends and when a run stops)."""

    checkpoint: Checkpoint


@dataclass(frozen=True)
class RunFinished:
    """The run ended normally: all epochs done (``reason='completed'``) or stopped by the user."""

    epoch: int
    step: int
    reason: str
    final_train: dict[str, float]
    final_val: dict[str, float]
    wall_time: float


@dataclass(frozen=True)
class RunFailed:
    """The run could not go on. ``message`` says what happened and what to try."""

    message: str
    epoch: int
    step: int
    term: str | None = None


@dataclass(frozen=True)
class RunPlan:
    """One run a job will train.

    Attributes
    ----------
    run_id : its name in the session file (``/runs/<run_id>``), e.g. ``stage-2``.
    title : what the user reads, e.g. ``"stage 2 (256→64, denoising)"``.
    role : ``stage``, ``stack`` (the stacked autoencoder, trained end to end for
        the configured epochs), or ``classifier``.
    meta : small facts the views show (stage width, label budget, init, …).
    """

    run_id: str
    title: str
    role: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobStarted:
    """A job of several runs begins (see the module docstring).

    Attributes
    ----------
    job_id : its name in the session file (``/jobs/<job_id>``).
    kind : ``pretrain`` or ``finetune``.
    title : e.g. ``"greedy layer-wise pretraining, 784-256-64"``.
    spec_json : everything needed to run the job again or continue it.
    runs : the plan, in training order.
    """

    job_id: str
    kind: str
    title: str
    spec_json: str
    runs: tuple[RunPlan, ...]


@dataclass(frozen=True)
class RunOpened:
    """The events that follow, until the next ``RunOpened``, belong to this run of the job."""

    job_id: str
    run_id: str


Event = Union[RunStarted, StepMetrics, EpochEnded, EpochSnapshot, CheckpointSaved,
              RunFinished, RunFailed, JobStarted, RunOpened]
Emit = Callable[[Event], None]
