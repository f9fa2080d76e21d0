"""Sessions that keep weights at some epochs only, replayed in the window, and the session
folder the user sees and controls: what it holds (lessons too), a budget, a warning."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtWidgets import QWidget

from engine.session import Session
from tests.gui.conftest import tiny_config, train_and_wait

EPOCHS = 4


def _one_slot_session(qtbot, window):
    """A 4-epoch run whose session keeps the weights of epoch 1 only (and its last epoch's
    in the checkpoint): a budget smaller than one set of weights."""
    window.preferences.weights_budget = 1
    window.model.weights_budget = 1
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": EPOCHS}))
    path = window.model.session_path
    with Session.open(path) as s:
        assert s.run().weight_epochs == [1, EPOCHS]
    return path


def test_live_weights_are_thinned_as_the_session_keeps_them(qtbot, window):
    _one_slot_session(qtbot, window)
    run = window.model.shown_run
    with_weights = sorted(e for e, s in run.live.items() if s.weights)
    assert with_weights == [1, EPOCHS]           # not a copy of the weights per epoch
    assert run.weights_epoch(2) == run.weights_epoch(3) == 1
    assert run.cpu_model(3) is run.cpu_model(2) is run.cpu_model(1)   # one copy, shared
    assert run.weights_note(3) == "decoding with the weights of epoch 1"
    assert run.weights_note(EPOCHS) == "" and run.decoder(3).weights_epoch == 1


def test_replay_at_an_epoch_without_weights_says_which_epoch_decodes(
        qtbot, window, preferences, tmp_path):
    from gui.windows.main_window import MainWindow
    path = _one_slot_session(qtbot, window)
    other = MainWindow(preferences)
    qtbot.addWidget(other)
    other.resize(1366, 768)
    other.show()
    assert other.open_session(path)
    explorer = other.explorer_panel
    assert other.views.displayed_epoch == EPOCHS and explorer.weights_label.isHidden()
    other.timeline_panel.slider.setValue(0)                  # epoch 1: its own weights
    at_one = explorer.decoded_image.copy()
    assert explorer.weights_label.isHidden()
    other.timeline_panel.slider.setValue(2)                  # epoch 3: none of its own
    assert other.views.displayed_epoch == 3 and other.recon_panel.snapshot.epoch == 3
    assert explorer.weights_label.isVisible()
    assert explorer.weights_label.text() == "decoding with the weights of epoch 1"
    np.testing.assert_array_equal(explorer.decoded_image, at_one)   # epoch 1's decoder
    # ...while the epoch's own codes are on the map (every epoch replays in every view)
    with Session.open(path) as s:
        codes = s.run().snapshot(3).arrays["map_latents"]
    np.testing.assert_array_equal(explorer.snapshot.arrays["map_latents"], codes)
    assert "decoding with the weights of epoch 1" in other.samples_panel.caption.text()
    explorer.grab().save(str(tmp_path / "explorer-epoch-3.png"))
    # The code views say it too: the noise slider and the drawing pad.
    views = other.code_views
    other.tabs.setCurrentWidget(views.page)
    views.pages.setCurrentIndex(2)
    noise = views.page.findChild(QWidget, "noiseLevel")
    qtbot.waitUntil(lambda: noise.epoch == 3 and noise.recon is not None)
    assert noise.caption.text().startswith("epoch 3 (decoding with the weights of epoch 1): ")
    views.pages.setCurrentIndex(3)
    pad = views.page.findChild(QWidget, "drawingPad")
    qtbot.waitUntil(lambda: pad.epoch == 3)
    pad.canvas.stroke([(5.0, 14.0), (14.0, 10.0), (23.0, 14.0)])
    qtbot.waitUntil(lambda: pad.code is not None)
    pad.encode()
    assert pad.caption.text().startswith("epoch 3 (decoding with the weights of epoch 1): ")
    model = other.model.shown_run.cpu_model(1)
    with torch.inference_mode():
        want = model.encode_mean(torch.from_numpy(pad.drawing())).numpy()[0]
    np.testing.assert_allclose(pad.code, want, atol=1e-6)


def test_the_folder_counts_lessons_and_a_lesson_folder_can_be_deleted(qtbot, window):
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": 1}))
    folder = window.preferences.session_folder
    lesson = folder / "lessons" / "undercomplete"
    lesson.mkdir(parents=True)
    (lesson / "narrow.h5").write_bytes(b"x" * 40_000)
    (lesson / "undercomplete.png").write_bytes(b"y" * 10_000)
    (lesson / "claim.json").write_bytes(b"{}")
    window.sessions.update_folder_label()
    text = window.sessions.folder_label.text()
    assert "(1 session, 1 lesson, " in text and " of 2.0 GB)" in text
    dialog = window.manage_sessions()
    qtbot.addWidget(dialog)
    names = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert "lessons/undercomplete/" in names
    total = sum(s.size for s in dialog.sessions)
    assert total >= 50_002 + window.model.session_path.stat().st_size
    row = names.index("lessons/undercomplete/")
    assert dialog.sessions[row].size == 50_002
    dialog.table.selectRow(row)
    assert dialog.delete_selected() == [lesson] and not lesson.exists()
    assert window.model.session_path.exists()
    assert "1 lesson" not in window.sessions.folder_label.text()


def test_a_run_that_would_pass_the_budget_says_so_and_offers_manage(qtbot, window):
    window.preferences.folder_budget = 20_000     # less than one small session
    old = window.preferences.session_folder / "20200101-000000-old.h5"
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_bytes(b"x" * 15_000)
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": 1}))
    banner = window.banner       # said as the run started, and again beside its outcome
    assert "Training completed at epoch 1." in banner.text(), banner.text()
    assert "past your budget of 20.0 KB" in banner.text(), banner.text()
    assert banner.action_button.isVisible() and banner.action_button.text() == "Manage…"
    assert old.exists()                            # nothing deleted by itself
    assert "over your budget" in window.sessions.folder_label.text()
    banner.action_button.click()
    dialog = window.findChild(QWidget, "sessionFolderDialog")
    assert dialog is not None and dialog.isVisible()
    dialog.folder_budget_spin.setValue(5)           # GB
    assert window.preferences.folder_budget == 5_000_000_000
    assert "of 5.0 GB" in dialog.summary.text()
    dialog.folder_budget_spin.setValue(0)           # no budget
    assert window.preferences.folder_budget == 0
    dialog.weights_budget_spin.setValue(12.5)
    assert window.preferences.weights_budget == 12_500_000
    assert window.model.weights_budget == 12_500_000
    assert "over your budget" not in window.sessions.folder_label.text()
    dialog.close()


def test_no_warning_under_the_budget(qtbot, window):
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": 1}))
    assert "budget" not in window.banner.text()
