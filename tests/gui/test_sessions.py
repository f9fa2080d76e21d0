"""Sessions in the window: open, replay, continue, save as, recent list, bad files."""

from __future__ import annotations

import numpy as np

from engine.session import Session
from tests.gui.conftest import tiny_config, train_and_wait


def _trained_session(qtbot, window, epochs: int = 3):
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": epochs}))
    return window.model.session_path


def test_open_session_and_move_the_timeline(qtbot, window, preferences):
    from gui.windows.main_window import MainWindow
    path = _trained_session(qtbot, window)
    other = MainWindow(preferences)
    qtbot.addWidget(other)
    other.show()                       # tabs draw what they show once on screen
    assert other.open_session(path)
    assert other.timeline_panel.epochs == [1, 2, 3]
    assert other.views.displayed_epoch == 3
    assert other.loss_panel.curves["total"].raw.n > 0
    before = other.explorer_panel.decoded_image.copy()
    other.timeline_panel.slider.setValue(0)
    assert other.views.displayed_epoch == 1
    assert other.recon_panel.snapshot.epoch == 1
    assert not np.allclose(before, other.explorer_panel.decoded_image)
    assert str(path.resolve()) in preferences.recent_sessions()
    assert other.settings_panel.config().to_dict() == Session.open(path).run().config.to_dict()
    # The Fine-tuning tab reads the weights of the session on display (held open) again.
    other.tabs.setCurrentWidget(other.finetune_panel)
    features = other.finetune_panel.features
    assert features.features is not None and features.features.shape[1:] == (1, 28, 28)


def test_continue_an_opened_session(qtbot, window):
    path = _trained_session(qtbot, window, epochs=2)
    window.new_run()
    assert window.open_session(path)
    assert window.controls_panel.continue_button.isEnabled()
    window.controls_panel.more_epochs_spin.setValue(1)
    window.controls_panel.continue_button.click()
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=30_000)
    assert "completed" in window.banner.text(), window.banner.text()
    assert window.timeline_panel.epochs == [1, 2, 3]
    with Session.open(path) as session:
        assert session.run().snapshot_epochs == [1, 2, 3]


def test_save_session_as_copies_the_file(qtbot, window, tmp_path):
    path = _trained_session(qtbot, window, epochs=2)
    target = tmp_path / "kept.h5"
    assert window.save_session_as(target)
    with Session.open(target) as session:
        assert session.run().snapshot_epochs == [1, 2]
    assert str(target.resolve()) in window.preferences.recent_sessions()


def test_damaged_session_file_shows_a_message(window, tmp_path):
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    assert not window.open_session(bad)
    assert window.banner.kind == "error" and "broken.h5" in window.banner.text()


def test_command_line_session_opens_in_the_window(qtbot, window, tmp_path, monkeypatch):
    """``python main.py run.h5``: run_app opens the window with that session."""
    from PySide6.QtCore import QSettings

    from gui.app import open_window
    path = _trained_session(qtbot, window, epochs=2)
    # The app uses the user's settings: point them at a temporary folder.
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(fmt, QSettings.UserScope, str(tmp_path / "user-settings"))
    monkeypatch.setenv("HOME", str(tmp_path))
    opened = open_window([str(path)])
    qtbot.addWidget(opened)
    assert opened.timeline_panel.epochs == [1, 2]
    assert path.name in opened.windowTitle()



def test_opened_session_marks_the_displayed_epoch_on_the_loss_plot(qtbot, window, preferences):
    from gui.windows.main_window import MainWindow
    path = _trained_session(qtbot, window, epochs=2)
    other = MainWindow(preferences)
    qtbot.addWidget(other)
    assert other.open_session(path)
    label = other.loss_panel.epoch_line.label
    assert label.toPlainText() == "epoch 2"
    other.timeline_panel.slider.setValue(0)
    assert label.toPlainText() == "epoch 1"


def test_the_session_folder_shows_its_size_and_old_sessions_can_be_deleted(qtbot, window):
    import os
    import time as _time
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": 1}))
    current = window.model.session_path
    folder = window.preferences.session_folder
    old = folder / "20200101-000000-old.h5"
    old.write_bytes(b"x" * 5000)
    (folder / (old.name + ".tmp")).write_bytes(b"y" * 1000)   # a writer's spare beside it
    past = _time.time() - 90 * 86400
    os.utime(old, (past, past))
    window.sessions.update_folder_label()
    text = window.sessions.folder_label.text()
    assert str(folder) in text and "(2 sessions, " in text
    dialog = window.manage_sessions()
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 2
    assert "(open)" in dialog.table.item(0, 0).text()          # the newest: on display
    assert dialog.select_older_than(30) == 1
    assert dialog.delete_selected() == [old]
    assert not old.exists() and not (folder / (old.name + ".tmp")).exists()
    assert "6.0 KB freed" in dialog.status.text()
    dialog.table.selectRow(0)                                   # the session on display
    assert dialog.delete_selected() == [] and current.exists()
    assert "open in the window" in dialog.status.text()
    assert "(1 session," in window.sessions.folder_label.text()


def _format_is_an_array(path, tmp_path):
    import shutil

    import h5py
    bad = tmp_path / "array-format.h5"
    shutil.copyfile(path, bad)
    with h5py.File(bad, "r+") as f:
        f.attrs["format"] = np.array([1, 2, 3])
    return bad


def test_a_format_attribute_that_is_an_array_is_a_message_on_every_way_in(
        qtbot, window, tmp_path, monkeypatch):
    """Open…, the recent-sessions menu and ``python main.py bad.h5`` at start: one message,
    and the window stays usable."""
    from PySide6.QtCore import QSettings

    from gui.app import open_window
    bad = _format_is_an_array(_trained_session(qtbot, window, epochs=1), tmp_path)
    window.new_run()
    assert not window.open_session(bad)
    assert window.banner.kind == "error"
    assert "array-format.h5" in window.banner.text()
    assert "'format' attribute is not text" in window.banner.text()

    window.banner.clear()
    window.preferences.add_recent_session(bad)
    window.menus.rebuild_recent()
    recent = window.menus.recent_menu.actions()[0]
    assert recent.text().endswith("array-format.h5")
    recent.trigger()
    assert "'format' attribute is not text" in window.banner.text()
    assert window.settings_panel.config() is not None   # still ready to train

    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(fmt, QSettings.UserScope, str(tmp_path / "user-settings"))
    monkeypatch.setenv("HOME", str(tmp_path))
    started = open_window([str(bad)])
    qtbot.addWidget(started)
    assert started.isVisible() and started.model.session_path is None
    assert "'format' attribute is not text" in started.banner.text()


def test_a_session_whose_epoch_table_has_no_terms_opens(qtbot, window, tmp_path):
    import shutil

    import h5py
    path = _trained_session(qtbot, window, epochs=2)
    bad = tmp_path / "no-terms.h5"
    shutil.copyfile(path, bad)
    with h5py.File(bad, "r+") as f:
        old = f["runs/main/epochs"][()]
        meta = np.zeros(len(old), [("epoch", "<i8"), ("step", "<i8"), ("wall_time", "<f8")])
        for name in meta.dtype.names:
            meta[name] = old[name]
        del f["runs/main/epochs"]
        f["runs/main/epochs"] = meta
    window.new_run()
    assert window.open_session(bad), window.banner.text()
    assert window.timeline_panel.epochs == [1, 2]
    assert window.loss_panel.curves["total"].raw.n > 0


def test_continuing_a_checkpoint_with_nan_weights_says_the_file_is_damaged(qtbot, window,
                                                                          tmp_path):
    import shutil

    import h5py
    path = _trained_session(qtbot, window, epochs=1)
    bad = tmp_path / "nan.h5"
    shutil.copyfile(path, bad)
    with h5py.File(bad, "r+") as f:
        g = f["runs/main/checkpoint/model"]
        g[sorted(g)[0]][...] = np.nan
    window.new_run()
    assert window.open_session(bad)
    window.controls_panel.more_epochs_spin.setValue(1)
    window.controls_panel.continue_button.click()
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=30_000)
    text = window.banner.text()
    assert window.banner.kind == "error"
    assert "NaN or infinite values: the file is damaged" in text, text
    assert "learning rate" not in text
    with Session.open(bad) as s:
        assert s.run().epochs_trained == 1
