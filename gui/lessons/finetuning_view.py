"""The lessons' ``finetuning`` view: pretrained versus random, and what pretraining learned.

The lessons on unsupervised pretraining (a ``compare`` run beside the
``pretrain`` runs whose encoders it uses) name this view. It has the code
views' interface (:class:`~gui.panels.code_view.CodeViewPanel`) and adapts to
the run of its column:

- a comparison's session (classifier runs): validation accuracy per epoch of
  each initialisation in one plot (a lesson's column is narrow: the Fine-tuning
  tab's plot per initialisation would not fit), up to the replayed epoch, and the
  accuracies there in words;
- a pretraining's session (greedy stages): the first stage's features, each
  first-layer unit's input weights as a picture (:class:`~gui.panels.feature_grid.FeatureGridPanel`)
  — an autoencoder stack's beside an RBM stack's.

Everything is read from the session the column follows (its runs' epoch tables
and the first stage's checkpoint): nothing is computed again.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QStackedWidget

from engine.errors import StudioError
from engine.models import family_class
from engine.pretraining.stack import first_layer_features
from gui.panels.accuracy_curves import INIT_TITLES
from gui.panels.code_view import CodeViewPanel, quiet_plot
from gui.panels.comparison_table import percent
from gui.panels.feature_grid import FeatureGridPanel
from gui.widgets.caption import caption_label
from gui.widgets.axes import readable_axis_items
from gui.widgets.naming import named

#: random last and grey: the baseline the pretrained encoders are measured against
INIT_COLOURS = {"pretrained": "#0072B2", "ae-pretrained": "#0072B2",
                "rbm-pretrained": "#D55E00", "random": "#777777"}
NOT_PRETRAINING = ("Pretrained versus random is a view of a pretraining or of a comparison; "
                   "this run is neither.")


def classifier_runs(session) -> list:
    """The session's classifier runs, in training order."""
    return [r for r in session.runs.values() if r.role == "classifier"]


def accuracy_until(run, epoch: int) -> dict[int, float]:
    """Epoch -> validation accuracy (0..1) of a stored classifier run, up to ``epoch``."""
    eh = run.epoch_history
    values = eh.get("val", {}).get("accuracy")
    if values is None:
        return {}
    return {int(e): float(v) for e, v in zip(eh["epoch"], values) if int(e) <= epoch}


class FineTuningView(CodeViewPanel):
    """Pretrained versus random (see the module docstring)."""

    view_name = "finetuning"
    object_name = "lessonFineTuning"
    title = "Pretrained versus random"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.caption = caption_label("", "lessonFineTuningCaption", "What the view shows",
                                     wrap=True)
        self.accuracy = named(pg.PlotWidget(axisItems=readable_axis_items(integer_x=True)),
                              "lessonAccuracyPlot",
                              "Validation accuracy per epoch, each initialisation")
        plot = self.accuracy.getPlotItem()
        quiet_plot(plot)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setLabel("left", "val. accuracy (%)")
        plot.setLabel("bottom", "epoch")
        plot.setYRange(0, 100, padding=0.02)
        self.legend = plot.addLegend(offset=(-4, 4), labelTextSize="8pt")
        self.features = FeatureGridPanel("lesson")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.accuracy)
        self.pages.addWidget(self.features)
        self.body_layout.addWidget(self.caption)
        self.body_layout.addWidget(self.pages, 1)
        self.final: dict[str, float] = {}     # init -> accuracy at the shown epoch
        self._features_of = None

    def why_not(self, run) -> str:
        if run.stored is None:
            return "Appears when its session is saved."
        roles = {r.role for r in run.stored.session.runs.values()}
        return "" if roles & {"classifier", "stage", "stack"} else NOT_PRETRAINING

    def draw(self, run, epoch, snapshot) -> None:
        session = run.stored.session
        runs = classifier_runs(session)
        if runs:
            self._draw_accuracy(runs, epoch)
        else:
            self._draw_features(session)

    def _draw_accuracy(self, runs: list, epoch: int) -> None:
        self.pages.setCurrentWidget(self.accuracy)
        budget = int(runs[0].meta.get("budget", 0))   # a lesson compares at one budget
        plot = self.accuracy.getPlotItem()
        plot.clear()
        self.legend.clear()
        self.final = {}
        for r in sorted((r for r in runs if int(r.meta.get("budget", 0)) == budget),
                        key=lambda r: str(r.meta.get("init")) == "random"):
            init = str(r.meta.get("init"))
            val = accuracy_until(r, epoch)
            if not val:
                continue
            epochs = np.array(sorted(val))
            colour = INIT_COLOURS.get(init, "#009E73")
            plot.plot(epochs, 100 * np.array([val[e] for e in epochs]),
                      pen=pg.mkPen(colour, width=2), name=INIT_TITLES.get(init, init))
            self.final[init] = val[max(val)]
        words = " · ".join(f"{init} {percent(v)}" for init, v in self.final.items())
        self.caption.setText(f"Validation accuracy with {budget} labels, at epoch {epoch}: "
                             f"{words or 'none yet'}")

    def _draw_features(self, session) -> None:
        self.pages.setCurrentWidget(self.features)
        first = next((r for r in session.runs.values() if r.role == "stage"), None)
        key = (session.path, None if first is None else first.last_step)
        if key == self._features_of:
            return
        self._features_of = key
        features, why = None, "No saved stage yet."
        if first is not None:
            try:
                ck = first.checkpoint()
            except StudioError as e:
                ck, why = None, f"The first stage's weights cannot be read: {e}"
            if ck is not None:
                features = first_layer_features(ck.model, tuple(first.data.image_shape))
                why = "" if features is not None else "The first stage is convolutional."
        what = family_class(first.config).title if first is not None else ""
        self.caption.setText(f"What the {what} stack's first stage learned, without labels: "
                             "each unit's input weights." if features is not None else why)
        self.features.set_features(None if features is None else np.asarray(features),
                                   f"first stage, {0 if features is None else len(features)} "
                                   "units")

    def reset_plots(self) -> None:
        self.accuracy.getPlotItem().clear()
        self.legend.clear()
        self.final = {}
        self._features_of = None
