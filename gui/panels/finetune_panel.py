"""The fine-tuning tab: a classifier on a trained encoder, pretrained versus random.

"After the autoencoder is trained, the decoder is removed and replaced with
a classification layer." Here a person picks the encoder (the run on
display, or any session or pretraining file), the label budgets, the epochs
and whether to freeze the encoder; Run trains the same classifier twice per
budget — from the encoder's weights and from random ones — and the tab
shows the accuracy curves side by side, the final table, a confusion matrix
for any run, and the encoder's first-layer features.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QSizePolicy, QSpinBox, QSplitter, QToolButton, QVBoxLayout,
                               QWidget)

from engine.errors import ConfigError
from engine.pretraining import parse_budgets
from engine.pretraining.events import (ClassifierEpoch, ClassifierFinished, ClassifierStarted,
                                       ComparisonTable)
from gui.encoder_sources import CurrentRun, file_source
from gui.finetune_runner import ComparisonRequest, ComparisonWorker
from gui.panels.accuracy_curves import AccuracyCurvesPanel
from gui.panels.comparison_table import ComparisonTablePanel, percent
from gui.panels.confusion_matrix import ConfusionMatrixPanel
from gui.panels.feature_grid import FeatureGridPanel
from gui.widgets.frame import framed
from gui.widgets.caption import caption_label
from gui.widgets.naming import named
from gui.worker import TrainingRun

SOURCE_FILTER = "Sessions and pretraining runs (*.h5 *.hdf5);;All files (*)"
NO_CURRENT = "No trained run on display yet: train one (or open a session), or choose a file."


class FineTuningPanel(QWidget):
    """Settings, live curves, table, confusion matrix and features of a comparison.

    Signals
    -------
    message(str, str) : text and kind (``'error'`` or ``'info'``) for the window's strip.
    running_changed(bool) : a comparison started or ended.
    """

    message = Signal(str, str)
    running_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "fineTuningPanel", "Fine-tuning")
        self.accuracy = AccuracyCurvesPanel()
        self.table = ComparisonTablePanel()
        self.confusion = ConfusionMatrixPanel()
        self.features = FeatureGridPanel("analysis")
        settings = self._build_settings()
        top = QSplitter(Qt.Horizontal)
        top.addWidget(settings)
        top.addWidget(framed("Validation accuracy: pretrained vs random", "accuracyFrame",
                             self.accuracy))
        top.setStretchFactor(1, 1)
        top.setSizes([300, 770])
        bottom = QSplitter(Qt.Horizontal)
        bottom.addWidget(framed("Final accuracy per label budget", "comparisonTableFrame",
                                self.table))
        bottom.addWidget(framed("Confusion matrix (validation)", "confusionFrame",
                                self.confusion))
        bottom.addWidget(framed("First-layer features", "analysisFeaturesFrame", self.features))
        bottom.setSizes([300, 370, 400])
        split = QSplitter(Qt.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([370, 430])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.current: CurrentRun | None = None
        self.job: TrainingRun | None = None
        self.training_active = False
        self.result = None
        self._epochs_done = 0
        self._update_source_row()
        self._update_buttons()

    def _build_settings(self) -> QGroupBox:
        box = named(QGroupBox("Classifier on the code"), "fineTuneSettingsGroup",
                    "Classifier on the code")
        box.setMinimumWidth(260)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.source_combo = named(QComboBox(), "encoderSourceCombo", "Encoder source",
                                  "Whose encoder the classifier starts from")
        self.source_combo.addItem("the run on display", "current")
        self.source_combo.addItem("a session or pretraining file", "file")
        form.addRow("Encoder", self.source_combo)
        self.source_label = caption_label(NO_CURRENT, "encoderSourceLabel",
                                          "Encoder source description", wrap=True,
                                          fixed_width=False)
        form.addRow(self.source_label)
        self.file_edit = named(QLineEdit(), "encoderFileEdit", "Encoder file",
                               "A session file (.h5) or a pretraining run")
        self.browse_button = named(QToolButton(), "browseEncoderButton",
                                   "Browse for an encoder file")
        self.browse_button.setText("Browse…")
        self.browse_button.clicked.connect(self.browse_for_source)
        self.file_row = QWidget()
        h = QHBoxLayout(self.file_row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.file_edit, 1)
        h.addWidget(self.browse_button)
        form.addRow("File", self.file_row)
        self.file_row_label = form.labelForField(self.file_row)
        self.budgets_edit = named(QLineEdit("100, 1000, all"), "labelBudgetsEdit",
                                  "Label budgets", "Labelled training images per run, "
                                  "class-balanced; 'all' is the whole training split")
        form.addRow("Labels", self.budgets_edit)
        self.epochs_spin = named(QSpinBox(), "classifierEpochsSpin", "Classifier epochs",
                                 "Epochs of each classifier run")
        self.epochs_spin.setRange(1, 10_000)
        self.epochs_spin.setValue(20)
        form.addRow("Epochs", self.epochs_spin)
        self.freeze_check = named(QCheckBox("Freeze the encoder (linear probe)"),
                                  "freezeEncoderCheck", "Freeze the encoder",
                                  "Train only the classification layer on the fixed code")
        form.addRow(self.freeze_check)
        self.run_button = named(QPushButton("Run comparison"), "runComparisonButton",
                                "Run the comparison", "Train classifiers from the pretrained "
                                "encoder and from random weights, for each label budget")
        self.stop_button = named(QPushButton("Stop"), "stopComparisonButton",
                                 "Stop the comparison", "Stop after the current batch")
        buttons = QWidget()
        b = QHBoxLayout(buttons)
        b.setContentsMargins(0, 0, 0, 0)
        b.addWidget(self.run_button, 1)
        b.addWidget(self.stop_button)
        form.addRow(buttons)
        self.progress = named(QProgressBar(), "comparisonProgress", "Comparison progress")
        self.progress.setFormat("ready")
        self.progress.setValue(0)
        form.addRow(self.progress)
        self.status = named(QLabel(""), "comparisonStatus", "Comparison status")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        form.addRow(self.status)
        self.source_combo.currentIndexChanged.connect(self._update_source_row)
        self.run_button.clicked.connect(self.run_comparison)
        self.stop_button.clicked.connect(self.stop)
        return box

    # -- the encoder source ----------------------------------------------------------------
    def set_current_run(self, current: CurrentRun | None) -> None:
        """The run on display changed (None: nothing trained is on display)."""
        self.current = current
        self._update_source_row()

    def browse_for_source(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Encoder from a session or pretraining run",
                                              self.file_edit.text(), SOURCE_FILTER)
        if path:
            self.use_file(path)

    def use_file(self, path: str | Path) -> None:
        """Take the encoder from the file at ``path``."""
        self.source_combo.setCurrentIndex(self.source_combo.findData("file"))
        self.file_edit.setText(str(path))

    def _update_source_row(self, *_args) -> None:
        from_file = self.source_combo.currentData() == "file"
        self.file_row.setVisible(from_file)
        if self.file_row_label is not None:
            self.file_row_label.setVisible(from_file)
        if from_file:
            self.source_label.setText("A session file's or a pretraining run's encoder; the "
                                      "data and split are the ones it was trained on.")
        else:
            self.source_label.setText(self.current.description if self.current else NO_CURRENT)

    # -- running ------------------------------------------------------------------------
    def set_training_active(self, active: bool) -> None:
        """Training in the window: wait for it (the run on display is not finished)."""
        self.training_active = active
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.job is not None
        self.run_button.setEnabled(not running and not self.training_active)
        self.run_button.setToolTip("Wait for the training run to end" if self.training_active
                                   else self.run_button.accessibleDescription())
        self.stop_button.setEnabled(running)
        for w in (self.source_combo, self.file_row, self.budgets_edit, self.epochs_spin,
                  self.freeze_check):
            w.setEnabled(not running)

    def _request(self) -> ComparisonRequest | None:
        try:
            budgets = parse_budgets(self.budgets_edit.text())
        except ConfigError as e:
            self.message.emit(str(e).replace("--labels", "Label budgets"), "error")
            return None
        if self.source_combo.currentData() == "current":
            if self.current is None:
                self.message.emit(NO_CURRENT, "error")
                return None
            load, save_to = self.current.load, self.current.save_to
        else:
            text = self.file_edit.text().strip()
            if not text:
                self.message.emit("Choose the session or pretraining file whose encoder the "
                                  "classifier starts from (Browse…).", "error")
                return None
            path = Path(text)
            load, save_to = file_source(path), path  # the comparison is kept with the run
        return ComparisonRequest(load_source=load, budgets=budgets,
                                 epochs=self.epochs_spin.value(),
                                 freeze=self.freeze_check.isChecked(), save_to=save_to)

    def run_comparison(self) -> bool:
        """Start the comparison the settings describe; False (with a message) when it cannot."""
        if self.job is not None or self.training_active:
            return False
        request = self._request()
        if request is None:
            return False
        worker = ComparisonWorker(request)
        worker.source_loaded.connect(self._on_source_loaded)
        worker.event.connect(self._on_event)
        worker.finished.connect(self._on_finished)
        worker.saved.connect(self._on_saved)
        worker.failed.connect(lambda text: self.message.emit(text, "error"))
        self.accuracy.begin(request.budgets)
        mode = "encoder frozen (linear probe)" if request.freeze else "encoder fine-tuned too"
        self.table.begin(mode)
        self.confusion.clear()
        self.result = None
        self._epochs_done = 0
        self.progress.setRange(0, 2 * len(request.budgets) * request.epochs)
        self.progress.setValue(0)
        self.progress.setFormat("loading the encoder and data…")
        self.status.setText("")
        self.job = TrainingRun(worker, self)
        self.job.finished.connect(self._on_job_finished)
        self._update_buttons()
        self.running_changed.emit(True)
        self.job.start()
        return True

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()
            self.progress.setFormat("stopping after this batch…")

    def is_running(self) -> bool:
        return self.job is not None

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop and wait for the comparison's thread (window closing)."""
        return True if self.job is None else self.job.shutdown(timeout_ms)

    def clear_results(self) -> None:
        """Forget the comparison on show (another encoder comes on display); not while
        one runs."""
        if self.job is not None:
            return
        self.accuracy.begin([])
        self.table.begin("")
        self.table.note.setText("No comparison for the encoder on display yet: Run comparison "
                                "fills this table.")
        self.confusion.clear()
        self.result = None
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setFormat("ready")
        self.status.setText("")

    # -- a comparison stored in a file ----------------------------------------------------
    def show_stored(self, comparison: dict, file_name: str) -> bool:
        """Show a comparison read back with :func:`~engine.pretraining.results.read_comparison_h5`
        (curves, table, confusion matrices); False while one is running."""
        if self.job is not None:
            return False
        names = [str(n) for n in comparison.get("budget_names", [])]
        t = comparison["table"]
        sizes = [int(b) for b in np.asarray(t["budgets"]).tolist()]
        frozen, epochs = bool(comparison.get("frozen", False)), int(comparison.get("epochs", 0))
        self.budgets_edit.setText(", ".join(names))   # the settings it was run with
        if epochs > 0:
            self.epochs_spin.setValue(epochs)
        self.freeze_check.setChecked(frozen)
        self.accuracy.begin([int(n) if n.isdigit() else n for n in names])
        self.table.begin("encoder frozen (linear probe)" if frozen else "encoder fine-tuned too")
        self.confusion.clear()
        self.result = None
        runs = comparison.get("runs", {})
        for budget in sizes:
            for init in ("pretrained", "random"):
                run = runs.get(init, {}).get(budget)
                if run is None:
                    continue
                confusion = run.get("confusion")
                n_classes = 0 if confusion is None else int(np.shape(confusion)[0])
                self.accuracy.run_started(ClassifierStarted(
                    init=init, budget=budget, frozen=frozen, n_train=budget, n_val=0,
                    n_classes=n_classes, epochs=epochs))
                self.table.add_budget(budget, self.accuracy.label(budget).replace(" labels", ""))
                h = run.get("history", {})
                for i, epoch in enumerate(np.asarray(h.get("epoch", [])).tolist()):
                    value = lambda k: float(np.asarray(h[k])[i]) if k in h else float("nan")  # noqa: E731,B023
                    self.accuracy.add_epoch(ClassifierEpoch(
                        init=init, budget=budget, epoch=int(epoch), epochs=epochs,
                        train_loss=value("train_loss"), train_accuracy=value("train_accuracy"),
                        val_loss=value("val_loss"), val_accuracy=value("val_accuracy"),
                        wall_time=0.0))
                accuracy = float(run.get("val_accuracy", float("nan")))
                self.table.set_accuracy(init, budget, accuracy)
                if confusion is not None:
                    self.confusion.add_run(ClassifierFinished(
                        init=init, budget=budget, outcome=str(run.get("outcome", "completed")),
                        epoch=epochs, val_loss=float(run.get("val_loss", float("nan"))),
                        val_accuracy=accuracy, confusion=np.asarray(confusion)),
                        f"{init}, {self.accuracy.label(budget)}")
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat(f"stored comparison ({comparison.get('outcome', 'completed')})")
        self.status.setText(f"Comparison stored in {file_name} (/finetune): classifier on the "
                            f"code of the {comparison.get('source') or 'encoder'}.")
        return True

    # -- worker signals ------------------------------------------------------------------
    def _on_source_loaded(self, description: str, features) -> None:
        self.status.setText(f"Classifier on the code of the {description}.")
        if features is not None:
            self.features.set_features(features, f"The {description}: first layer, "
                                                 f"{len(features)} units")

    def _on_event(self, ev) -> None:
        if isinstance(ev, ClassifierStarted):
            self.confusion.set_label_names(ev.label_names)
            self.accuracy.run_started(ev)
            self.table.add_budget(ev.budget, self.accuracy.label(ev.budget).replace(
                " labels", ""))
            self.progress.setFormat(f"{ev.init}, {self.accuracy.label(ev.budget)} · "
                                    f"%v of %m classifier epochs")
        elif isinstance(ev, ClassifierEpoch):
            self.accuracy.add_epoch(ev)
            self._epochs_done += 1
            self.progress.setValue(min(self._epochs_done, self.progress.maximum()))
        elif isinstance(ev, ClassifierFinished):
            self.table.set_accuracy(ev.init, ev.budget, ev.val_accuracy)
            self.confusion.add_run(ev, f"{ev.init}, {self.accuracy.label(ev.budget)}")
            if ev.outcome == "failed":
                self.message.emit(ev.message, "error")
        elif isinstance(ev, ComparisonTable):
            self.table.set_table(ev)

    def _on_finished(self, result) -> None:
        self.result = result
        done = "finished" if result.outcome == "completed" else result.outcome
        self.progress.setFormat(f"comparison {done}")
        if result.outcome == "completed":
            self.progress.setValue(self.progress.maximum())
            t = result.table
            self.message.emit(
                f"Fine-tuning comparison finished. With {self.accuracy.label(int(t.budgets[0]))}"
                f": pretrained {percent(t.pretrained_accuracy[0])} versus random "
                f"{percent(t.random_accuracy[0])} validation accuracy (every budget in the "
                f"table).", "info")

    def _on_saved(self, path: str) -> None:
        self.status.setText(self.status.text() + f" Saved in {Path(path).name} (/finetune).")

    def _on_job_finished(self) -> None:
        self.job.deleteLater()
        self.job = None
        self._update_buttons()
        if self.progress.format().startswith("stopping"):
            self.progress.setFormat("comparison stopped")
        self.running_changed.emit(False)

