"""The Fine-tuning tab: pretrained vs random comparisons, confusion matrix, feature grid."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from engine.session import Session
from gui.panels.feature_grid import FeatureGridPanel
from tests.gui.conftest import tiny_config, train_and_wait
from tests.gui.test_gui_pretraining import tiny_pretraining


def _run_comparison(qtbot, window, budgets: str, epochs: int, timeout: int = 30_000) -> None:
    panel = window.finetune_panel
    panel.budgets_edit.setText(budgets)
    panel.epochs_spin.setValue(epochs)
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=timeout)


def test_comparison_on_the_pretrained_stack_shows_curves_table_and_confusion(qtbot, window):
    train_and_wait(qtbot, window, tiny_pretraining())
    panel = window.finetune_panel
    _run_comparison(qtbot, window, "20, all", epochs=2)
    assert "comparison finished" in window.banner.text().lower(), window.banner.text()
    # Both initialisations for both budgets, two epochs each, one colour per budget.
    curves = panel.accuracy.series
    assert sorted(curves) == [("pretrained", 20), ("pretrained", 270), ("random", 20),
                              ("random", 270)]
    for s in curves.values():
        x, y = s.val_item.getData()
        assert list(x) == [1, 2] and 0 <= y.min() <= y.max() <= 100
    assert curves[("pretrained", 20)].val_item.opts["pen"].color() == \
        curves[("random", 20)].val_item.opts["pen"].color()
    assert len(panel.accuracy.legend.items) == 2
    table = panel.table
    assert table.table.rowCount() == 2 and table.cell(1, "labels") == "all (270)"
    for row in range(2):
        for column in ("pretrained", "random"):
            assert table.cell(row, column).endswith("%")
    confusion = panel.confusion
    assert confusion.run_combo.count() == 4
    assert confusion.matrix.shape == (10, 10) and confusion.matrix.sum() == 30  # validation
    assert len(confusion.texts) == 100 and confusion.image_item.image is not None
    confusion.run_combo.setCurrentIndex(0)
    assert confusion.shown == ("pretrained", 20)
    # The classifier runs are ordinary runs, kept in the stack's own session file.
    with Session.open(window.model.session_path) as s:
        assert {r for r in s.runs if r.startswith("classifier-")} == {
            "classifier-pretrained-20", "classifier-random-20",
            "classifier-pretrained-270", "classifier-random-270"}
        run = s.run("classifier-pretrained-20")
        assert run.config.model.family == "classifier" and run.checkpoint() is not None
        # the table's number is the run's own final validation accuracy
        assert table.cell(0, "pretrained") == f"{100 * run.epoch_history['val']['accuracy'][-1]:.1f}%"
    window.tabs.setCurrentWidget(panel)
    assert panel.features.features.shape == (32, 1, 28, 28)


def test_comparison_from_a_session_file_and_stop(qtbot, window):
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": 1}))
    session = window.model.session_path
    panel = window.finetune_panel
    assert panel.features.features is None                 # drawn once the tab is seen
    window.tabs.setCurrentWidget(panel)
    assert panel.features.features.shape[0] == 32          # an MLP run: its first layer
    window.new_run()
    panel.use_file(session)
    panel.budgets_edit.setText("all")
    panel.epochs_spin.setValue(500)
    assert panel.run_comparison()
    assert window.model.session_path == session             # the file comes on display
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=15_000)   # training epochs
    assert panel.is_running()
    qtbot.mouseClick(panel.stop_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=3000)
    assert "stopped" in panel.progress.format()
    assert panel.run_button.isEnabled()
    assert "vae-2d" in panel.status.text()
    with Session.open(session) as s:                       # stopped like any run: resumable
        stopped = s.run("classifier-pretrained-270")
        assert stopped.status == "stopped" and stopped.checkpoint() is not None


def test_a_comparison_is_kept_in_the_runs_session_and_shown_when_it_opens(
        qtbot, window, preferences):
    from gui.windows.main_window import MainWindow
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": 1}))
    session = window.model.session_path
    panel = window.finetune_panel
    panel.budgets_edit.setText("20")
    panel.epochs_spin.setValue(1)
    assert panel.run_comparison()                       # on the run on display
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=30_000)
    assert session.name in panel.status.text()          # "Its runs are kept in <session>"
    other = MainWindow(preferences)
    qtbot.addWidget(other)
    assert other.open_session(session), other.banner.text()
    shown = other.finetune_panel
    assert shown.table.table.rowCount() == 1 and shown.table.cell(0, "labels") == "20"
    assert shown.table.cell(0, "pretrained") == panel.table.cell(0, "pretrained")
    assert shown.budgets_edit.text() == "20" and shown.epochs_spin.value() == 1
    # Its own training runs are still what the Training tab shows.
    assert [r.run_id for r in other.model.training_runs()] == ["main"]


def test_fine_tuning_problems_reach_the_message_strip(qtbot, window, tmp_path):
    panel = window.finetune_panel
    assert not panel.run_comparison()                     # nothing trained yet
    assert window.banner.kind == "error" and "train one" in window.banner.text()
    bad = tmp_path / "notes.h5"
    bad.write_text("not an HDF5 file")
    panel.use_file(bad)
    panel.budgets_edit.setText("ten")
    assert not panel.run_comparison()
    assert "Label budgets" in window.banner.text()
    panel.budgets_edit.setText("all")
    panel.epochs_spin.setValue(1)
    panel.run_comparison()
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=10_000)
    assert window.banner.kind == "error" and "notes.h5" in window.banner.text()
    assert panel.run_button.isEnabled()


def test_feature_grid_shows_one_tile_per_unit(qtbot):
    grid = FeatureGridPanel("test")
    qtbot.addWidget(grid)
    weights = np.random.default_rng(0).normal(size=(20, 1, 28, 28)).astype(np.float32)
    grid.set_features(weights, "twenty units")
    assert grid.image.shape == (4 * 29 - 1, 5 * 29 - 1, 3)   # 4 x 5 tiles of 28 x 28
    tile = grid.image[:28, :28]
    assert tile.min() < 0.3 and tile.max() > 0.3          # coloured, not blank
    grid.count_spin.setValue(4)
    assert grid.image.shape == (2 * 29 - 1, 2 * 29 - 1, 3)
    grid.colour_combo.setCurrentIndex(grid.colour_combo.findData("grey"))
    assert np.allclose(grid.image[..., 0], grid.image[..., 1])
    grid.set_features(None)
    assert grid.image is None


def test_images_without_labels_give_a_message_not_a_crash(qtbot, window, tmp_path):
    images = tmp_path / "unlabelled.npy"
    np.save(images, np.random.default_rng(1).random((200, 28, 28), dtype=np.float32))
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": 1, "data.source": "file",
                                                 "data.path": str(images)}))
    panel = window.finetune_panel
    assert panel.current is not None
    # Refused before anything starts: the button is off and says why; asked anyway, the
    # message strip says it (tests/gui/test_window_states.py checks nothing else changes).
    assert not panel.run_button.isEnabled() and "no labels" in panel.run_button.toolTip()
    assert not panel.run_comparison()
    assert not window.controller.is_running()
    assert window.banner.kind == "error" and "no labels" in window.banner.text()
