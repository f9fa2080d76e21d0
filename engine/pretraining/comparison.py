"""Pretrained versus random initialisation, per label budget.

For each budget the *same* labelled subset, classifier settings, head
initialisation and batch order are used twice: once with the pretrained
encoder, once with the same architecture re-initialised at random. The
only difference between the two runs is where the encoder's weights start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from engine.control import TrainingControl
from engine.data import Dataset
from engine.errors import DataError
from engine.models import Autoencoder, Encoder
from engine.pretraining.classifier import Classifier, ClassifierConfig, randomised_copy
from engine.pretraining.classifier_trainer import ClassifierTrainer
from engine.pretraining.events import (ClassifierEpoch, ClassifierFinished, ComparisonTable)
from engine.pretraining.labels import ALL, labelled_subset, resolve_budget

INITS = ("pretrained", "random")
_RANDOM_SALT = 0x4A2D0


@dataclass
class ClassifierRun:
    """One classifier run: its per-epoch curves and final validation scores.

    ``history`` maps ``epoch``, ``train_loss``, ``train_accuracy``,
    ``val_loss``, ``val_accuracy`` to one value per epoch.
    """

    init: str
    budget: int
    train_idx: np.ndarray
    history: dict[str, list[float]] = field(default_factory=dict)
    outcome: str = "failed"
    val_accuracy: float = float("nan")
    val_loss: float = float("nan")
    confusion: np.ndarray | None = None
    classifier: Classifier | None = None

    def listen(self, event) -> None:
        if isinstance(event, ClassifierEpoch):
            for k in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"):
                self.history.setdefault(k, []).append(float(getattr(event, k)))
        elif isinstance(event, ClassifierFinished):
            self.outcome, self.val_accuracy, self.val_loss = (event.outcome, event.val_accuracy,
                                                              event.val_loss)
            self.confusion = event.confusion


@dataclass
class ComparisonResult:
    """Every run of a comparison and its table.

    Attributes
    ----------
    budget_names : as asked, e.g. ``["100", "1000", "all"]``.
    budgets : the same as numbers of labelled images.
    runs : ``(init, budget) -> ClassifierRun``.
    table : the ``ComparisonTable`` event (arrays per budget).
    """

    budget_names: list[str]
    budgets: list[int]
    config: ClassifierConfig
    runs: dict[tuple[str, int], ClassifierRun]
    table: ComparisonTable
    outcome: str = "completed"

    def format_table(self) -> str:
        """The pretrained-vs-random table as text, accuracy in percent."""
        t = self.table
        mode = "linear probe (encoder frozen)" if t.frozen else "fine-tuning everything"
        labels = [f"{name} ({size})" if name == ALL else name
                  for name, size in zip(self.budget_names, self.budgets)]
        w = max(len("labels"), *(len(x) for x in labels))
        lines = [f"validation accuracy, {mode}, {t.epochs} epochs:",
                 f"{'labels':>{w}}  {'pretrained':>10}  {'random':>8}  {'difference':>10}"]
        for i, label in enumerate(labels):
            p, r = 100 * t.pretrained_accuracy[i], 100 * t.random_accuracy[i]
            lines.append(f"{label:>{w}}  {p:>9.1f}%  {r:>7.1f}%  {p - r:>+10.1f}")
        return "\n".join(lines)


def compare_initialisations(model: Autoencoder | Encoder, dataset: Dataset,
                            budgets: Sequence[int | str], config: ClassifierConfig,
                            emit=None, control: TrainingControl | None = None,
                            inits: Sequence[str] = INITS) -> ComparisonResult:
    """Train a classifier from the pretrained encoder and from random weights, per budget.

    Parameters
    ----------
    model : the trained autoencoder (or its encoder); it is copied, never changed.
    dataset : images with labels; the labelled subsets come from ``train_idx``,
        the scores from ``val_idx``. Use the split the encoder was trained
        with, so validation images were never seen.
    budgets : numbers of labelled images or ``"all"``.
    config : shared by every run (``freeze`` makes them linear probes).
    emit : receives every run's ClassifierStarted/Epoch/Finished, then the
        ComparisonTable.
    control : a stop ends the comparison after the current run's batch.
    inits : which initialisations to run, in order.

    Returns
    -------
    ComparisonResult
    """
    emit = emit or (lambda event: None)
    control = control or TrainingControl()
    config = config.validate()
    if dataset.labels is None:
        raise DataError(f"{dataset.source}: the images have no labels, so no classifier can "
                        "be trained. Choose a data set with labels")
    encoder = model.encoder if isinstance(model, Autoencoder) else model
    k = int(dataset.n_classes)
    names = [str(b) for b in budgets]
    sizes = [resolve_budget(b, dataset.n_train) for b in budgets]
    runs: dict[tuple[str, int], ClassifierRun] = {}
    outcome = "completed"
    for size in sizes:
        if outcome != "completed":
            break
        idx = labelled_subset(dataset.labels, dataset.train_idx, size, config.seed, k)
        for init in inits:
            if (init, size) in runs:
                continue  # e.g. "all" and the same number both asked for
            start = encoder if init == "pretrained" else randomised_copy(
                encoder, config.seed * 7919 + _RANDOM_SALT)
            clf = Classifier.from_autoencoder(start, k)
            run = ClassifierRun(init=init, budget=size, train_idx=idx)

            def both(event, run=run):
                run.listen(event)
                emit(event)

            run.outcome = ClassifierTrainer(clf, dataset, idx, config, init).run(both, control)
            run.classifier = clf
            runs[(init, size)] = run
            if run.outcome != "completed":
                outcome = run.outcome
                break

    def col(init: str, attr: str) -> np.ndarray:
        return np.asarray([getattr(runs[(init, s)], attr) if (init, s) in runs else np.nan
                           for s in sizes], np.float64)

    table = ComparisonTable(budgets=np.asarray(sizes, np.int64),
                            pretrained_accuracy=col("pretrained", "val_accuracy"),
                            random_accuracy=col("random", "val_accuracy"),
                            pretrained_loss=col("pretrained", "val_loss"),
                            random_loss=col("random", "val_loss"),
                            frozen=config.freeze, epochs=config.epochs)
    emit(table)
    return ComparisonResult(budget_names=names, budgets=sizes, config=config, runs=runs,
                            table=table, outcome=outcome)
