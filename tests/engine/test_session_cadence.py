"""What a session writes to disk, and when: the checkpoint's cadence, a follower's read
that no longer forces a whole-file copy, and a full disk's status in the file."""

from __future__ import annotations

import errno
import io

import pytest

from engine.events import CheckpointSaved, EpochEnded, RunFailed
from engine.session import Session, SessionWriter, atomic, layout
from engine.session import writer as writer_module
from session_support import Recorder, fan_out, tiny_config, tiny_trainer


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


class Clock:
    """A stand-in for ``time`` in the writer: each epoch lasts ``epoch_s`` seconds."""

    def __init__(self, epoch_s: float):
        self.now, self.epoch_s = 1000.0, epoch_s

    def monotonic(self) -> float:
        return self.now

    def listener(self, event) -> None:   # before the writer: the epoch has taken its time
        if isinstance(event, EpochEnded):
            self.now += self.epoch_s


def checkpoints_written(monkeypatch, tmp_path, epoch_s: float, epochs: int, **options):
    written = []
    real = layout.write_checkpoint
    monkeypatch.setattr(layout, "write_checkpoint",
                        lambda run, ck: (written.append(ck.epoch), real(run, ck)))
    clock = Clock(epoch_s)
    monkeypatch.setattr(writer_module, "time", clock)
    writer = SessionWriter(tmp_path / f"c{epoch_s}-{epochs}.h5", **options)
    tiny_trainer(tiny_config(epochs=epochs)).run(fan_out(clock.listener, writer))
    writer.close()
    return written


def test_the_checkpoint_is_written_before_30_s_would_pass_and_at_the_end(monkeypatch, tmp_path):
    # 7 s epochs: never 30 s without a checkpoint, so every 4th epoch (28 s), and the last
    assert checkpoints_written(monkeypatch, tmp_path, 7.0, 10) == [4, 8, 10]
    # epochs longer than 30 s: every epoch (a kill loses at most the one in progress)
    assert checkpoints_written(monkeypatch, tmp_path, 40.0, 3) == [1, 2, 3]
    # short epochs: once, at the end (a short run writes its state once)
    assert checkpoints_written(monkeypatch, tmp_path, 0.1, 6) == [6]
    assert checkpoints_written(monkeypatch, tmp_path, 0.1, 3, checkpoint_seconds=0) == [1, 2, 3]


def test_a_follower_reading_after_each_commit_costs_no_whole_file_copy(tmp_path):
    """The window follows a file by opening each new version for a moment: the version a
    commit replaces can still be open then, and its catch-up waits for the next commit."""
    path = tmp_path / "followed.h5"
    writer = SessionWriter(path, background=False)
    held = {}
    seen = []

    def follower(event):   # after the writer
        if isinstance(event, EpochEnded) and path.exists():
            held["s"] = Session.open(path)        # the newest version, held while...
            seen.append(held["s"].run().epochs_trained)
        elif isinstance(event, CheckpointSaved) and "s" in held:
            run = held.pop("s").run()             # ...the next commit replaced it
            assert run.epochs_trained == seen[-1]  # unchanged under the reader
            for e in run.snapshot_epochs:
                run.snapshot(e)
            run.session.close()

    tiny_trainer(tiny_config(epochs=6)).run(fan_out(writer, follower))
    writer.close()
    assert seen == list(range(0, 6))
    assert writer.copies == 1, "each version a reader held made the next commit copy the file"
    with Session.open(path) as s:
        assert s.run().snapshot_epochs == list(range(1, 7))
        for e in s.run().snapshot_epochs:
            s.run().decoder(e)


def test_a_reader_that_keeps_a_version_across_commits_still_gets_a_copy(tmp_path):
    path = tmp_path / "pinned.h5"
    writer = SessionWriter(path, background=False)
    held = []

    def pin(event):
        if isinstance(event, EpochEnded) and event.epoch == 2:
            held.append(Session.open(path))   # and never lets go during the run

    tiny_trainer(tiny_config(epochs=5)).run(fan_out(writer, pin))
    writer.close()
    assert held[0].run().epochs_trained == 1 and held[0].run().snapshot(1).images
    held[0].close()
    assert writer.copies == 2        # one copy when the pinned version was needed
    with Session.open(path) as s:
        assert s.run().epochs_trained == 5


class _Disk:
    """A folder whose files may hold ``capacity`` bytes together (None: no limit), or that
    is simply full (``full``): writes past that fail with ENOSPC, as on a real disk."""

    def __init__(self, monkeypatch, folder):
        import builtins
        self.capacity, self.full, self.folder = None, False, folder
        disk, real_open = self, builtins.open

        class File(io.FileIO):
            def write(self, data):
                used = sum(p.stat().st_size for p in disk.folder.iterdir() if p.is_file())
                if disk.full or (disk.capacity is not None
                                 and used + len(data) > disk.capacity):
                    raise OSError(errno.ENOSPC, "No space left on device", self.name)
                return super().write(data)

        def fake_open(path, mode="r", buffering=-1, *args, **kwargs):
            if not str(path).startswith(str(folder)) or "b" not in mode:
                return real_open(path, mode, buffering, *args, **kwargs)
            raw = File(path, mode.replace("b", ""))
            return raw if buffering == 0 else io.BufferedRandom(raw) if "+" in mode else \
                io.BufferedWriter(raw) if mode[0] in "wxa" else io.BufferedReader(raw)

        for module in (atomic, writer_module):
            monkeypatch.setattr(module, "open", fake_open, raising=False)


def test_a_full_disk_leaves_the_run_stopped_with_the_reason_not_running(tmp_path, monkeypatch):
    path = tmp_path / "full.h5"
    disk = _Disk(monkeypatch, tmp_path)
    rec = Recorder()
    writer = SessionWriter(path)

    def fill_up(event):   # after epoch 2: room for what is there, and 4 KB more
        if isinstance(event, EpochEnded) and event.epoch == 2:
            writer.wait()
            disk.capacity = sum(p.stat().st_size for p in tmp_path.iterdir()) + 4096

    outcome = tiny_trainer(tiny_config(epochs=6)).run(fan_out(rec, writer, fill_up))
    writer.close()
    assert outcome == "failed" and "the disk is full" in rec.of(RunFailed)[-1].message
    with Session.open(path) as s:     # throwing the spare away made room to say so
        run = s.run()
        assert run.status == "stopped" and run.status_message.startswith("disk full: free")
        assert 1 <= run.epochs_trained <= 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.h5"]


def test_a_full_disk_says_stopped_once_the_file_can_be_written_again(tmp_path, monkeypatch):
    path = tmp_path / "later.h5"
    disk = _Disk(monkeypatch, tmp_path)
    writer = SessionWriter(path)

    def full_after_epoch_2(event):
        if isinstance(event, EpochEnded) and event.epoch == 2:
            disk.full = True

    assert tiny_trainer(tiny_config(epochs=5)).run(fan_out(writer, full_after_epoch_2)) \
        == "failed"
    with Session.open(path) as s:
        assert s.run().status == "running"   # no room at all: as after a crash, for now
    disk.full = False                        # the user freed some space
    writer.close()
    with Session.open(path) as s:
        assert s.run().status == "stopped" and "disk full" in s.run().status_message
