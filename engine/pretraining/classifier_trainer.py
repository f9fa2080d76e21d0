"""Training a :class:`Classifier` on a labelled subset with cross-entropy.

The loop is small on purpose: the labelled subsets are small and the whole
validation set is scored after every epoch. The classifier's initial head
and the batch order follow from the seed alone, so a pretrained and a
random run with the same settings differ only in the encoder's weights.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from engine.control import TrainingControl
from engine.data import Dataset
from engine.device import resolve_device
from engine.optim import make_optimizer
from engine.pretraining.classifier import Classifier, ClassifierConfig, accuracy, confusion_matrix
from engine.pretraining.events import ClassifierEpoch, ClassifierFinished, ClassifierStarted

EVAL_BATCH = 1000
_HEAD_SALT, _ORDER_SALT = 0xC1A55, 0x0BDE5


class ClassifierTrainer:
    """Trains one classifier; reports per-epoch accuracy and cross-entropy through ``emit``.

    Parameters
    ----------
    model : the classifier; its head is re-initialised from the seed here.
    dataset : images and labels; validation uses ``dataset.val_idx``.
    train_idx : (n,) int64 indices of the labelled training images.
    config : epochs, optimiser, freeze, seed, device.
    init : a name for the runs' events, ``"pretrained"`` or ``"random"``.
    """

    def __init__(self, model: Classifier, dataset: Dataset, train_idx: np.ndarray,
                 config: ClassifierConfig, init: str = "pretrained"):
        if dataset.labels is None:
            from engine.errors import DataError
            raise DataError(f"{dataset.source}: the images have no labels, so no classifier "
                            "can be trained. Choose a data set with labels")
        self.config = config.validate()
        self.device = resolve_device(config.device)
        self.init = init
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed * 7919 + _HEAD_SALT)
            model.head.reset_parameters()
        if config.freeze:
            model.freeze_encoder()
        self.model = model.to(self.device)
        images = torch.from_numpy(dataset.images)
        labels = torch.from_numpy(np.asarray(dataset.labels, np.int64))
        train_idx = torch.from_numpy(np.asarray(train_idx, np.int64))
        val_idx = torch.from_numpy(dataset.val_idx)
        self.x_train, self.y_train = images[train_idx].to(self.device), labels[train_idx].to(self.device)
        self.x_val, self.y_val = images[val_idx].to(self.device), labels[val_idx].to(self.device)
        self.dataset = dataset
        trainable = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = make_optimizer(trainable, config.optim_config())
        self.generator = torch.Generator(device="cpu").manual_seed(config.seed * 7919 + _ORDER_SALT)
        self.budget = len(train_idx)
        self.epochs_done = 0

    @property
    def n_classes(self) -> int:
        return self.model.n_classes

    def run(self, emit, control: TrainingControl | None = None) -> str:
        """Train for ``config.epochs``.

        Returns
        -------
        ``'completed'``, ``'stopped'`` or ``'failed'``, as ``ClassifierFinished`` says.
        """
        cfg, control = self.config, control or TrainingControl()
        emit(ClassifierStarted(init=self.init, budget=self.budget, frozen=cfg.freeze,
                               n_train=self.budget, n_val=len(self.y_val),
                               n_classes=self.n_classes, epochs=cfg.epochs,
                               label_names=self.dataset.label_names))
        t0 = time.perf_counter()
        n = self.budget
        bs = min(cfg.batch_size, n)
        for epoch in range(1, cfg.epochs + 1):
            self.model.train()
            perm = torch.randperm(n, generator=self.generator).to(self.device)
            for b in range(0, n, bs):
                if control.checkpoint():
                    return self._finish(emit, "stopped")
                idx = perm[b:b + bs]
                loss = F.cross_entropy(self.model(self.x_train[idx]), self.y_train[idx])
                if not math.isfinite(float(loss.detach())):
                    return self._finish(emit, "failed", f"the cross-entropy became non-finite "
                                        f"at epoch {epoch}; lower the learning rate "
                                        f"(now {cfg.lr:g})")
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
            self.epochs_done = epoch
            tr_loss, tr_acc, _ = self.evaluate(self.x_train, self.y_train)
            va_loss, va_acc, _ = self.evaluate(self.x_val, self.y_val)
            emit(ClassifierEpoch(init=self.init, budget=self.budget, epoch=epoch,
                                 epochs=cfg.epochs, train_loss=tr_loss, train_accuracy=tr_acc,
                                 val_loss=va_loss, val_accuracy=va_acc,
                                 wall_time=time.perf_counter() - t0))
        return self._finish(emit, "completed")

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float, np.ndarray]:
        """Mean cross-entropy (nats), accuracy and predictions (n,) on images x (n, C, H, W)."""
        self.model.eval()
        if len(y) == 0:
            return float("nan"), float("nan"), np.zeros(0, np.int64)
        logits = torch.cat([self.model(x[i:i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)])
        loss = float(F.cross_entropy(logits, y, reduction="mean"))
        pred = logits.argmax(1).cpu().numpy()
        return loss, accuracy(pred, y), pred

    def _finish(self, emit, outcome: str, message: str = "") -> str:
        loss, acc, pred = self.evaluate(self.x_val, self.y_val)
        cm = confusion_matrix(pred, self.y_val.cpu().numpy(), self.n_classes)
        emit(ClassifierFinished(init=self.init, budget=self.budget, outcome=outcome,
                                epoch=self.epochs_done, val_loss=loss, val_accuracy=acc,
                                confusion=cm, message=message))
        return outcome
