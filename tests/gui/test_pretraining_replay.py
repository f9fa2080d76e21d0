"""File > Open on a pretraining file replays it like a live pretraining run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pretraining_file(tmp_path_factory) -> Path:
    """Two stages 784-32-16 (two epochs each) and one end-to-end epoch, on 300 digits."""
    out = tmp_path_factory.mktemp("pretraining") / "stack.h5"
    subprocess.run([sys.executable, "main.py", "pretrain", "--set", "data.limit=300",
                    "--set", "data.n_probe=8", "--stages", "32,16", "--epochs", "2",
                    "--finetune-epochs", "1", "--quiet", "--out", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    return out


def _stored(path: Path):
    with h5py.File(path, "r") as f:
        steps = [len(f[f"stages/{k}/history"]) for k in ("1", "2", "3")]
        epochs = [len(f[f"stages/{k}/epochs"]) for k in ("1", "2", "3")]
        stack = f["stages/2/stack_recon/000001"][()]
    return steps, epochs, stack


def test_opening_a_pretraining_file_replays_its_stages(window, pretraining_file):
    steps, epochs, stack = _stored(pretraining_file)
    assert window.open_session(pretraining_file)
    assert window.tabs.currentIndex() == 0 and window.pretraining.showing_pretraining
    assert window.banner.text() == ""
    assert pretraining_file.name in window.windowTitle()
    assert str(pretraining_file) in window.session_label.text()

    loss = window.loss_panel
    assert [line.label.format for line in loss.stage_lines] == ["stage 1", "stage 2",
                                                                "end-to-end"]
    assert [line.value() for line in loss.stage_lines] == [0, steps[0], steps[0] + steps[1]]
    total = loss.curves["total"]
    assert total.raw.n == sum(steps)
    assert np.all(np.diff(total.raw.x) > 0) and total.raw.x[-1] == sum(steps)
    assert np.isfinite(total.val.y).sum() == sum(epochs)   # one point per epoch, gaps between
    assert np.isnan(total.val.y).sum() == 2

    summary = window.pretraining.summary
    assert summary.table.rowCount() == 3
    assert [summary.text(k, "layer") for k in (1, 2, 3)] == ["784→32", "32→16", "784-32-16"]
    assert [summary.text(k, "epochs") for k in (1, 2, 3)] == ["2/2", "2/2", "1/1"]
    assert [summary.text(k, "status") for k in (1, 2, 3)] == ["completed"] * 3
    assert summary.text(2, "val recon") != ""
    assert window.pretraining.features.features.shape == (32, 1, 28, 28)

    timeline = window.timeline_panel
    shown = window.pretraining.stage_reconstructions
    assert timeline.epochs == [1, 2, 3, 4, 5]             # every stage's saved epochs
    assert shown.rows == ["original", "noisy input", "reconstructed"]   # end-to-end, last
    timeline.select_epoch(3)                               # stage 2, its first epoch
    assert shown.rows == ["stage 2 input", "noisy input", "stage 2 output", "original",
                          "through stages 1–2"]
    assert shown.caption.text().startswith("stage 2 (32→16") and "epoch 1" in shown.caption.text()
    frame = window.pretrain_display.frames[3]
    assert frame.recon.shape == (8, 1, 1, 32) and np.array_equal(frame.stack, stack)
    assert frame.step == steps[0] + 3
    assert loss.epoch_line.value() == frame.step
    assert loss.epoch_line.label.format == "stage 2 · epoch 1"
    timeline.select_epoch(1)
    assert shown.rows == ["original", "noisy input", "reconstructed"]
    assert loss.epoch_line.label.format == "stage 1 · epoch 1"
    # The stored stack is the Fine-tuning tab's encoder.
    assert window.finetune_panel.current is not None
    assert "784-32-16" in window.finetune_panel.current.description


def test_a_damaged_pretraining_file_is_a_message(window, pretraining_file, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(pretraining_file.read_bytes())
    with h5py.File(bad, "a") as f:
        del f["stages/2/history"]
    assert not window.open_session(bad)
    assert window.banner.kind == "error" and "bad.h5" in window.banner.text()
    assert not window.pretraining.showing_pretraining


def test_an_opened_session_after_a_replay_gets_the_ordinary_views_back(window, pretraining_file,
                                                                      tmp_path):
    from engine.pretraining.reader import export_stage_session
    assert window.open_session(pretraining_file)
    stage = export_stage_session(pretraining_file, 1, tmp_path / "stage1.h5")
    assert window.open_session(stage), window.banner.text()
    assert not window.pretraining.showing_pretraining
    assert window.loss_panel.stage_lines == []


def test_a_stored_fine_tuning_comparison_is_shown(window, pretraining_file, tmp_path):
    path = tmp_path / "compared.h5"
    path.write_bytes(pretraining_file.read_bytes())
    subprocess.run([sys.executable, "main.py", "finetune", str(path), "--labels", "50,all",
                    "--epochs", "2", "--quiet", "--out", str(path)],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    assert window.open_session(path), window.banner.text()
    assert window.banner.text() == ""
    assert window.pretraining.showing_pretraining
    panel = window.finetune_panel
    assert panel.table.table.rowCount() == 2
    assert [panel.table.cell(r, "labels") for r in (0, 1)] == ["50", "all (270)"]
    assert all(panel.table.cell(r, c).endswith("%") for r in (0, 1)
               for c in ("pretrained", "random"))
    assert {k: len(s.epochs) for k, s in panel.accuracy.series.items()} == {
        ("pretrained", 50): 2, ("random", 50): 2, ("pretrained", 270): 2, ("random", 270): 2}
    assert panel.budgets_edit.text() == "50, all" and panel.epochs_spin.value() == 2
    assert "compared.h5" in panel.status.text()
    # A file without a comparison does not keep showing this one as if it were its own.
    assert window.open_session(pretraining_file)
    assert panel.table.table.rowCount() == 0 and not panel.accuracy.series
    assert panel.confusion.matrix is None and panel.status.text() == ""
    assert window.open_session(path)
    # A damaged comparison: the run is still replayed, the message says what is missing.
    with h5py.File(path, "a") as f:
        del f["finetune/table"]
    assert window.open_session(path)
    assert window.banner.kind == "error" and "fine-tuning comparison" in window.banner.text()
    assert window.timeline_panel.epochs == [1, 2, 3, 4, 5]
