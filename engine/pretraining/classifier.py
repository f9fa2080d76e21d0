"""The classifier that replaces a decoder: an encoder plus one linear layer on the code.

"After the autoencoder is trained, the decoder part is removed and replaced
with, for example, a classification layer" (lecture notes). A
:class:`Classifier` holds a *copy* of a trained encoder, so training it
never changes the autoencoder it came from, and a new ``head`` mapping the
code to class logits. For a variational encoder the head reads the mean of
q(z|x): the deterministic part, the same for every pass.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from engine.config import OPTIMIZERS, OptimConfig
from engine.errors import ConfigError
from engine.models import Autoencoder, Encoder


class Classifier(nn.Module):
    """x (B, C, H, W) -> encoder code h (B, D) -> head -> logits (B, K).

    Parameters
    ----------
    encoder : used as it is (not copied); see :meth:`from_autoencoder`.
    n_classes : K, the head's output size.
    """

    def __init__(self, encoder: Encoder, n_classes: int):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.latent_dim, n_classes)

    @classmethod
    def from_autoencoder(cls, model: Autoencoder | Encoder, n_classes: int) -> "Classifier":
        """Drop the decoder: a copy of ``model``'s encoder with a fresh head."""
        encoder = model.encoder if isinstance(model, Autoencoder) else model
        return cls(copy.deepcopy(encoder), n_classes)

    @property
    def n_classes(self) -> int:
        return self.head.out_features

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x, sample=False).h)

    def freeze_encoder(self) -> None:
        """Make the encoder constant: a linear probe trains only the head."""
        for p in self.encoder.parameters():
            p.requires_grad_(False)


def randomised_copy(encoder: Encoder, seed: int) -> Encoder:
    """The same encoder architecture with fresh random weights (PyTorch's default init).

    The baseline of the comparison: identical layers, only the starting
    weights differ. Seeded, and leaves the global RNG untouched.
    """
    fresh = copy.deepcopy(encoder)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for m in fresh.modules():
            if m is not fresh and hasattr(m, "reset_parameters"):
                m.reset_parameters()
    return fresh


# -- metrics ---------------------------------------------------------------------

def accuracy(logits: Tensor | np.ndarray, labels: Tensor | np.ndarray) -> float:
    """Share of rows whose arg-max equals the label.

    Parameters
    ----------
    logits : (B, K) scores (or (B,) predicted classes).
    labels : (B,) int.

    Returns
    -------
    float in [0, 1]; NaN for an empty batch.
    """
    pred = np.asarray(torch.as_tensor(logits).detach().cpu())
    pred = pred.argmax(1) if pred.ndim == 2 else pred
    labels = np.asarray(torch.as_tensor(labels).cpu())
    return float(np.mean(pred == labels)) if len(labels) else float("nan")


def confusion_matrix(pred: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (K, K) int64: row = true class, column = predicted class."""
    cm = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(cm, (np.asarray(labels, np.int64), np.asarray(pred, np.int64)), 1)
    return cm


# -- settings --------------------------------------------------------------------

@dataclass
class ClassifierConfig:
    """How a classifier is trained; pretrained and random runs share one.

    Attributes
    ----------
    epochs : passes over the labelled subset.
    batch_size : capped at the subset size, so a budget of 100 still takes
        several steps per epoch with the default 32.
    freeze : True trains only the head (linear probe); False fine-tunes all.
    seed : drives the labelled subset, the head's initial weights, the
        random encoder of the baseline and the batch order.
    """

    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    freeze: bool = False
    seed: int = 0
    device: str = "auto"

    def validate(self) -> "ClassifierConfig":
        def bad(name: str, allowed: str, v: Any) -> ConfigError:
            return ConfigError(f"{name} must be {allowed} (got {v!r})")

        def is_int(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        if not (is_int(self.epochs) and 1 <= self.epochs <= 100_000):
            raise bad("epochs", "an integer from 1 to 100000", self.epochs)
        if not (is_int(self.batch_size) and 1 <= self.batch_size <= 65536):
            raise bad("batch_size", "an integer from 1 to 65536", self.batch_size)
        if not (isinstance(self.lr, (int, float)) and 0 < self.lr <= 10):
            raise bad("lr", "a number > 0 and <= 10", self.lr)
        if self.optimizer not in OPTIMIZERS:
            raise bad("optimizer", "one of " + ", ".join(OPTIMIZERS), self.optimizer)
        if not (isinstance(self.weight_decay, (int, float)) and 0 <= self.weight_decay <= 1):
            raise bad("weight_decay", "a number from 0 to 1", self.weight_decay)
        if not isinstance(self.freeze, bool):
            raise bad("freeze", "true or false", self.freeze)
        if not (is_int(self.seed) and self.seed >= 0):
            raise bad("seed", "an integer >= 0", self.seed)
        return self

    def optim_config(self) -> OptimConfig:
        return OptimConfig(optimizer=self.optimizer, lr=float(self.lr),
                           batch_size=self.batch_size, epochs=self.epochs,
                           weight_decay=float(self.weight_decay))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ClassifierConfig":
        allowed = {f.name for f in fields(cls)}
        for key in d:
            if key not in allowed:
                raise ConfigError(f"unknown classifier field '{key}'; allowed: "
                                  + ", ".join(sorted(allowed)))
        return cls(**d).validate()
