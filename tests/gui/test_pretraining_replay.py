"""File > Open on a greedy pretraining session replays it like a live pretraining run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from engine.session import Session

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def pretraining_file(tmp_path_factory) -> Path:
    """Two stages 784-32-16 (two epochs each) and one end-to-end epoch, on 300 digits."""
    out = tmp_path_factory.mktemp("pretraining") / "stack.h5"
    subprocess.run([sys.executable, "main.py", "pretrain", "--set", "data.limit=300",
                    "--set", "data.n_probe=8", "--stages", "32,16", "--epochs", "2",
                    "--end-to-end-epochs", "1", "--quiet", "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    return out


def test_opening_a_pretraining_file_replays_its_stages(window, pretraining_file):
    with Session.open(pretraining_file) as s:
        steps = [s.run(k).last_step for k in ("stage-1", "stage-2", "stack")]
        epochs = [s.run(k).epochs_trained for k in ("stage-1", "stage-2", "stack")]
        stack = s.run("stage-2").snapshot(1).images["stack_recon"]
    assert window.open_session(pretraining_file)
    assert window.tabs.currentIndex() == 0 and window.views.showing_stages
    assert window.banner.text() == ""
    assert pretraining_file.name in window.windowTitle()
    assert str(pretraining_file) in window.sessions.session_label.text()

    loss = window.loss_panel
    assert [line.label.format for line in loss.stage_lines] == ["stage 1", "stage 2", "stack"]
    assert [line.value() for line in loss.stage_lines] == [0, steps[0], steps[0] + steps[1]]
    total = loss.curves["total"]
    assert total.raw.n == sum(steps)
    assert np.all(np.diff(total.raw.x) > 0) and total.raw.x[-1] == sum(steps)
    assert np.isfinite(total.val.y).sum() == sum(epochs)   # one point per epoch, gaps between
    assert np.isnan(total.val.y).sum() == 2

    summary = window.views.summary
    assert summary.table.rowCount() == 3
    ids = ("stage-1", "stage-2", "stack")
    assert [summary.text(k, "layer") for k in ids] == ["784→32", "32→16", "whole stack"]
    assert [summary.text(k, "epochs") for k in ids] == ["2/2", "2/2", "1/1"]
    assert [summary.text(k, "status") for k in ids] == ["completed"] * 3
    assert summary.text("stage-2", "val recon") != ""
    assert window.views.features.features.shape == (32, 1, 28, 28)

    timeline = window.timeline_panel
    shown = window.views.stage_reconstructions
    assert timeline.epochs == [1, 2, 3, 4, 5]             # every run's saved epochs
    assert shown.rows == ["original", "noisy input", "reconstructed"]   # the stack, last
    timeline.select_epoch(3)                               # stage 2, its first epoch
    assert shown.rows == ["stage 2 input", "noisy input", "stage 2 output", "original",
                          "through stages 1–2"]
    assert shown.caption.text().startswith("stage 2 (32→16") and "epoch 1" in shown.caption.text()
    assert shown.current.recon.shape == (8, 1, 1, 32)
    assert np.array_equal(shown.current.stack, stack)
    run = window.model.runs["stage-2"]
    assert loss.epoch_line.value() == steps[0] + run.snapshot(1).step
    assert loss.epoch_line.label.format == "stage 2 · epoch 1"
    timeline.select_epoch(1)
    assert shown.rows == ["original", "noisy input", "reconstructed"]
    assert loss.epoch_line.label.format == "stage 1 · epoch 1"
    # The stored stack is the Fine-tuning tab's encoder.
    assert window.finetune_panel.current == pretraining_file
    assert "stacked autoencoder" in window.finetune_panel.current_text


def test_a_damaged_pretraining_file_is_a_message(window, pretraining_file, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(pretraining_file.read_bytes())
    with h5py.File(bad, "a") as f:
        del f["runs/stack/history"]          # the primary run: nothing sensible to show
    assert not window.open_session(bad)
    assert window.banner.kind == "error" and "bad.h5" in window.banner.text()
    assert not window.views.showing_stages


def test_an_opened_session_after_a_replay_gets_the_ordinary_views_back(window, pretraining_file):
    assert window.open_session(pretraining_file)
    assert window.open_session(FIXTURES / "v1-vae-2d.h5"), window.banner.text()
    assert not window.views.showing_stages
    assert window.loss_panel.stage_lines == []
    assert window.timeline_panel.epochs == [1, 2, 3]
    assert window.recon_panel.snapshot is not None and window.explorer_panel.decoder is not None


def test_a_stored_fine_tuning_comparison_is_shown(window, pretraining_file, tmp_path):
    path = tmp_path / "compared.h5"
    path.write_bytes(pretraining_file.read_bytes())
    subprocess.run([sys.executable, "main.py", "finetune", str(path), "--labels", "50,all",
                    "--epochs", "2", "--quiet"],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    assert window.open_session(path), window.banner.text()
    assert window.banner.text() == ""
    assert window.views.showing_stages
    panel = window.finetune_panel
    assert panel.table.table.rowCount() == 2
    assert [panel.table.cell(r, "labels") for r in (0, 1)] == ["50", "all (270)"]
    assert all(panel.table.cell(r, c).endswith("%") for r in (0, 1)
               for c in ("pretrained", "random"))
    assert {k: len(s.val_item.getData()[0]) for k, s in panel.accuracy.series.items()} == {
        ("pretrained", 50): 2, ("random", 50): 2, ("pretrained", 270): 2, ("random", 270): 2}
    assert panel.budgets_edit.text() == "50, all" and panel.epochs_spin.value() == 2
    assert "compared.h5" in panel.status.text()
    # A file without a comparison does not keep showing this one as if it were its own.
    assert window.open_session(pretraining_file)
    assert panel.table.table.rowCount() == 0 and not panel.accuracy.series
    assert panel.confusion.matrix is None and panel.status.text() == ""
    # A damaged classifier run: the rest is still replayed, the message says what is missing.
    with h5py.File(path, "a") as f:
        del f["runs/classifier-random-50/epochs"]
    assert window.open_session(path)
    assert window.banner.kind == "error" and "classifier-random-50" in window.banner.text()
    assert window.timeline_panel.epochs == [1, 2, 3, 4, 5]
    assert panel.table.table.rowCount() == 2


def test_version_1_files_open_and_replay(window, tmp_path):
    """Files written by the version before runs had groups of their own."""
    copy = tmp_path / "old-stack.h5"
    shutil.copy(FIXTURES / "v1-pretraining.h5", copy)
    assert window.open_session(copy), window.banner.text()
    assert window.views.showing_stages
    assert window.timeline_panel.epochs == [1, 2, 3, 4, 5]
    window.timeline_panel.select_epoch(3)
    assert window.views.stage_reconstructions.rows[-1] == "through stages 1–2"
    panel = window.finetune_panel
    assert panel.table.table.rowCount() == 2                # its /finetune comparison
    assert window.open_session(FIXTURES / "v1-denoising.h5")
    assert not window.views.showing_stages and panel.table.table.rowCount() == 1
