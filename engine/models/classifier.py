"""The classifier family: an autoencoder's encoder with a linear layer on its code.

"After the autoencoder is trained, the decoder part is removed and replaced
with, for example, a classification layer" (lecture notes). The encoder has
the architecture of ``config.model`` (the autoencoder it comes from); a
pretrained run loads that autoencoder's encoder weights before training
(``Trainer(init_weights=...)``), a random one keeps PyTorch's initialisation
of the same layers. For a variational encoder the head reads the mean of
q(z|x): the deterministic part, the same for every pass.

Terms: ``total`` (cross-entropy, nats per image) and ``accuracy`` (0..1).
Each epoch's snapshot holds the validation ``confusion`` matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.data.labels import labelled_subset, resolve_budget
from engine.errors import DataError
from engine.models.autoencoder import Encoder, code_words
from engine.models.base import Batch, Model, ModelTraits
from engine.models.registry import register

if TYPE_CHECKING:
    from engine.config import RunConfig


@register
class Classifier(Model):
    """x (B, C, H, W) -> encoder code h (B, D) -> head -> logits (B, K).

    Parameters
    ----------
    encoder : the encoder (its weights are loaded separately for a pretrained run).
    n_classes : K, the head's output size.
    freeze : train only the head (a linear probe of the code).
    """

    family = "classifier"
    needs_labels = True

    def __init__(self, encoder: Encoder, n_classes: int, freeze: bool = False):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.latent_dim, n_classes)
        self.frozen = freeze
        if freeze:
            for p in self.encoder.parameters():
                p.requires_grad_(False)

    @classmethod
    def from_config(cls, config: "RunConfig", image_shape, n_classes=None) -> "Classifier":
        if not n_classes:
            source = config.data.path if config.data.source == "file" else config.data.source
            raise DataError(f"{source}: the images have no labels, so no classifier can be "
                            "trained. Choose a data set with labels")
        freeze = config.classifier.freeze if config.classifier is not None else False
        return cls(Encoder.from_config(image_shape, config.model), int(n_classes), freeze)

    @classmethod
    def traits(cls, config) -> ModelTraits:
        return ModelTraits(
            encoder=True, likelihood="none: a classifier models p(label | x), not p(x)",
            code=code_words(config.model),
            missing={"reconstructions": "A classifier has no decoder: its encoder's code goes "
                                        "to a linear layer over the classes."})

    @classmethod
    def describe(cls, config) -> str:
        return f"{super().describe(config)}, linear head on the code"

    @classmethod
    def training_indices(cls, config: "RunConfig", dataset) -> np.ndarray:
        """The labelled subset: ``classifier.labels`` images, class-balanced, seeded."""
        labels = config.classifier.labels if config.classifier is not None else None
        if labels is None:
            return dataset.train_idx
        resolve_budget(labels, dataset.n_train)  # a clear error for an impossible budget
        return labelled_subset(dataset.labels, dataset.train_idx, labels, config.seed,
                               dataset.n_classes)

    @property
    def n_classes(self) -> int:
        return self.head.out_features

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x, sample=False).h)

    # -- the Model interface -------------------------------------------------------------
    def term_names(self) -> tuple[str, ...]:
        return ("total", "accuracy")

    def loss(self, batch: Batch, generator=None, training: bool = True) -> dict[str, Tensor]:
        logits = self(batch.x)
        accuracy = (logits.detach().argmax(1) == batch.y).float().mean()
        return {"total": F.cross_entropy(logits, batch.y), "accuracy": accuracy}

    def evaluate(self, batches: Iterable[Batch], generator):
        """Cross-entropy and accuracy on the validation set, and its confusion matrix (K, K)."""
        k = self.n_classes
        confusion = torch.zeros((k, k), dtype=torch.int64)
        ce_sum, n = 0.0, 0
        with torch.no_grad():
            for batch in batches:
                logits = self(batch.x)
                ce_sum += float(F.cross_entropy(logits, batch.y, reduction="sum"))
                pred = logits.argmax(1)
                confusion += torch.bincount((batch.y * k + pred).cpu(),
                                            minlength=k * k).view(k, k)
                n += len(batch)
        if n == 0:
            return {}, {}
        accuracy = float(confusion.diagonal().sum()) / n
        return ({"total": ce_sum / n, "accuracy": accuracy},
                {"confusion": confusion.numpy()})


def accuracy(logits: Tensor | np.ndarray, labels: Tensor | np.ndarray) -> float:
    """Share of rows whose arg-max equals the label (NaN for an empty batch).

    Parameters
    ----------
    logits : (B, K) scores (or (B,) predicted classes).
    labels : (B,) int.
    """
    pred = np.asarray(torch.as_tensor(logits).detach().cpu())
    pred = pred.argmax(1) if pred.ndim == 2 else pred
    labels = np.asarray(torch.as_tensor(labels).cpu())
    return float(np.mean(pred == labels)) if len(labels) else float("nan")


def encoder_weights(model_state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The encoder's entries of a model's state (``encoder.*``), for ``init_weights``."""
    return {k: v for k, v in model_state.items() if k.startswith("encoder.")}
