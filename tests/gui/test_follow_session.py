"""Following a session that a real writer process (python main.py train --out) is writing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from engine.session import Session
from engine.session.follow import FileWatch

ROOT = Path(__file__).resolve().parents[2]


def test_file_watch_sees_each_replacement(tmp_path):
    path = tmp_path / "f"
    path.write_text("a")
    watch = FileWatch(path)
    assert not watch.changed()
    tmp = tmp_path / "f.tmp"
    tmp.write_text("a")          # same size, new inode: a commit that renamed over it
    tmp.replace(path)
    assert watch.changed() and not watch.changed()


def test_the_window_follows_a_session_written_by_another_process(qtbot, window, tmp_path):
    path = tmp_path / "run.h5"
    cmd = [sys.executable, "main.py", "train", "--preset", "vae-2d", "--epochs", "12",
           "--out", str(path), "--quiet", "--device", "cpu", "--set", "data.limit=1500",
           "--set", "model.hidden=[64]", "--set", "optim.batch_size=32"]
    writer = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        qtbot.waitUntil(lambda: path.exists(), timeout=60_000)
        with Session.open(path) as s:
            opened_at = s.run().epochs_trained
        assert window.open_session(path)
        window.follower.timer.setInterval(100)
        run = window.model.runs["main"]
        assert opened_at < 12
        qtbot.waitUntil(lambda: "following run.h5: epoch" in window.follower.label.text(),
                        timeout=30_000)
        seen = len(window.timeline_panel.epochs)
        qtbot.waitUntil(lambda: len(window.timeline_panel.epochs) > seen, timeout=60_000)
        qtbot.waitUntil(lambda: run.status == "completed", timeout=120_000)
        assert "run ended (completed) at" in window.follower.label.text()
        assert writer.wait(60) == 0, writer.stderr.read()
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    # The window has every epoch, as the file does, and shows the last one.
    qtbot.waitUntil(lambda: window.timeline_panel.current_epoch == 12, timeout=10_000)
    assert window.timeline_panel.epochs == list(range(1, 13))
    assert window.views.displayed_epoch == 12
    with Session.open(path) as s:
        stored = s.run()
        assert stored.status == "completed" and stored.epochs_trained == 12
        steps = stored.history["step"]
        assert np.array_equal(steps, np.arange(1, len(steps) + 1))
        # Every step reached the loss plot once: none missing, none twice.
        curve = window.loss_panel.curves["total"]
        np.testing.assert_array_equal(curve.raw.x, steps)
        np.testing.assert_allclose(curve.raw.y, stored.history["total"])
        assert sorted(run.val["total"]) == list(range(1, 13))
    assert window.controls_panel.continue_button.isEnabled()
    assert "(completed)" in window.sessions.session_label.text()


def test_a_released_session_reads_on_demand_also_for_version_1_files():
    # The window releases every session it shows (it may be followed): reads reopen the file.
    from engine.session.follow import open_released
    fixtures = ROOT / "tests" / "fixtures"
    session = open_released(fixtures / "v1-pretraining.h5")
    run = session.runs["stage-2"]
    snap = run.snapshot(run.snapshot_epochs[-1])
    assert "stack_recon" in snap.images and snap.images["probe_recon"].size
