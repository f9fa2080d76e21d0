"""Training from the window: live curves, reconstructions, the map, steering, failures."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt

from engine.session import Session
from tests.gui.conftest import tiny_config, train_and_wait


def test_train_shows_curves_reconstructions_and_latent_map(qtbot, window):
    train_and_wait(qtbot, window, tiny_config())
    assert "completed" in window.banner.text()
    total = window.loss_panel.curves["total"]
    assert total.raw.n >= 8 and np.isfinite(total.raw.y).all()
    assert total.val.n == 2                         # one validation point per epoch
    recon = window.recon_panel
    assert recon.snapshot is not None and recon.snapshot.epoch == 2
    assert recon.image_item.image is not None and recon.image_item.image.std() > 0
    explorer = window.explorer_panel
    assert len(explorer.scatter.data) == len(explorer.snapshot.arrays["map_latents"]) > 0
    assert explorer.decoded_image is not None
    assert window.timeline_panel.epochs == [1, 2]
    loss = window.loss_panel
    assert loss.show_readout_at(3).startswith("step 3")
    assert "elbo" in loss.note_label.text()        # negative: left out of the log axis
    loss.log_check.setChecked(False)
    assert loss.note_label.text() == "" and loss.curves["elbo"].smooth_item.isVisible()
    # The run was saved where the status bar says.
    path = window.model.session_path
    assert path.parent == window.preferences.session_folder
    assert str(path) in window.sessions.session_label.text()
    with Session.open(path) as session:
        s = session.run()
        assert s.snapshot_epochs == [1, 2] and s.status == "completed"


def test_dragging_the_marker_changes_the_decoded_image(qtbot, window):
    train_and_wait(qtbot, window, tiny_config())
    explorer = window.explorer_panel
    explorer.move_marker(-2.5, -2.5)
    before = explorer.decoded_image.copy()
    with qtbot.waitSignal(explorer.decoded, timeout=1000):
        explorer.move_marker(2.5, 2.5)
    assert not np.allclose(before, explorer.decoded_image)
    pin = explorer.pin_point(0)
    assert pin is not None and explorer.pins_pane.image_item.image is not None


def test_replay_timeline_shows_an_earlier_epoch(qtbot, window):
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": 3}))
    recon_last = window.recon_panel.snapshot.images["probe_recon"]
    window.timeline_panel.slider.setValue(0)
    assert window.views.displayed_epoch == 1
    assert window.recon_panel.snapshot.epoch == 1
    assert not np.allclose(recon_last, window.recon_panel.snapshot.images["probe_recon"])
    line = window.loss_panel.epoch_line
    assert line.isVisible() and line.value() == window.recon_panel.snapshot.step
    window.timeline_panel.play_button.click()           # plays through to the last epoch
    qtbot.waitUntil(lambda: window.views.displayed_epoch == 3, timeout=5000)
    qtbot.waitUntil(lambda: not window.timeline_panel.play_button.isChecked(), timeout=5000)


def test_stop_ends_the_run_within_a_second(qtbot, window):
    window.settings_panel.set_config(tiny_config(**{"optim.epochs": 500}))
    window.train()
    qtbot.waitUntil(lambda: bool(window.loss_panel.curves)
                    and window.loss_panel.curves["total"].raw.n > 0, timeout=15_000)
    t0 = time.perf_counter()
    qtbot.mouseClick(window.controls_panel.stop_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=1000)
    assert time.perf_counter() - t0 < 1.0
    assert "stopped" in window.banner.text()
    assert window.controls_panel.train_button.isEnabled()
    # The step axis spanned the planned run, not only the steps taken so far.
    loss = window.loss_panel
    planned = 500 * window.model.training_runs()[0].data.n_train // 64
    assert loss.plot.viewRange()[0][1] >= planned > 10 * loss.curves["total"].raw.x.max()
    loss.reset(["total"])                              # the next run follows its data again
    assert loss.plot.getViewBox().autoRangeEnabled()[0]


def test_pause_holds_training_and_resume_continues(qtbot, window):
    window.settings_panel.set_config(tiny_config(**{"optim.epochs": 500}))
    window.train()
    total = lambda: window.loss_panel.curves["total"].raw.n  # noqa: E731
    qtbot.waitUntil(lambda: bool(window.loss_panel.curves) and total() > 0, timeout=15_000)
    qtbot.mouseClick(window.controls_panel.pause_button, Qt.LeftButton)
    assert window.controls_panel.resume_button.isEnabled()
    assert "paused" in window.controls_panel.progress.format()
    qtbot.wait(300)                          # let the last pre-pause steps arrive
    held = total()
    qtbot.wait(400)
    assert total() == held                   # nothing trains while paused
    qtbot.mouseClick(window.controls_panel.resume_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: total() > held, timeout=5000)
    window.controller.stop()
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=5000)


def test_diverging_run_shows_its_message_and_the_app_stays_usable(qtbot, window):
    train_and_wait(qtbot, window, tiny_config(**{"optim.optimizer": "sgd", "optim.lr": 10.0}))
    assert window.banner.kind == "error"
    assert "non-finite" in window.banner.text() and "learning rate" in window.banner.text()
    assert window.controls_panel.train_button.isEnabled()
    train_and_wait(qtbot, window, tiny_config())
    assert "completed" in window.banner.text()


def test_bad_data_file_shows_its_message(qtbot, window, tmp_path):
    bad = tmp_path / "digits.npy"
    bad.write_bytes(b"this is not a numpy file")
    train_and_wait(qtbot, window, tiny_config(**{"data.source": "file", "data.path": str(bad)}))
    assert window.banner.kind == "error" and "digits.npy" in window.banner.text()
    assert window.controls_panel.train_button.isEnabled()


def _answer_the_close_question(button: str, answered: list) -> None:
    """Click ``button`` of the confirmation box as soon as it is up (it is modal)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        answered.append(box.text())
        box.findChild(QPushButton, button).click()
    QTimer.singleShot(0, click)


def test_closing_mid_training_asks_then_stops_and_keeps_the_session(qtbot, window):
    window.settings_panel.set_config(tiny_config(**{"optim.epochs": 500}))
    window.train()
    qtbot.waitUntil(lambda: len(window.timeline_panel.epochs) >= 1, timeout=15_000)
    path = window.model.session_path
    asked: list = []
    _answer_the_close_question("keepTrainingButton", asked)
    assert not window.close()                       # "Keep training": nothing happens
    assert asked == ["Stop training and close Autoencoder Studio?"]
    assert window.isVisible() and window.controller.is_running()
    _answer_the_close_question("stopAndCloseButton", asked)
    assert window.close()
    assert len(asked) == 2 and not window.isVisible()
    assert not window.controller.is_running() or not window.controller.job.is_running()
    with Session.open(path) as session:
        s = session.run()
        assert s.status == "stopped" and s.checkpoint() is not None


def test_closing_when_idle_asks_nothing(qtbot, window):
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": 1}))
    assert window.close() and not window.isVisible()
