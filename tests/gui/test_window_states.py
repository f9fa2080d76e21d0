"""What the window says between runs: the progress bar after opening a session, a refused
comparison that changes nothing, and the message strip that must not push views onto each
other (issue 21, items 3-5; at the 1366x768 laptop screen of tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QTabWidget

from engine.session import Session
from tests.engine.session_support import record_run, single_torch_thread
from tests.engine.session_support import tiny_config as engine_tiny_config
from tests.gui.conftest import tiny_config, train_and_wait


@pytest.fixture(scope="module")
def three_epochs(tmp_path_factory):
    """A completed 3-epoch session recorded without the window."""
    path = tmp_path_factory.mktemp("states") / "three.h5"
    with single_torch_thread():
        record_run(path, engine_tiny_config("vae-2d", epochs=3))
    return path


def test_opening_a_session_replaces_the_last_runs_progress_text(qtbot, window, three_epochs):
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": 2}))
    bar = window.controls_panel.progress
    assert "epoch 2" in bar.format()
    assert window.open_session(three_epochs)
    text = bar.format()
    assert "epoch 2" not in text and "three.h5" in text and "epoch 3" in text, text
    assert "completed" in text
    assert bar.value() == bar.maximum()              # a completed run: a full bar
    window.new_run()
    assert bar.format().startswith("ready"), bar.format()
    assert bar.value() == 0


def test_a_stopped_session_shows_how_far_it_came(qtbot, window, tmp_path):
    from engine.session import SessionWriter
    from tests.engine.session_support import StopAfter, tiny_trainer
    path = tmp_path / "stopped.h5"
    trainer = tiny_trainer(engine_tiny_config("vae-2d", epochs=4))
    per_epoch = trainer.steps_per_epoch
    with single_torch_thread(), SessionWriter(path) as writer:
        trainer.run(writer, StopAfter(2 * per_epoch + 1))
    with Session.open(path) as s:
        assert s.run().status == "stopped"
    assert window.open_session(path)
    bar = window.controls_panel.progress
    assert "stopped" in bar.format() and "epoch 2" in bar.format(), bar.format()
    assert 0 < bar.value() < bar.maximum()


def _unlabelled_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "unlabelled.npy"
    np.save(path, (rng.random((300, 28, 28)) * 255).astype(np.uint8))
    return path


def test_run_comparison_is_disabled_without_labels_and_says_why(qtbot, window, tmp_path):
    data = _unlabelled_file(tmp_path)
    train_and_wait(qtbot, window, tiny_config(**{"data.source": "file",
                                                  "data.path": str(data)}))
    panel = window.finetune_panel
    window.tabs.setCurrentWidget(panel)
    assert window.model.session_path is not None
    assert not panel.run_button.isEnabled()
    assert "no labels" in panel.run_button.toolTip()
    bar_before = window.controls_panel.progress.format()
    source_before = panel.source_label.text()
    # Asked anyway (a script, a shortcut): refused with the reason, nothing else changes.
    messages = []
    panel.message.connect(lambda text, kind: messages.append(text))
    assert not panel.run_comparison()
    assert messages and "no labels" in messages[-1]
    assert not window.controller.is_running()
    assert window.controls_panel.progress.format() == bar_before
    assert panel.source_label.text() == source_before
    assert "No trained run on display" not in panel.source_label.text()
    assert panel.progress.format() == "ready"
    # A labelled run on display: the button comes back.
    train_and_wait(qtbot, window, tiny_config())
    assert panel.run_button.isEnabled()


def test_an_unlabelled_encoder_file_disables_the_comparison(qtbot, window, tmp_path):
    data = _unlabelled_file(tmp_path)
    train_and_wait(qtbot, window, tiny_config(**{"data.source": "file",
                                                  "data.path": str(data)}))
    unlabelled = window.model.session_path
    train_and_wait(qtbot, window, tiny_config())
    panel = window.finetune_panel
    assert panel.run_button.isEnabled()
    panel.use_file(unlabelled)
    assert not panel.run_button.isEnabled()
    assert "no labels" in panel.run_button.toolTip()
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("current"))
    assert panel.run_button.isEnabled()


def test_the_message_strip_pushes_no_view_over_another(qtbot, window):
    """1366x768: with the strip shown, the decoded image covered the z (20-d) readout."""
    from tests.gui.layout_checks import overlapping_widgets
    train_and_wait(qtbot, window, tiny_config(**{"model.latent_dim": 20}))
    window.show_message("A message long enough to take its line in the strip.", "info")
    qtbot.wait(50)
    assert window.banner.isVisible()
    explorer = window.explorer_panel
    assert explorer.coords_label.text().startswith("z (20-d)")
    assert not explorer.decoded_pane.geometry().intersects(explorer.coords_label.geometry())
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(20)
        assert overlapping_widgets(window) == [], window.tabs.tabText(index)
        for inner in window.tabs.currentWidget().findChildren(QTabWidget):
            for sub in range(inner.count()):
                inner.setCurrentIndex(sub)
                qtbot.wait(20)
                assert overlapping_widgets(window) == [], inner.tabText(sub)
