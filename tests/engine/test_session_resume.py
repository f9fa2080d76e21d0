"""Resuming from a session continues the exact run: same history, same snapshots, same weights."""

from __future__ import annotations

import numpy as np
import pytest

from engine.control import TrainingControl
from engine.events import CheckpointSaved, StepMetrics
from engine.session import Session, SessionError, SessionWriter
from engine.jobs import resume_trainer
from session_support import (Recorder, fan_out, model_arrays, record_run,
                             tiny_config, tiny_trainer)

EPOCHS = 4


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """A seeded 4-epoch run recorded in one go, and its final weights."""
    path = tmp_path_factory.mktemp("resume") / "straight.h5"
    trainer, _ = record_run(path, tiny_config(epochs=EPOCHS))
    return path, model_arrays(trainer)


def resume(path, until: int):
    """Continue the session at ``path`` up to epoch ``until``; returns the trainer."""
    with Session.open(path) as s:
        done = s.run().checkpoint().epoch
        trainer, last = resume_trainer(s.run(), until - done)
    assert last == until
    with SessionWriter(path, append=True) as writer:
        assert trainer.run(writer, until_epoch=until) == "completed"
    return trainer


def assert_same_run(path, reference) -> None:
    ref_path, ref_weights = reference
    with Session.open(ref_path) as sa, Session.open(path) as sb:
        a, b = sa.run(), sb.run()
        assert list(sb.runs) == ["main"]
        assert set(a.history) == set(b.history)
        for k in a.history:
            if k != "wall_time":
                np.testing.assert_array_equal(a.history[k], b.history[k], err_msg=k)
        for part in ("train", "val"):
            for k in a.epoch_history[part]:
                np.testing.assert_array_equal(a.epoch_history[part][k],
                                              b.epoch_history[part][k], err_msg=k)
        np.testing.assert_array_equal(a.epoch_history["epoch"], b.epoch_history["epoch"])
        assert a.snapshot_epochs == b.snapshot_epochs == list(range(1, EPOCHS + 1))
        for epoch in a.snapshot_epochs:
            sa, sb = a.snapshot(epoch), b.snapshot(epoch)
            assert sa.step == sb.step
            for part in ("images", "arrays", "weights"):
                pa, pb = getattr(sa, part), getattr(sb, part)
                assert set(pa) == set(pb) and pa
                for k in pa:
                    np.testing.assert_array_equal(pa[k], pb[k], err_msg=f"{part}/{k}")
        ck = b.checkpoint()
        assert (ck.epoch, ck.position) == (EPOCHS, 0)
        assert b.config.optim.epochs == EPOCHS and b.status == "completed"
    for k, w in ref_weights.items():
        np.testing.assert_array_equal(ck.model[k], w, err_msg=k)


def test_two_epochs_then_two_more_equal_four(tmp_path, uninterrupted):
    path = tmp_path / "split.h5"
    record_run(path, tiny_config(epochs=2))
    trainer = resume(path, EPOCHS)
    assert_same_run(path, uninterrupted)
    for k, w in uninterrupted[1].items():
        np.testing.assert_array_equal(model_arrays(trainer)[k], w)


@pytest.mark.parametrize("step", [7, 5])
def test_resume_from_a_stop(tmp_path, uninterrupted, step):
    """Step 7 is in the middle of epoch 2; after step 5 (the last of epoch 1) the stop
    lands at the epoch boundary, before epoch 2 has drawn its batch order."""
    path = tmp_path / "stopped.h5"
    trainer = tiny_trainer(tiny_config(epochs=EPOCHS))
    assert trainer.steps_per_epoch == 5
    control = TrainingControl()

    def stop_at(event):
        if isinstance(event, StepMetrics) and event.step == step:
            control.stop()

    with SessionWriter(path) as writer:
        assert trainer.run(fan_out(writer, stop_at), control) == "stopped"
    with Session.open(path) as s:
        ck = s.run().checkpoint()
        assert s.run().status == "stopped" and ck.step == step
        assert (ck.position, ck.permutation is not None) == ((2, True) if step == 7 else
                                                             (0, False))
    resume(path, EPOCHS)
    assert_same_run(path, uninterrupted)


def test_rows_past_the_checkpoint_are_retrained(tmp_path, uninterrupted):
    """As after a kill mid-epoch: step rows committed past the checkpoint (flush_rows)."""
    path = tmp_path / "killed.h5"
    trainer = tiny_trainer(tiny_config(epochs=EPOCHS))
    rec = Recorder()
    trainer.run(rec)
    # A checkpoint at every epoch's end, so that the last one is behind the rows.
    writer = SessionWriter(path, flush_rows=1, background=False, checkpoint_seconds=0)
    for event in rec.events[:-2]:  # the process "dies" before the last checkpoint
        writer(event)
    writer.wait()
    with Session.open(path) as s:  # the last epoch's steps recorded, its checkpoint not
        run = s.run()
        assert run.epochs_trained == EPOCHS - 1 and run.checkpoint().epoch == EPOCHS - 1
        assert run.history["step"][-1] > run.checkpoint().step
    resume(path, EPOCHS)
    assert_same_run(path, uninterrupted)


def test_stop_and_continue_with_the_same_writer(tmp_path, uninterrupted):
    """The GUI's Stop then Resume: one trainer, one writer, two run() calls."""
    path = tmp_path / "gui.h5"
    trainer = tiny_trainer(tiny_config(epochs=EPOCHS))
    control = TrainingControl()

    def stop_at_steps_10_and_12(event):  # at the end of epoch 2, then within epoch 3
        if isinstance(event, StepMetrics) and event.step in (10, 12):
            control.stop()

    with SessionWriter(path) as writer:
        assert trainer.run(fan_out(writer, stop_at_steps_10_and_12), control) == "stopped"
        control = TrainingControl()
        assert trainer.run(fan_out(writer, stop_at_steps_10_and_12), control) == "stopped"
        assert trainer.run(writer) == "completed"
    assert_same_run(path, uninterrupted)


def test_a_run_killed_before_its_first_checkpoint_trains_again_from_its_start(
        tmp_path, uninterrupted):
    """The first checkpoint is written after about 30 s of training (or at the run's end),
    so a run killed in its first half minute has epochs on disk but nothing to resume
    from: resuming trains it again from epoch 1, in the same file, to the same result."""
    path = tmp_path / "early.h5"
    rec = Recorder()
    tiny_trainer(tiny_config(epochs=EPOCHS)).run(rec)
    writer = SessionWriter(path)   # the default cadence: no checkpoint within 30 s
    ends = [i for i, e in enumerate(rec.events) if isinstance(e, CheckpointSaved)]
    for event in rec.events[:ends[1] + 1]:   # killed after epoch 2
        writer(event)
    writer.wait()
    with Session.open(path) as s:
        run = s.run()
        assert run.checkpoint() is None and run.epochs_trained == 2
        assert run.status == "running"  # as a crash leaves it
        trainer, until = resume_trainer(run, None)
        assert (trainer.epochs_done, trainer.step, until) == (0, 0, EPOCHS)
        with pytest.raises(SessionError, match="must be >= 1"):
            resume_trainer(run, 0)
    with SessionWriter(path, append=True) as again:
        assert trainer.run(again, until_epoch=until) == "completed"
    assert_same_run(path, uninterrupted)


def test_resume_without_epochs_finishes_a_stopped_run(tmp_path, uninterrupted):
    path = tmp_path / "finish.h5"
    trainer = tiny_trainer(tiny_config(epochs=EPOCHS))
    control = TrainingControl()

    def stop_at_step_9(event):
        if isinstance(event, StepMetrics) and event.step == 9:
            control.stop()

    with SessionWriter(path) as writer:
        trainer.run(fan_out(writer, stop_at_step_9), control)
    with Session.open(path) as s:
        trainer, until = resume_trainer(s.run(), None, device="cpu")
    assert until == EPOCHS and trainer.epochs_done == 1 and trainer.step == 9
    with SessionWriter(path, append=True) as writer:
        assert trainer.run(writer, until_epoch=until) == "completed"
    assert_same_run(path, uninterrupted)


def test_resume_refuses_data_that_changed(tmp_path, uninterrupted):
    from engine.data import load_dataset
    path, _ = uninterrupted
    with Session.open(path) as s:
        run = s.run()
        other = load_dataset(run.config.data, run.config.seed + 1)  # another split and probe
        with pytest.raises(SessionError, match="not the data this run was trained on"):
            resume_trainer(run, 1, dataset=other)
