"""The fine-tuning tab: a classifier on a trained encoder, pretrained versus random.

"After the autoencoder is trained, the decoder is removed and replaced with
a classification layer." Here a person picks the encoder (the run on
display, or any session file), the label budgets, the epochs and whether to
freeze the encoder; Run asks the window's controller for a comparison: the
same classifier trained twice per budget — from the encoder's weights and
from random ones — as ordinary runs added to the encoder's session. The tab
shows those classifier runs of the :class:`~gui.run.model.RunModel`: the
accuracy curves side by side, the final table, a confusion matrix for any
run, and the encoder's first-layer features.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QScrollArea, QSplitter, QVBoxLayout, QWidget

from engine.data.labels import parse_budgets
from engine.errors import ConfigError
from engine.pretraining.comparison import INITS
from gui.panels.accuracy_curves import AccuracyCurvesPanel
from gui.forms.comparison_settings import NO_CURRENT, ComparisonSettingsForm
from gui.panels.comparison_table import ComparisonTablePanel, percent
from gui.panels.confusion_matrix import ConfusionMatrixPanel
from gui.panels.feature_grid import FeatureGridPanel
from gui.run.following import FollowsModel
from gui.run.model import RunModel
from gui.run.state import RunState
from gui.widgets.frame import framed
from gui.widgets.naming import named



class FineTuningPanel(ComparisonSettingsForm, FollowsModel, QWidget):
    """Settings, curves, table, confusion matrix and features of a comparison.

    The settings form and the encoder source are :class:`ComparisonSettingsForm`'s.

    Signals
    -------
    message(str, str) : text and kind (``'error'`` or ``'info'``) for the window's strip.
    comparison_requested(object, list, int, bool) : session path, label budgets, epochs,
        freeze: the user pressed Run.
    stop_requested() : the user pressed Stop.
    """

    message = Signal(str, str)
    comparison_requested = Signal(object, list, int, bool)
    stop_requested = Signal()

    def __init__(self, model: RunModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.follow(model)   # run_model: the runs on display
        named(self, "fineTuningPanel", "Fine-tuning")
        self.accuracy = AccuracyCurvesPanel()
        self.table = ComparisonTablePanel()
        self.confusion = ConfusionMatrixPanel()
        self.features = FeatureGridPanel("analysis")
        settings = self._build_settings()
        top = named(QSplitter(Qt.Horizontal), "fineTuningTopSplitter", "Fine-tuning views")
        # In a scroll area: on a short screen the form scrolls instead of being cut off.
        scroll = named(QScrollArea(), "fineTuneSettingsScroll", "Classifier settings")
        scroll.setWidget(settings)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(settings.minimumWidth() + 16)
        top.addWidget(scroll)
        top.addWidget(framed("Validation accuracy: pretrained vs random", "accuracyFrame",
                             self.accuracy))
        top.setStretchFactor(1, 1)
        top.setSizes([300, 770])
        bottom = named(QSplitter(Qt.Horizontal), "fineTuningBottomSplitter", "Fine-tuning views")
        bottom.addWidget(framed("Final accuracy per label budget", "comparisonTableFrame",
                                self.table))
        bottom.addWidget(framed("Confusion matrix (validation)", "confusionFrame",
                                self.confusion))
        bottom.addWidget(framed("First-layer features", "analysisFeaturesFrame", self.features))
        bottom.setSizes([300, 370, 400])
        self.bottom_split = bottom
        split = named(QSplitter(Qt.Vertical), "fineTuningSplitter", "Fine-tuning views")
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([370, 430])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.current: Path | None = None       # the session file of the run on display
        self.current_text = NO_CURRENT
        self.running = False                    # a comparison is training
        self.busy = False                       # any job is training
        self._budget_labels: dict[int, str] = {}
        self._asked: list = []
        self._update_source_row()
        self._update_buttons()
        self._features_shown_for: str | None = None   # "path:run:step" of the features shown

    @property
    def showing(self) -> bool:
        """Whether a comparison is on display (Export figure offers the tab then)."""
        return bool(self.run_model.classifier_runs())

    # -- running --------------------------------------------------------------------------
    def set_busy(self, busy: bool, comparison: bool = False) -> None:
        """A job trains in the window (``comparison``: it is this tab's)."""
        self.busy, self.running = busy, busy and comparison
        self._update_buttons()
        if not busy:
            self._show_encoder()

    # -- the encoder on display --------------------------------------------------------------
    def _encoder_run(self) -> RunState | None:
        """The trained autoencoder on display: the stack of a job, else the primary run."""
        runs = [r for r in self.run_model.training_runs() if r.status in ("completed", "stopped")]
        stacks = [r for r in runs if r.plan.role == "stack"]
        return (stacks or [r for r in runs if r.plan.role == "run"] or [None])[-1]

    def _show_encoder(self) -> None:
        """The trained encoder on display is the source of Run comparison; its features."""
        run, path = self._encoder_run(), self.run_model.session_path
        if run is None or path is None or not Path(path).exists():
            self.set_current_run(None)
        else:
            what = ("stacked autoencoder" if run.plan.role == "stack" else
                    f"{run.config.kind_label()} autoencoder ({run.config.name})")
            self.set_current_run(Path(path), f"{what} from {Path(path).name}", run.data)
        self._show_features_if_seen()

    def _show_features_if_seen(self) -> None:
        """Draw the first-layer features of the encoder on display, once the tab is on screen.

        Reading the weights back and drawing the grid takes tens of milliseconds:
        done for a hidden tab at every run's end, it was the window's longest stall.
        """
        if not self.isVisible() or self.busy:
            return
        run = self._encoder_run()
        key = None if run is None else f"{self.run_model.session_path}:{run.run_id}:{run.last_step}"
        if key is None or key == self._features_shown_for:
            if run is None:
                self.features.set_features(None, "No trained encoder on display.")
            return
        self._features_shown_for = key
        features, why = run.first_layer_features()
        if features is None:
            self.features.set_features(None, why)
        else:
            name = run.plan.title if run.plan.role == "stack" else run.config.name
            # A stack's title already starts with "the" ("the stack 784-256-64, end to end").
            name = name[:1].upper() + name[1:] if name.startswith("the ") else f"The {name}"
            self.features.set_features(features, f"{name}: first layer, {len(features)} units")

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self._show_features_if_seen()

    def _update_buttons(self) -> None:
        refusal = "" if self.busy else self.refusal()
        self.run_button.setEnabled(not self.busy and not refusal)
        self.run_button.setToolTip("Wait for the training run to end" if self.busy and
                                   not self.running else refusal or
                                   self.run_button.accessibleDescription())
        self.stop_button.setEnabled(self.running)
        for w in (self.source_combo, self.file_row, self.versus_row, self.budgets_edit,
                  self.epochs_spin, self.freeze_check):
            w.setEnabled(not self.busy)

    def run_comparison(self) -> bool:
        """Ask for the comparison the settings describe; False (with a message) when it cannot."""
        if self.busy:
            return False
        refusal = self.refusal()
        if refusal:   # refused before anything starts: no state changes
            self.message.emit(refusal, "error")
            return False
        try:
            budgets = parse_budgets(self.budgets_edit.text())
        except ConfigError as e:
            self.message.emit(f"Label budgets {e.problem}", "error")
            return False
        if self.source_combo.currentData() == "current":
            if self.current is None:
                self.message.emit(NO_CURRENT, "error")
                return False
            path = self.current
        else:
            text = self.file_edit.text().strip()
            if not text:
                self.message.emit("Choose the session file whose encoder the classifier "
                                  "starts from (Browse…).", "error")
                return False
            path = Path(text)
        missing = [p for p in self.versus_paths() if not p.exists()]
        if missing:
            self.message.emit(f"Versus: no such session file {missing[0]}", "error")
            return False
        self._budget_labels = {}
        self._asked = budgets
        self.progress.setFormat("loading the encoder and data…")
        columns = 2 + len(self.versus_paths())
        self.progress.setRange(0, columns * len(budgets) * self.epochs_spin.value())
        self.progress.setValue(0)
        self.comparison_requested.emit(path, budgets, self.epochs_spin.value(),
                                       self.freeze_check.isChecked())
        return True

    def stop(self) -> None:
        if self.running:
            self.stop_requested.emit()
            self.progress.setFormat("stopping after this batch…")

    def is_running(self) -> bool:
        return self.running

    # -- the classifier runs of the model ------------------------------------------------------
    def on_job_started(self, job) -> None:
        if job.kind != "finetune":
            return
        source = json.loads(job.spec_json).get("source", {}).get("description", "the encoder")
        self.status.setText(f"Classifier on the code of the {source}.")
        self.on_reset()

    def on_reset(self) -> None:
        """Show the classifier runs the model holds (none after a reset)."""
        self._features_shown_for = None   # the same file name may come back retrained
        runs = self.run_model.classifier_runs()
        budgets = list(dict.fromkeys(int(p.meta.get("budget", 0)) for p in self.run_model.plan
                                     if p.role == "classifier"))
        # As asked ("all" kept): by this window, or as the stored job says.
        asked = self._asked if self.running and self._asked else self._stored_budgets(budgets)
        inits = tuple(self._stored_spec().get("columns") or INITS)
        self.accuracy.begin(asked, inits)
        if len(inits) > 2:   # a column per encoder: give the table the room
            self.bottom_split.setSizes([400, 320, 350])
        frozen = any(r.config.classifier and r.config.classifier.freeze for r in runs)
        self.table.begin("encoder frozen (linear probe)" if frozen else "encoder fine-tuned too",
                         inits)
        if not runs and not self.running:
            self.table.note.setText("No comparison for the encoder on display yet: Run "
                                    "comparison fills this table.")
        self.confusion.clear()
        if not self.running:
            self._show_stored_settings()
        self._budget_labels = {b: self.accuracy.label(b) for b in budgets}
        for run in runs:
            self.on_run_changed(run)
        self._update_progress()
        self._show_encoder()

    def _stored_spec(self) -> dict:
        spec = self.run_model.jobs.get("finetune", ("{}", []))[0]
        try:
            return json.loads(spec)
        except ValueError:
            return {}

    def _stored_budgets(self, budgets: list[int]) -> list:
        """The stored comparison's budgets as asked: ``"all"`` where it was asked for."""
        names = [str(n) for n in self._stored_spec().get("budgets", [])]
        if len(names) != len(budgets):
            return budgets
        return ["all" if n == "all" else b for n, b in zip(names, budgets)]

    def _show_stored_settings(self) -> None:
        """The settings a stored comparison was run with (to run it again, or otherwise)."""
        spec = self._stored_spec()
        if not spec.get("budgets"):
            self.status.setText("")
            return
        self.budgets_edit.setText(", ".join(str(n) for n in spec["budgets"]))
        template = spec.get("template") or {}
        epochs = (template.get("optim") or spec.get("classifier") or {}).get("epochs")
        if epochs:
            self.epochs_spin.setValue(int(epochs))
        freeze = (template.get("classifier") or spec.get("classifier") or {}).get("freeze")
        self.freeze_check.setChecked(bool(freeze))
        source = spec.get("source", {}).get("description") or "the encoder"
        where = Path(self.run_model.session_path).name if self.run_model.session_path else ""
        self.status.setText(f"Comparison stored in {where}: classifier on the code of the "
                            f"{source}.")

    def on_run_added(self, run: RunState) -> None:
        self.on_run_changed(run)

    def on_run_changed(self, run: RunState) -> None:
        if not run.is_classifier:
            self._show_encoder()
        if not run.is_classifier or run.config is None:
            return
        init, budget = str(run.plan.meta.get("init")), int(run.plan.meta.get("budget", 0))
        if budget not in self._budget_labels:
            self._budget_labels[budget] = self.accuracy.label(budget)
        label = self._budget_labels[budget]
        self.accuracy.set_run(init, budget, run.val.get("accuracy", {}),
                              run.train.get("accuracy", {}))
        self.table.add_budget(budget, label.replace(" labels", ""))
        frozen = bool(run.config.classifier and run.config.classifier.freeze)
        self.table.set_mode("encoder frozen (linear probe)" if frozen else
                            "encoder fine-tuned too")   # no longer "no comparison yet"
        self.confusion.set_label_names(run.data.label_names if run.data else None)
        if run.status in ("completed", "stopped", "failed"):
            acc = run.val.get("accuracy", {})
            final = acc[max(acc)] if acc and run.status == "completed" else math.nan
            self.table.set_accuracy(init, budget, final)
            if run.epochs:
                try:
                    confusion = run.snapshot(run.epochs[-1]).arrays.get("confusion")
                except Exception:  # noqa: BLE001 - a damaged epoch: the rest still shows
                    confusion = None
                if confusion is not None:
                    self.confusion.add_run((init, budget), confusion, f"{init}, {label}")
        self._update_progress()

    def _update_progress(self) -> None:
        runs = self.run_model.classifier_runs()
        done = sum(r.last_epoch for r in runs)
        planned = sum(int(p.meta.get("epochs", 0)) for p in self.run_model.plan
                      if p.role == "classifier") or sum(r.planned_epochs for r in runs)
        if not runs:
            if not self.running:
                self.progress.setRange(0, 100)
                self.progress.setValue(0)
                self.progress.setFormat("ready")
            return
        self.progress.setRange(0, max(1, planned))
        self.progress.setValue(min(done, max(1, planned)))
        live = [r for r in runs if r.status == "running"]
        if live:
            r = live[-1]
            # Short enough for the bar's width: a longer text was cut off at both ends.
            budget = self._budget_labels.get(int(r.plan.meta.get("budget", 0)))
            self.progress.setFormat(f"{r.plan.meta.get('init')} · {budget} · %v/%m epochs")
            self.progress.setToolTip(f"Training the classifier from the {r.plan.meta.get('init')}"
                                     f" encoder on {budget}: %v of %m classifier epochs of "
                                     f"the comparison done".replace("%v", str(done))
                                     .replace("%m", str(planned)))
        elif not self.running:
            states = {r.status for r in runs}
            word = "finished" if states == {"completed"} else "stopped" if "stopped" in states \
                else "failed" if "failed" in states else "stored"
            self.progress.setFormat(f"comparison {word}")

    def finished(self, outcome: str | None) -> None:
        """The comparison ended: say what it found, and where it is kept."""
        self._update_progress()
        if self.run_model.session_path is not None and self.run_model.classifier_runs():
            self.status.setText(self.status.text() + f" Its runs are kept in "
                                f"{Path(self.run_model.session_path).name}.")
        runs = {(str(r.plan.meta.get("init")), int(r.plan.meta.get("budget", 0))): r
                for r in self.run_model.classifier_runs()}
        budgets = sorted({b for _, b in runs})
        if outcome != "completed" or not budgets:
            return
        b = budgets[0]
        inits = self.table.inits
        acc = {init: runs[(init, b)].val.get("accuracy", {}) for init in inits
               if (init, b) in runs}
        final = {init: (a[max(a)] if a else math.nan) for init, a in acc.items()}
        words = " versus ".join(f"{init} {percent(final.get(init, math.nan))}" for init in inits)
        self.message.emit(
            f"Fine-tuning comparison finished. With {self._budget_labels.get(b, b)}: {words} "
            f"validation accuracy (every budget in the table).", "info")
