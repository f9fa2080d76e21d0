"""Events of pretraining and classifier fine-tuning: small frozen dataclasses.

Like :mod:`engine.events` they carry Python scalars and numpy arrays only,
never live tensors, so a GUI thread or a file writer can keep them. Every
event has a ``stage`` field, as the trainer's do.

Pretraining, in order::

    PretrainStarted
    StageStarted(stage=1)  RunStarted ... EpochSnapshot StackReconstruction ... RunFinished
                           (the trainer's own events, re-tagged with stage=1)
    StageCompleted(stage=1)
    StageStarted(stage=2)  ...                       StageCompleted(stage=2)
    [StageStarted(stage=n+1, role="finetune") ...    StageCompleted(stage=n+1)]
    PretrainFinished

Classifier comparison, for each label budget and for each initialisation
(``"pretrained"``, then ``"random"``)::

    ClassifierStarted  ClassifierEpoch ...  ClassifierFinished
    ... then once: ComparisonTable
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union

import numpy as np

#: ``StageStarted.role`` of a greedy stage and of the end-to-end pass.
LAYER, FINETUNE = "layer", "finetune"


@dataclass(frozen=True)
class PretrainStarted:
    """Emitted once, before stage 1.

    Attributes
    ----------
    widths : code size of each stage.
    kinds : the kind of each stage (``"denoising"``, ``"shared"``, ...).
    image_shape : (C, H, W) of the input images.
    finetune_epochs : 0 when no end-to-end pass follows the stages.
    config_json : the whole run, a RunConfig with a ``pretraining`` section.
    """

    widths: tuple[int, ...]
    kinds: tuple[str, ...]
    code_activation: str
    image_shape: tuple[int, int, int]
    stage_epochs: int
    finetune_epochs: int
    config_json: str
    stage: int | None = None


@dataclass(frozen=True)
class StageStarted:
    """A stage begins; the trainer's ``RunStarted`` with the same ``stage`` follows.

    Attributes
    ----------
    stage : 1..n for the greedy stages, n + 1 for the end-to-end pass.
    role : ``"layer"`` or ``"finetune"``.
    input_dim : size of the stage's input (pixels for stage 1, else the
        previous stage's width).
    width : the stage's code size (the stacked code size for ``finetune``).
    kind : e.g. ``"denoising"``; ``likelihood`` how it reconstructs its input.
    config_json : the stage's own RunConfig.
    step_offset, epoch_offset : optimiser steps and epochs of the stages
        before this one. Each stage's trainer counts its own steps and epochs
        from 1; add these to lay the stages out one after another on one axis.
    """

    stage: int
    n_stages: int
    role: str
    input_dim: int
    width: int
    kind: str
    likelihood: str
    epochs: int
    config_json: str
    step_offset: int = 0
    epoch_offset: int = 0


@dataclass(frozen=True)
class StackReconstruction:
    """The probe images through the whole stack so far, after a stage's epoch.

    Follows each ``EpochSnapshot`` of a greedy stage: encode with stages
    1..k, then decode with stage k's decoder, k-1's, ... 1's.

    Attributes
    ----------
    probe_recon : (P, C, H, W) float32 in [0, 1], same probe images as the
        trainer's ``DatasetInfo.probe_images`` of stage 1.
    """

    stage: int
    epoch: int
    probe_recon: np.ndarray


@dataclass(frozen=True)
class StageCompleted:
    """A stage ended.

    Attributes
    ----------
    outcome : ``"completed"``, ``"stopped"`` or ``"failed"``.
    encoder : the stage encoder's parameters by name (the ``layer`` role:
        ``body.head.weight`` (width, input_dim), ``body.head.bias`` (width,)).
    features : (width, C, H, W) float32 for stage 1 only: each unit's input
        weights as an image (the first-layer feature grid); None otherwise.
    history : epoch-mean curves, ``"train/<term>"`` and ``"val/<term>"`` ->
        (epochs,) float64, plus ``"epoch"``.
    """

    stage: int
    role: str
    outcome: str
    encoder: dict[str, np.ndarray] = field(default_factory=dict)
    features: np.ndarray | None = None
    history: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class PretrainFinished:
    """The whole pretraining run ended.

    Attributes
    ----------
    stacked : the stacked autoencoder's parameters by name (fine-tuned when
        asked); empty when a stage did not complete.
    features : (units, C, H, W) float32, the stacked encoder's first-layer
        features (after fine-tuning, if any), or None.
    """

    outcome: str
    stages_completed: int
    stacked: dict[str, np.ndarray] = field(default_factory=dict)
    features: np.ndarray | None = None
    stage: int | None = None


@dataclass(frozen=True)
class ClassifierStarted:
    """One classifier run begins.

    Attributes
    ----------
    init : ``"pretrained"`` or ``"random"``.
    budget : number of labelled training images.
    frozen : True for a linear probe (encoder frozen).
    """

    init: str
    budget: int
    frozen: bool
    n_train: int
    n_val: int
    n_classes: int
    epochs: int
    label_names: tuple[str, ...] | None = None
    stage: int | None = None


@dataclass(frozen=True)
class ClassifierEpoch:
    """Cross-entropy (nats per image) and accuracy (0..1) after an epoch.

    ``train_*`` are measured on the labelled subset after the epoch (not
    averaged over its batches), so train and validation compare directly.
    """

    init: str
    budget: int
    epoch: int
    epochs: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    wall_time: float
    stage: int | None = None


@dataclass(frozen=True)
class ClassifierFinished:
    """A classifier run ended.

    Attributes
    ----------
    confusion : (K, K) int64, rows are true classes, columns predictions, on
        the validation set.
    outcome : ``"completed"``, ``"stopped"`` or ``"failed"`` (then ``message`` says why).
    """

    init: str
    budget: int
    outcome: str
    epoch: int
    val_loss: float
    val_accuracy: float
    confusion: np.ndarray
    message: str = ""
    stage: int | None = None


@dataclass(frozen=True)
class ComparisonTable:
    """Validation accuracy and cross-entropy of pretrained vs random initialisation.

    Arrays are (R,), one row per label budget, in the order asked; NaN where a
    run did not finish.
    """

    budgets: np.ndarray
    pretrained_accuracy: np.ndarray
    random_accuracy: np.ndarray
    pretrained_loss: np.ndarray
    random_loss: np.ndarray
    frozen: bool
    epochs: int
    stage: int | None = None


PretrainEvent = Union[PretrainStarted, StageStarted, StackReconstruction, StageCompleted,
                      PretrainFinished]
ClassifierEvent = Union[ClassifierStarted, ClassifierEpoch, ClassifierFinished, ComparisonTable]
ClassifierEmit = Callable[[ClassifierEvent], None]
