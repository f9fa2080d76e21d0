"""Greedy layer-wise pretraining from the window: settings, stage curves, reconstructions."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt

from engine.presets import load_preset
from engine.session import Session
from tests.gui.conftest import train_and_wait


def tiny_pretraining(**overrides):
    """Two stages 784-32-16, one epoch each, on 300 digits: about a second."""
    values = {"data.limit": 300, "model.hidden": [32], "model.latent_dim": 16,
              "optim.epochs": 1, "optim.batch_size": 64}
    values.update(overrides)
    return load_preset("stacked-pretraining").with_overrides(values)


def test_preset_selects_pretraining_mode_and_the_form_follows_the_widths(window):
    panel = window.settings_panel
    group = panel.pretrain_group
    panel.load_preset("stacked-pretraining")
    assert group.isChecked() and not panel.architecture_box.isVisibleTo(panel)
    assert not panel.kind_checks["variational"].isEnabled()
    section = panel.config().pretraining
    assert (section.kinds, section.end_to_end_epochs) == (("denoising", "denoising"), 0)
    group.widths_edit.setText("64, 32, 16")
    assert [c.objectName() for c in group.kind_combos] == [
        "stageKindCombo1", "stageKindCombo2", "stageKindCombo3"]
    assert panel.config().model.hidden == (64, 32) and panel.config().model.latent_dim == 16
    # A stage kind whose strength is not set: ticking it for the user.
    sparse = group.kind_combos[1]
    sparse.setCurrentIndex(sparse.findData("sparse"))
    sparse.activated.emit(sparse.currentIndex())
    assert panel.kind_checks["sparse"].isChecked()
    assert panel.config().pretraining.kinds == ("denoising", "sparse", "denoising")
    group.widths_edit.setText("64, x")
    assert "Stage widths" in panel.error_labels["pretraining.widths"].text()
    assert not window.controls_panel.train_button.isEnabled()
    panel.load_preset("conv-vae")
    assert not group.isEnabled() and not group.isChecked()
    assert panel.config().pretraining is None


def test_pretraining_run_shows_stages_on_one_axis_and_reconstructions(qtbot, window):
    train_and_wait(qtbot, window, tiny_pretraining(**{"pretraining.end_to_end_epochs": 1}))
    assert "Pretraining completed: 2 stage(s)" in window.banner.text(), window.banner.text()
    loss = window.loss_panel
    labels = [line.label.format for line in loss.stage_lines]
    starts = [line.value() for line in loss.stage_lines]
    assert labels == ["stage 1", "stage 2", "stack"]
    total = loss.curves["total"]
    per_stage = total.raw.n // 3
    assert starts == [0, per_stage, 2 * per_stage] and per_stage > 0
    assert np.all(np.diff(total.raw.x) > 0)        # stage 2 continues where stage 1 ended
    assert np.isfinite(total.val.y).sum() == 3 and np.isnan(total.val.y).sum() == 2  # gaps
    # While it trained, the step axis spanned all three runs (1 epoch each here).
    assert not loss.plot.getViewBox().autoRangeEnabled()[0]     # planned, not following
    assert 3 * per_stage <= loss.plot.viewRange()[0][1] <= 3.1 * per_stage
    # The offsets are data of the run model, set once when each run started.
    runs = {r.run_id: r for r in window.model.training_runs()}
    assert [runs[k].step_offset for k in ("stage-1", "stage-2", "stack")] == starts
    assert [runs[k].epoch_offset for k in ("stage-1", "stage-2", "stack")] == [0, 1, 2]

    shown = window.views.stage_reconstructions
    assert window.views.showing_stages
    assert window.timeline_panel.epochs == [1, 2, 3]
    window.timeline_panel.select_epoch(2)           # stage 2: codes, and the whole stack
    assert shown.rows == ["stage 2 input", "noisy input", "stage 2 output", "original",
                          "through stages 1–2"]
    assert shown.image_item.image is not None and shown.image_item.image.std() > 0
    snap = runs["stage-2"].snapshot(1)
    assert snap.images["probe_recon"].shape[1:] == (1, 1, 32)
    assert snap.images["stack_recon"].shape[1:] == (1, 28, 28)
    assert loss.epoch_line.label.format == "stage 2 · epoch 1"
    assert window.timeline_panel.label.text().startswith("stage 2 · epoch 1")
    window.timeline_panel.select_epoch(1)
    assert shown.rows == ["original", "noisy input", "reconstructed"]

    summary = window.views.summary
    assert [summary.text(k, "status") for k in ("stage-1", "stage-2", "stack")] == \
        ["completed"] * 3
    assert summary.text("stage-2", "layer") == "32→16"
    assert window.views.features.features.shape == (32, 1, 28, 28)    # units x image tiles
    path = window.model.session_path
    assert path.parent == window.preferences.session_folder
    with Session.open(path) as s:          # one file: every stage and the stack, each a run
        assert list(s.runs) == ["stage-1", "stage-2", "stack"] and s.primary == "stack"
        assert all(r.status == "completed" for r in s.runs.values())
    assert str(path) in window.sessions.session_label.text()
    assert window.finetune_panel.current == path        # the stack is ready to fine-tune
    assert "stacked autoencoder" in window.finetune_panel.current_text
    # File > Open on a pretraining session replays it in the Training tab.
    assert window.open_session(path)
    assert window.tabs.currentIndex() == 0 and window.views.showing_stages
    assert [line.value() for line in loss.stage_lines] == starts
    assert window.timeline_panel.epochs == [1, 2, 3]
    assert window.finetune_panel.current == path


def test_pause_stop_and_continue_a_pretraining_run(qtbot, window):
    window.settings_panel.set_config(tiny_pretraining(**{"optim.epochs": 500}))
    window.train()
    total = lambda: window.loss_panel.curves["total"].raw.n  # noqa: E731
    qtbot.waitUntil(lambda: bool(window.loss_panel.curves) and total() > 0, timeout=15_000)
    assert window.controls_panel.estimate.total_epochs == 500        # stage 1's epochs
    assert window.controls_panel.estimate.prefix.startswith("stage 1 (1 of 3)")
    qtbot.mouseClick(window.controls_panel.pause_button, Qt.LeftButton)
    qtbot.wait(250)                          # the last pre-pause steps arrive
    held = total()
    qtbot.wait(300)
    assert total() == held
    qtbot.mouseClick(window.controls_panel.resume_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: total() > held, timeout=5000)
    t0 = time.perf_counter()
    qtbot.mouseClick(window.controls_panel.stop_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=2000)
    assert time.perf_counter() - t0 < 2.0
    assert "Pretraining stopped" in window.banner.text()
    assert window.views.summary.text("stage-1", "status") == "stopped"
    assert window.controls_panel.train_button.isEnabled()
    assert window.finetune_panel.current is None          # no finished stack to fine-tune
    # Continue finishes the job from where it stopped, in the same file.
    path = window.model.session_path
    with Session.open(path) as s:
        stopped_at = s.run("stage-1").checkpoint().step
    window.settings_panel.set_config(tiny_pretraining(**{"optim.epochs": 500}))
    assert window.continue_training(5)
    qtbot.waitUntil(lambda: window.model.runs["stage-1"].last_step > stopped_at + 2,
                    timeout=10_000)
    window.controller.stop()
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=5000)
    with Session.open(path) as s:
        run = s.run("stage-1")
        steps = run.history["step"]
        assert run.checkpoint().step > stopped_at        # it trained on from its checkpoint
        assert np.array_equal(steps, np.arange(1, len(steps) + 1))   # no step twice


def test_an_ordinary_run_after_pretraining_gets_the_ordinary_views_back(qtbot, window):
    from tests.gui.conftest import tiny_config
    train_and_wait(qtbot, window, tiny_pretraining())
    assert window.views.showing_stages
    train_and_wait(qtbot, window, tiny_config(**{"optim.epochs": 1}))
    assert "completed" in window.banner.text()
    assert not window.views.showing_stages
    assert window.loss_panel.stage_lines == []
    assert window.recon_panel.snapshot is not None
