"""Plots a user can read at 1366x768 (issue 21 item 10): log ticks that keep apart (a GAN's
losses), whole-number step and epoch ticks, the replay marker's "epoch N" inside the plot."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPainter

from tests.engine.session_support import record_run, single_torch_thread, tiny_config
from tests.gui.conftest import tiny_config as gui_tiny, train_and_wait


def drawn_labels(axis) -> list[tuple[float, str]]:
    """(centre along the axis in pixels, text) of each tick label the axis draws."""
    image = QImage(10, 10, QImage.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    vertical = axis.orientation in ("left", "right")
    return sorted((r.center().y() if vertical else r.center().x(), text)
                  for r, _flags, text in specs[2])


def _gan_losses(n: int = 8000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    steps = np.arange(1, n + 1, dtype=float)
    return {"total": 1.2 + 0.05 * rng.standard_normal(n), "generator": 0.7 + 0.05 * rng.random(n),
            "d_real": 0.5 + 0.05 * rng.random(n), "d_fake": 0.42 + 0.05 * rng.random(n)}, steps


def test_a_gans_log_loss_axis_labels_keep_apart(qtbot):
    from gui.panels.loss_curves import LossCurvesPanel
    panel = LossCurvesPanel()
    qtbot.addWidget(panel)
    panel.resize(530, 280)                 # its size in the window at 1366x768
    panel.show()
    terms, steps = _gan_losses()
    panel.reset(tuple(terms))
    panel.append_rows(steps, np.ceil(steps / 57), terms)
    panel.redraw()
    qtbot.wait(50)
    left = drawn_labels(panel.plot.getAxis("left"))
    assert len(left) >= 2, left
    gaps = np.diff([y for y, _ in left])
    assert gaps.min() >= 20, left          # before: "1 0.9 0.8 0.7 0.6 0.5 0.4", 12 px apart
    bottom = drawn_labels(panel.plot.getAxis("bottom"))
    assert all(float(t.replace("−", "-")) == int(float(t.replace("−", "-")))
               for _, t in bottom), bottom


def _whole(labels) -> bool:
    return all(abs(float(t.replace("−", "-")) - round(float(t.replace("−", "-")))) < 1e-9
               for _, t in labels)


@pytest.fixture(scope="module")
def two_short_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readable")
    with single_torch_thread():
        record_run(folder / "a.h5", tiny_config("vae-2d", epochs=2))
        record_run(folder / "b.h5", tiny_config("vae-2d", epochs=2, seed=5))
    return folder


def test_epoch_and_step_axes_show_whole_numbers(qtbot, window, two_short_runs):
    from gui.windows.compare_window import open_comparison
    w = open_comparison([two_short_runs / "a.h5", two_short_runs / "b.h5"])
    qtbot.addWidget(w)
    qtbot.wait(50)
    for term, plot in w.curves.plots.items():
        labels = drawn_labels(plot.getAxis("bottom"))
        assert labels and _whole(labels), (term, labels)      # not 1.2, 1.4, …
    assert window.open_session(two_short_runs / "a.h5")
    window.loss_panel.plot.setXRange(0, 3, padding=0)          # a few steps: 0.5, 1.5 before
    qtbot.wait(50)
    labels = drawn_labels(window.loss_panel.plot.getAxis("bottom"))
    assert len(labels) >= 2 and _whole(labels), labels


def test_the_epoch_marker_label_stays_inside_the_plot(qtbot, window):
    train_and_wait(qtbot, window, gui_tiny(**{"optim.epochs": 3}))
    plot = window.loss_panel.plot
    qtbot.wait(50)
    for index in (2, 1, 0):                 # the last epoch (the right edge), then back
        window.timeline_panel.slider.setValue(index)
        qtbot.wait(30)
        label = window.loss_panel.epoch_line.label
        assert label.toPlainText().startswith("epoch"), label.toPlainText()
        inside = plot.vb.sceneBoundingRect()
        assert inside.contains(label.sceneBoundingRect()), (index, label.sceneBoundingRect(),
                                                            inside)
    # Not under the curves: the line (and its label, its child) is stacked above every
    # curve, and the label has a ground of its own.
    line = window.loss_panel.epoch_line
    assert line.zValue() > max(item.zValue() for item in plot.listDataItems())
    assert label.fill.color().alpha() > 128


def test_lesson_image_grids_are_readable_at_1366x768(qtbot, preferences, tmp_path):
    """Three runs side by side: digits were ~15 px and the caption read "Epoch 10: click an i"."""
    from engine.lessons import load_lessons
    from gui.lessons.lesson_window import LessonWindow
    lesson = next(x for x in load_lessons() if x.name == "vae-tension")
    w = LessonWindow(lesson, preferences, out_dir=tmp_path / "lesson", tiny=True)
    qtbot.addWidget(w)
    w.show()
    with single_torch_thread():
        assert w.run()
        qtbot.waitUntil(lambda: not w.is_running(), timeout=120_000)
    qtbot.wait(100)
    views = w.columns.views("reconstructions")
    assert len(views) == 3
    for view in views:
        panel = view.panel
        shown = panel.image_item.mapRectToDevice(panel.image_item.boundingRect())
        mosaic_width = panel.image_item.image.shape[1]
        digit = shown.width() / mosaic_width * 28
        assert digit >= 26, digit                     # about the digits' own size (28)
        caption = panel.caption
        assert caption.text().startswith("Epoch")
        assert caption.fontMetrics().horizontalAdvance(caption.text()) <= caption.width(), \
            (caption.text(), caption.width())
    for view in w.columns.views("samples"):
        item = view.panel.pane.image_item
        shown = item.mapRectToDevice(item.boundingRect())
        assert shown.width() / item.image.shape[1] * 28 >= 24
