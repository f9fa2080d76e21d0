"""Loss curves: one curve per objective term, validation dashed, log axis, smoothing.

Data live in growing numpy buffers (:class:`~gui.run.series.SeriesBuffer`);
each update hands pyqtgraph views of them, and pyqtgraph draws only what is
visible (clip to view) at screen resolution (peak downsampling), so a run of
a million steps still pans and zooms smoothly. Redraws are throttled by
their own cost, so a long history never eats the GUI thread.

A regulariser is drawn as it enters the total: ``weight · term``
(:meth:`~engine.models.Model.term_weights`, e.g. "0.001·sparsity"), while
sessions store the unweighted term. Drawn unweighted, a sparse run's L1 sat
far above its reconstruction, as if the penalty dominated.
"""

from __future__ import annotations

import time
from typing import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from engine.data.toy2d import is_point_data
from engine.models import family_class
from gui.panels.loss_series import LossLegend, TermCurves
from gui.run.coalescing import MetricsBatch
from gui.run.following import FollowsModel
from gui.run.model import short_name
from gui.run.series import SeriesBuffer
from gui.style import cache_axes
from gui.widgets.naming import named
from gui.widgets.axes import readable_axis_items
from gui.widgets.placeholder import Placeholder

MAX_REDRAW_SHARE = 0.1   # redraws may use at most this share of the GUI thread's time
MIN_REDRAW_INTERVAL = 1 / 4    # curves need no more: each redraw repaints axes and all curves
LOSS_AXIS_LABEL = "loss per image (nats)"
STAGE_AXIS_LABEL = "loss per stage input (nats)"


class LossCurvesPanel(LossLegend, FollowsModel, QWidget):
    """Live and replayed loss terms against the optimiser step.

    The curves of each term are a :class:`~gui.panels.loss_series.TermCurves`; the legend,
    which terms it lists and the readout under the mouse are
    :class:`~gui.panels.loss_series.LossLegend`'s. In the window it follows the run model
    (:mod:`gui.run.following`).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "lossCurvesPanel", "Loss curves")
        self.plot_widget = named(pg.GraphicsLayoutWidget(), "lossPlot", "Loss curves plot")
        self.plot: pg.PlotItem = self.plot_widget.addPlot(
            row=0, col=0, axisItems=readable_axis_items(integer_x=True))   # whole steps
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setClipToView(True)
        # A grid on the major ticks only: the full grid tripled the paint time (9 ms -> 3 ms).
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setStyle(maxTickLevel=0)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        cache_axes(self.plot)
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", LOSS_AXIS_LABEL)
        self._build_legend()
        self.epoch_line = pg.InfiniteLine(angle=90, movable=False,
                                          pen=pg.mkPen("#7a7a7a", width=1, style=Qt.DashLine),
                                          label="epoch", labelOpts={
                                              "position": 0.95, "color": "#505050",
                                              "fill": (255, 255, 255, 215),
                                              # The label hangs below the top, on the side of
                                              # the line with more room: right of it in the
                                              # plot's left half, left of it in the right half
                                              # (pyqtgraph picks the first anchor in the left
                                              # half). Centred, it was cut off at the edges.
                                              "anchors": [(0, 0), (1, 0)]})
        # Above the curves: behind them, the curves crossed out its label ("epoch 80" at the
        # top right of a GAN's plot); on a white ground it reads over any curve.
        self.epoch_line.setZValue(5)
        self.hover_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#bbbbbb"))
        for line in (self.epoch_line, self.hover_line):
            line.hide()
            self.plot.addItem(line, ignoreBounds=True)
        self.stage_lines: list[pg.InfiniteLine] = []   # where each pretraining stage starts

        self.log_check = named(QCheckBox("Log scale"), "logScaleCheck", "Log scale",
                               "Show the loss axis on a log scale (terms <= 0, like elbo, "
                               "are left out there)")
        self.smooth_slider = named(QSlider(Qt.Horizontal), "smoothingSlider", "Smoothing",
                                   "Exponential moving average of the curves (0 = raw)")
        self.smooth_slider.setRange(0, 99)
        self.smooth_slider.setValue(60)
        self.smooth_slider.setMaximumWidth(160)
        # Re-smoothing a million points takes a few tenths of a second: do it on release,
        # not at every pixel of a drag (the label follows the drag).
        self.smooth_slider.setTracking(False)
        self.smooth_slider.sliderMoved.connect(
            lambda v: self.smooth_label.setText(f"{v / 100:.2f}"))
        self.smooth_label = named(QLabel(), "smoothingValue", "Smoothing value")
        self.note_label = named(QLabel(), "lossNote", "Loss curves note")
        self.note_label.setStyleSheet("color:#666;")
        self.hover_label = named(QLabel(" "), "lossHoverReadout", "Values under the mouse")
        self.hover_label.setStyleSheet("color:#333; font-family: monospace;")
        self.hover_label.setTextInteractionFlags(Qt.TextSelectableByMouse)

        controls = QHBoxLayout()
        controls.addWidget(self.log_check)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Smoothing"))
        controls.addWidget(self.smooth_slider)
        controls.addWidget(self.smooth_label)
        controls.addStretch(1)
        controls.addWidget(self.note_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.hover_label)
        self.placeholder = Placeholder(self.plot_widget, "lossPlaceholder")
        #: the term drawn as "total" too when the two are the same curve (plain, denoising)
        self.same_as_total: str | None = None
        self._legend_entries: list[str] | None = None
        #: term -> the factor it enters ``total`` with (its values are drawn multiplied)
        self.term_weights: dict[str, float] = {}

        self.curves: dict[str, TermCurves] = {}
        self._steps = SeriesBuffer()      # steps of the raw rows, for the hover readout
        self._epochs = SeriesBuffer()
        self._redraw_cost = 0.0
        self._last_redraw = 0.0
        self._redraw_timer = QTimer(self, singleShot=True)
        self._redraw_timer.timeout.connect(lambda: self.redraw(full=False))

        self.log_check.toggled.connect(self._on_log_toggled)
        self.smooth_slider.valueChanged.connect(self._on_smoothing_changed)
        self._hover_proxy = pg.SignalProxy(self.plot.scene().sigMouseMoved, rateLimit=30,
                                           slot=self._on_mouse_moved)
        self._update_smooth_label()
        self.log_check.setChecked(True)

    # -- data in ------------------------------------------------------------------
    @property
    def smoothing(self) -> float:
        return self.smooth_slider.value() / 100.0

    def reset(self, term_names: tuple[str, ...] | list[str],
              axis_label: str = LOSS_AXIS_LABEL) -> None:
        """Forget all data; prepare one curve per term; label the loss axis."""
        self.plot.setLabel("left", axis_label)
        for c in self.curves.values():
            c.remove(self.plot)
        self.legend.clear()
        self.curves = {name: TermCurves(self.plot, name, i, self.smoothing)
                       for i, name in enumerate(term_names)}
        self._legend_entries = None
        self._guess_same_as_total()
        self.user_hidden.clear()
        self.plot.enableAutoRange(x=True)
        self._steps.clear()
        self._epochs.clear()
        self.clear_stage_markers()
        self.epoch_line.hide()
        self.hover_line.hide()
        self.hover_label.setText(" ")
        self.redraw()

    def add_terms(self, term_names: tuple[str, ...] | list[str]) -> None:
        """Add a curve for each term not plotted yet (a later run of a job may bring some)."""
        new = [n for n in term_names if n not in self.curves]
        if not new:
            return
        for name in new:
            self.curves[name] = TermCurves(self.plot, name, len(self.curves), self.smoothing)
        self._guess_same_as_total()
        self.redraw()

    def set_term_weights(self, weights: Mapping[str, float]) -> None:
        """Draw each term of ``weights`` as weight · term from now on (the run that is
        added next; terms not listed enter with weight 1)."""
        self.term_weights = {k: float(v) for k, v in weights.items()}
        self._legend_entries = None
        self.redraw()

    def plan_steps(self, last_step: int) -> None:
        """Fix the step axis at 0..``last_step`` while a run trains towards it.

        The curves then grow across a still axis, which shows how far the run
        has come; and an axis that does not change is painted from its cache,
        not redrawn (with the range following the data, the loss plot's
        repaints cost the training thread a tenth of its speed). Panning or
        zooming takes over as usual; the plot's "A" button or :meth:`reset`
        goes back to following the data.
        """
        self.plot.enableAutoRange(x=False)
        self.plot.setXRange(0, max(1, int(last_step)), padding=0.03)  # room for the '0' label

    def append_rows(self, steps: np.ndarray, epochs: np.ndarray,
                    terms: Mapping[str, np.ndarray]) -> None:
        """Add rows of steps with each term's values (terms missing here are skipped; a
        live run's rows come as a :class:`~gui.run.coalescing.MetricsBatch`)."""
        x = np.asarray(steps, dtype=np.float64)
        self._steps.extend(x, x)
        self._epochs.extend(x, np.asarray(epochs, dtype=np.float64))
        for name, values in terms.items():
            curve = self.curves.get(name)
            if curve is None:
                continue
            y = np.asarray(values, dtype=np.float64) * self.term_weights.get(name, 1.0)
            curve.raw.extend(x, y)
            curve.smooth.extend(x, y)
        same = self.same_as_total
        if same is not None and not np.array_equal(
                np.asarray(terms.get("total", ())), np.asarray(terms.get(same, ())),
                equal_nan=True):
            self.same_as_total = None   # they differ after all: draw both from now on
        self.schedule_redraw()

    def add_validation(self, step: int, values: Mapping[str, float]) -> None:
        """Add one validation point per term at ``step`` (an epoch end)."""
        for name, v in values.items():
            curve = self.curves.get(name)
            if curve is not None:
                w = self.term_weights.get(name, 1.0)
                curve.val.extend(np.array([float(step)]), np.array([float(v) * w]))
        self.schedule_redraw()

    def mark_epoch(self, step: int | None, epoch: int | None = None,
                   text: str | None = None) -> None:
        """Draw the replay marker at ``step`` (None hides it), labelled ``text`` or the epoch."""
        if step is None:
            self.epoch_line.hide()
            return
        self.epoch_line.setValue(float(step))
        if text is None:
            text = f"epoch {epoch}" if epoch is not None else ""
        # Shown first: a hidden line's label ignores setFormat (pyqtgraph updates the text
        # only while visible), so an opened session's marker read just "epoch".
        self.epoch_line.show()
        self.epoch_line.label.setFormat(text)

    def add_stage_marker(self, step: float, text: str) -> None:
        """Mark where a run of a job starts: a vertical line at ``step`` labelled ``text``.

        The runs of a greedy stack share one step axis, one after another; the
        line keeps a stage's curves apart from the previous stage's.
        """
        line = pg.InfiniteLine(
            pos=float(step), angle=90, movable=False,
            pen=pg.mkPen("#333333", width=1.5, style=Qt.DashDotLine), label=text,
            labelOpts={"position": 0.04, "color": "#1a1a1a", "fill": (255, 255, 255, 220),
                       "anchors": [(0, 1), (0, 1)]})   # always right of the line: its stage
        line.setZValue(-4)
        self.plot.addItem(line, ignoreBounds=True)
        self.stage_lines.append(line)
        # A gap in the validation lines: the last point of one stage and the first of the
        # next measure different things (pixels, then codes), so no line joins them.
        for c in self.curves.values():
            if c.val.n:
                c.val.extend(np.array([float(step)]), np.array([np.nan]))

    def clear_stage_markers(self) -> None:
        for line in self.stage_lines:
            self.plot.removeItem(line)
        self.stage_lines = []

    # -- drawing ------------------------------------------------------------------
    def schedule_redraw(self) -> None:
        """Redraw now, or later when redraws have been costly (long histories)."""
        if self._redraw_timer.isActive():
            return
        wait = max(MIN_REDRAW_INTERVAL, self._redraw_cost / MAX_REDRAW_SHARE)
        due = self._last_redraw + wait - time.perf_counter()
        if due <= 0:
            self.redraw(full=False)
        else:
            self._redraw_timer.start(int(due * 1000) + 1)

    def redraw(self, full: bool = True) -> None:
        """Give every curve its data; ``full=False`` skips the unchanged validation points."""
        t0 = time.perf_counter()
        log = self.log_check.isChecked()
        smoothing = self.smoothing > 0
        hidden = []
        shown_before = [c.smooth_item.isVisible() for c in self.curves.values()]
        for c in self.curves.values():
            plottable = not log or c.has_positive()
            if not plottable:
                hidden.append(c.name)
            visible = (plottable and c.name not in self.user_hidden
                       and c.name != self.same_as_total)
            for item in (c.raw_item, c.smooth_item, c.val_item):
                item.setVisible(visible)
            if not visible:
                continue
            # Raw values are faint context behind the smoothed line, or the line itself.
            c.raw_item.setVisible(smoothing)
            c.style_main_line(smoothing)
            c.smooth_item.setData(c.smooth.buffer.x, self._for_axis(
                c.smooth.buffer.y if smoothing else c.raw.y, log))
            if smoothing:
                c.raw_item.setData(c.raw.x, self._for_axis(c.raw.y, log))
            if full or c.val.n != c.val_drawn:  # validation points change once an epoch
                c.val_item.setData(c.val.x, self._for_axis(c.val.y, log))
                c.val_drawn = c.val.n
        self._update_legend(hidden)
        if shown_before != [c.smooth_item.isVisible() for c in self.curves.values()]:
            # A legend sample draws a line or a crossed eye by its curve's visibility, but
            # nothing repaints it when that changes: a live window kept the crossed eyes
            # of the empty curves a run starts with (offscreen grabs repaint everything).
            for sample, _label in self.legend.items:
                sample.update()
        self.note_label.setText(f"{', '.join(hidden)} ≤ 0: not shown on a log axis"
                                if hidden else "")
        self._show_placeholder()
        self._last_redraw = time.perf_counter()
        self._redraw_cost = self._last_redraw - t0

    def _show_placeholder(self) -> None:
        """Axes only once there is something to draw on them (before, a note)."""
        empty = not self.curves
        for side in ("left", "bottom"):
            if self.plot.getAxis(side).isVisible() == empty:
                (self.plot.hideAxis if empty else self.plot.showAxis)(side)
        self.plot.showGrid(x=not empty, y=not empty, alpha=0.2)
        self.placeholder.show_text("Loss curves appear here when training starts: one "
                                   "curve per term of the objective." if empty else "")

    @staticmethod
    def _for_axis(y: np.ndarray, log: bool) -> np.ndarray:
        # pyqtgraph would take log10 of non-positive values and warn; NaN gaps are explicit.
        return np.where(y > 0, y, np.nan) if log and len(y) and (y <= 0).any() else y

    # -- controls -----------------------------------------------------------------
    def _on_log_toggled(self, on: bool) -> None:
        self.plot.setLogMode(y=on)
        self.redraw()

    def _on_smoothing_changed(self, _value: int) -> None:
        self._update_smooth_label()
        w = self.smoothing
        for c in self.curves.values():
            c.smooth.rebuild(c.raw.x, c.raw.y, w)
        self.redraw()

    def _update_smooth_label(self) -> None:
        self.smooth_label.setText(f"{self.smoothing:.2f}")

    # -- following the run model -----------------------------------------------------
    # A job's runs lie one after another on the step axis: each run's steps are shifted
    # by its ``step_offset`` (the model's), and a marker names where each begins.
    def on_reset(self) -> None:
        self.reset((), STAGE_AXIS_LABEL if self.run_model.shows_stages else LOSS_AXIS_LABEL)

    def on_run_added(self, run) -> None:
        if run.is_classifier:
            return
        model, cfg = self.run_model, run.config
        if model.shows_stages:
            self.plot.setLabel("left", STAGE_AXIS_LABEL)
        else:
            if is_point_data(run.data.image_shape):   # nats per 2-D point, not per image
                self.plot.setLabel("left", LOSS_AXIS_LABEL.replace("image", "point"))
            self.log_check.setChecked(family_class(cfg).traits(cfg).log_loss)
        self.set_term_weights(family_class(cfg).term_weights(cfg))
        self.add_terms(run.term_names)
        if len(model.training_runs()) > 1 or model.shows_stages:
            self.add_stage_marker(run.step_offset, short_name(run.plan))
        if run.stored is None:
            return self.plan_steps(model.planned_steps())
        h, eh = run.stored.history, run.stored.epoch_history
        if len(h.get("step", ())):
            self.append_rows(h["step"] + run.step_offset, h["epoch"] + run.epoch_offset,
                             {k: h[k] for k in run.term_names if k in h})
        for i, step in enumerate(eh.get("step", [])):
            self.add_validation(int(step) + run.step_offset, {
                k: float(v[i]) for k, v in eh.get("val", {}).items() if np.isfinite(v[i])})
        self.redraw()

    def on_metrics(self, run, batch: MetricsBatch) -> None:
        if not run.is_classifier:
            self.append_rows(batch.steps + run.step_offset, batch.epochs + run.epoch_offset,
                             batch.terms)

    def on_validation(self, run, step: int, values) -> None:
        if not run.is_classifier:
            self.add_validation(step + run.step_offset, values)

    def on_position(self, run, epoch: int) -> None:
        self.mark_epoch(run.snapshot(epoch).step + run.step_offset,
                        text=self.run_model.describe(run.epoch_offset + epoch))
