"""The window's sample quality view, the drawn distribution and slow motion (issue 20, 5 and 6)."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from engine.presets import load_preset
from gui.run.controller import PAUSED
from tests.gui.conftest import train_and_wait


def points(preset: str, **over):
    return load_preset(preset).with_overrides({
        "data.n_points": 400, "data.n_probe": 64, "optim.batch_size": 64, "optim.epochs": 3,
        **over})


def _quality_tab(window):
    window.tabs.setCurrentWidget(window.generative_panel)
    return window.generative_panel.quality


def test_the_views_exist_under_their_object_names(window):
    assert window.findChild(QWidget, "sampleQuality") is window.generative_panel.quality
    draw = window.findChild(QWidget, "drawDistribution")
    assert draw is window.settings_panel.draw_panel
    for name in ("stepButton", "slowMotionCheck", "slowMotionRateSpin", "drawUndoButton",
                 "drawClearButton", "sampleQualityFidPlot"):
        child = window.findChild(QWidget, name)
        assert child is not None and child.accessibleName(), name


def test_sample_quality_fills_in_during_a_run_and_follows_replay(qtbot, window):
    window.settings_panel.set_config(points("gan-toy", **{"optim.epochs": 300}))
    # Pause the live run once two epochs are in: the view must show them then.
    window.model.snapshot_added.connect(
        lambda run, epoch: window.controller.pause() if epoch >= 2 else None)
    qtbot.mouseClick(window.controls_panel.train_button, Qt.LeftButton)
    panel = _quality_tab(window)          # Train shows the Training tab: come back here
    try:
        qtbot.waitUntil(lambda: window.controller.state == PAUSED, timeout=30_000)
        run = window.model.live_run
        qtbot.waitUntil(lambda: len(panel.series[0]) == len(run.epochs) >= 2, timeout=10_000)
        assert window.controller.is_running() and panel.showing
        np.testing.assert_allclose(panel.series[1], [run.snapshot(e).arrays["sample_quality"]
                                                     for e in run.epochs])
    finally:
        window.controller.stop()
        qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=30_000)
    last = run.epochs[-1]
    want = np.array([run.snapshot(e).arrays["sample_quality"] for e in run.epochs])
    np.testing.assert_allclose(panel.series[1], want)
    assert panel.showing and f"epoch {last}:" in panel.caption.text()
    assert "data space" in panel.caption.text()
    # 2-D points are points, in the caption and the plot's title (not "images")
    assert "held-out points" in panel.caption.text() and "images" not in panel.caption.text()
    assert "held-out points" in panel.fid_widget.getPlotItem().titleLabel.text
    window.model.select(1)                              # the replay slider (drawn next pass)
    qtbot.waitUntil(lambda: panel.caption.text().startswith("epoch 1:"))
    assert panel.epoch_lines[0].value() == 1
    assert f"FID {float(want[0][0]):.3g}" in panel.caption.text()


def test_sample_quality_says_why_it_does_not_apply(qtbot, window):
    panel = window.generative_panel.quality
    train_and_wait(qtbot, window, load_preset("plain").with_overrides({
        "data.limit": 300, "data.n_probe": 16, "model.hidden": [32], "optim.epochs": 1}))
    assert not panel.showing and "not variational" in panel.reason.text()
    train_and_wait(qtbot, window, load_preset("gan").with_overrides({
        "data.source": "sprites", "data.n_sprites": 200, "data.n_probe": 16,
        "model.hidden": [32], "optim.epochs": 1}))
    assert not panel.showing and "sprites are not digits" in panel.reason.text()


def test_the_generative_tab_draws_added_sessions_beside_the_run_on_display(qtbot, window):
    paths = []
    for preset in ("vae-toy", "gan-toy"):
        window.new_run()
        train_and_wait(qtbot, window, points(preset, **{"optim.epochs": 2}))
        paths.append(window.model.session_path)
    tab = window.generative_panel
    panel = _quality_tab(window)
    panel.catch_up()                  # the epoch on display, drawn now that the tab is shown
    for p in paths:
        assert tab.add_session(p)
    labels = [label for label, _, _ in panel.compared]
    assert labels == ["vae-toy", "gan-toy"] and len(panel.compared_items) == 6
    assert "thin: vae-toy, gan-toy" in panel.caption.text()
    qtbot.wait(50)   # new cells show at the next pass of the event loop
    cells = [c for c in tab.findChildren(QWidget, "comparisonSampleQuality")
             if c.isVisibleTo(tab)]                     # the columns drawn last
    assert len(cells) == 2 and all("FID" in c.text() for c in cells)


# -- drawing your own distribution ---------------------------------------------------------------

def _drag(panel, path):
    """Press, move and release the left button along ``path`` (data space), as a mouse does."""
    view = panel.plot_widget.viewport()
    at = [panel.plot_widget.mapFromScene(panel.box.mapViewToScene(pg.Point(*p))) for p in path]

    def send(kind, p, buttons):
        QApplication.sendEvent(view, QMouseEvent(kind, QPointF(p), QPointF(view.mapToGlobal(p)),
                                                 Qt.LeftButton, buttons, Qt.NoModifier))
    send(QEvent.MouseButtonPress, at[0], Qt.LeftButton)
    for p in at[1:]:
        time.sleep(0.02)   # pyqtgraph drops mouse moves closer than its rate limit
        send(QEvent.MouseMove, p, Qt.LeftButton)
        QApplication.processEvents()
    send(QEvent.MouseButtonRelease, at[-1], Qt.NoButton)
    QApplication.processEvents()


def test_drawing_a_distribution_makes_the_training_set_and_it_trains(qtbot, window):
    s = window.settings_panel
    s.load_preset("gan-toy")
    s.source_combo.setCurrentIndex(s.source_combo.findData("drawn"))
    draw = s.draw_panel
    assert draw.isVisible() and s.config() is None and "data.points" in s.errors
    assert not window.controls_panel.train_button.isEnabled()
    t = np.linspace(0, 1, 25)
    _drag(draw, list(zip(0.2 + 0.6 * t, 0.3 + 0.3 * t)))
    _drag(draw, list(zip(0.7 - 0.1 * t, 0.8 - 0.0 * t)))
    assert len(draw.strokes) == 2 and draw.n_points >= 16
    line = draw.strokes[0]
    assert np.all(np.abs((line[:, 1] - 0.3) - 0.5 * (line[:, 0] - 0.2)) < 0.1)   # on the drag
    cfg = s.config()
    assert cfg is not None and cfg.data.source == "drawn"
    assert window.controls_panel.train_button.isEnabled()
    draw.undo()
    assert len(draw.strokes) == 1 and s.config().data.points == draw.text()
    s.widgets["optim.epochs"].setText("2")
    qtbot.mouseClick(window.controls_panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=60_000)
    run = window.model.shown_run
    assert run.status == "completed" and "drawn by hand" in run.data.source
    assert window.views.reconstructions_switch.currentWidget() is window.views.generative.data_space
    # Reopened, the drawing is back in the settings.
    path = window.model.session_path
    draw.clear()
    assert window.open_session(path)
    assert draw.text() == run.config.data.points and len(draw.strokes) == 1


# -- slow motion ------------------------------------------------------------------------------------

def test_step_trains_one_batch_and_every_view_shows_the_model_after_it(qtbot, window):
    try:
        _step_and_slow_motion(qtbot, window)
    finally:   # a failure must not leave a run training (closing would ask first)
        window.controller.shutdown(10_000)


def _step_and_slow_motion(qtbot, window):
    # Long enough that it is still training when the Pause press arrives.
    window.settings_panel.set_config(points("gan-toy", **{"optim.epochs": 300}))
    c = window.controls_panel
    previews = []
    window.model.snapshot_added.connect(
        lambda run, epoch: previews.append(run.live[epoch]) if run.live[epoch].preview else None)
    qtbot.mouseClick(c.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.model.live_run is not None, timeout=20_000)
    qtbot.mouseClick(c.pause_button, Qt.LeftButton)
    run = window.model.live_run
    data_space = window.views.generative.data_space
    for k in (1, 2, 3):
        qtbot.mouseClick(c.step_button, Qt.LeftButton)
        assert window.controller.state == PAUSED
        qtbot.waitUntil(lambda: len(previews) == k, timeout=20_000)
        qtbot.wait(100)
        snap = previews[-1]
        assert run.last_step == snap.step                  # the loss curve has that step
        if k > 1:
            assert snap.step == previews[-2].step + 1      # one batch per press
        # The views show the model after that step (a new epoch within the timeline's
        # follow interval, FOLLOW_INTERVAL_S).
        want = snap.arrays["generated_points"]

        def shows_it():
            shown = data_space.items["generated"].data
            return len(shown) == len(want) and np.allclose(np.c_[shown["x"], shown["y"]],
                                                           want, rtol=1e-6)
        qtbot.waitUntil(shows_it, timeout=5000)
        if run.live[snap.epoch] is snap:   # (an epoch's last step: its own snapshot follows)
            assert f"step {snap.step:,} (in progress)" in window.model.describe(snap.epoch)
    qtbot.wait(300)
    assert len(previews) == 3 and run.last_step == previews[-1].step   # paused again
    c.slow_check.setChecked(True)
    assert window.controller.job.control.slow == pytest.approx(1 / c.slow_spin.value())
    qtbot.mouseClick(c.resume_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(previews) >= 5, timeout=20_000)   # slow: each step shown
    assert [p.step for p in previews[3:5]] == [previews[2].step + 1, previews[2].step + 2]
    c.slow_check.setChecked(False)
    assert window.controller.job.control.slow is None
    qtbot.mouseClick(c.stop_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=60_000)
    assert run.status == "stopped"
