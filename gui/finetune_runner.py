"""Fine-tuning comparisons off the GUI thread: pretrained versus random, per label budget.

:class:`ComparisonWorker` loads the encoder (from the run on display or a
file), loads the data set that encoder was trained on (same data config and
seed, so the same train/validation split), and runs
:func:`~engine.pretraining.compare_initialisations`, turning its events into
queued signals. It runs on a thread of its own through the same
:class:`~gui.worker.TrainingRun` that training uses, so Stop works the same
way: the classifier in training stops before its next batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from engine.control import TrainingControl
from engine.data import load_dataset
from engine.errors import StudioError
from engine.pretraining import ClassifierConfig, compare_initialisations, first_layer_features
from engine.pretraining.results import write_comparison_h5
from gui.encoder_sources import SourceLoader
from gui.worker import TRAINING_NICE, lower_thread_priority

log = logging.getLogger(__name__)

@dataclass
class ComparisonRequest:
    """One comparison as asked for in the fine-tuning panel.

    Attributes
    ----------
    load_source : returns the encoder and its config; runs on the worker thread.
    budgets : label budgets, e.g. ``[100, 1000, "all"]`` (parsed already).
    epochs : per classifier run; ``freeze`` trains only the head (linear probe).
    save_to : a pretraining file to store the comparison in (``/finetune``), or None.
    """

    load_source: SourceLoader
    budgets: list
    epochs: int
    freeze: bool
    save_to: Path | None = None


class ComparisonWorker(QObject):
    """Runs one comparison; every outcome ends with :attr:`done`.

    Signals
    -------
    source_loaded(str, object) : the encoder's description and its first-layer
        features (units, C, H, W), or None for a conv encoder.
    event(object) : ClassifierStarted / ClassifierEpoch / ClassifierFinished / ComparisonTable.
    finished(object) : the ComparisonResult.
    saved(str) : the file the comparison was stored in.
    failed(str) : what went wrong, for the message strip.
    """

    source_loaded = Signal(str, object)
    event = Signal(object)
    finished = Signal(object)
    saved = Signal(str)
    failed = Signal(str)
    done = Signal()

    def __init__(self, request: ComparisonRequest, nice: int = TRAINING_NICE):
        super().__init__()
        self.request = request
        self.nice = nice
        self.control = TrainingControl()

    @Slot()
    def run(self) -> None:
        lower_thread_priority(self.nice)
        req = self.request
        try:
            source = req.load_source()
            features = None
            if source.config.model.architecture == "mlp":
                features = first_layer_features(source.model, source.model.image_shape)
            self.source_loaded.emit(source.description, features)
            dataset = load_dataset(source.config.data, source.config.seed)  # the same split
            cfg = ClassifierConfig(epochs=req.epochs, freeze=req.freeze,
                                   seed=source.config.seed,
                                   device=source.config.device).validate()
            if self.control.stop_requested:
                return
            result = compare_initialisations(source.model, dataset, req.budgets, cfg,
                                             self.event.emit, self.control)
            self.finished.emit(result)
            if req.save_to is not None and result.runs:
                write_comparison_h5(req.save_to, result, source.description, str(req.save_to))
                self.saved.emit(str(req.save_to))
        except StudioError as e:   # no labels, a bad file, an impossible budget
            self.failed.emit(str(e))
        except Exception as e:  # a bug: say so in the window rather than die silently
            log.exception("fine-tuning failed")
            self.failed.emit(f"fine-tuning failed: {type(e).__name__}: {e}")
        finally:
            self.done.emit()
