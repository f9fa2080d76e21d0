"""Slow motion: one training step at a time, a preview of the model after each, never recorded."""

import threading
import time

import numpy as np
import pytest
import torch

from engine.control import TrainingControl
from engine.events import EpochSnapshot, RunFinished, StepMetrics
from engine.presets import load_preset
from engine.session import Session, SessionWriter
from engine.trainer import Trainer


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def _config(preset="gan-toy", epochs=2):
    return load_preset(preset).with_overrides({
        "optim.epochs": epochs, "optim.batch_size": 64, "data.n_points": 320,
        "data.n_probe": 16, "device": "cpu"})


def _wait_for(condition, seconds=20.0):
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.01)


def test_step_once_lets_one_batch_through_and_previews_the_model_after_it():
    control = TrainingControl()
    control.pause()
    events = []
    trainer = Trainer(_config())
    worker = threading.Thread(target=trainer.run, args=(events.append, control))
    worker.start()
    try:
        time.sleep(0.2)
        assert not [e for e in events if isinstance(e, StepMetrics)]   # paused: nothing
        for k in (1, 2, 3):
            control.step_once()
            _wait_for(lambda: len([e for e in events if isinstance(e, EpochSnapshot)]) == k)
            time.sleep(0.1)
            steps = [e.step for e in events if isinstance(e, StepMetrics)]
            assert steps == list(range(1, k + 1))      # exactly one batch per press
            preview = [e for e in events if isinstance(e, EpochSnapshot)][-1]
            assert preview.preview and preview.step == k and preview.epoch == 1
            # The preview is the model as it is now, after that step: the views' arrays.
            assert {"generated_points", "sample_quality"} <= set(preview.arrays)
            assert preview.weights.keys() == trainer.model.interactive_weights().keys()
    finally:
        control.stop()
        worker.join(20)
    assert isinstance(events[-1], RunFinished) and events[-1].reason == "stopped"


def test_slow_motion_previews_every_step_and_changes_nothing_of_the_run():
    """The same seeded run with slow motion on ends with the same weights as without it."""
    fast = Trainer(_config(epochs=1))
    fast.run(lambda e: None)
    control = TrainingControl()
    control.set_slow(0.001)
    events = []
    slow = Trainer(_config(epochs=1))
    slow.run(events.append, control)
    steps = [e.step for e in events if isinstance(e, StepMetrics)]
    previews = [e.step for e in events if isinstance(e, EpochSnapshot) and e.preview]
    assert previews == steps and len(steps) == slow.steps_per_epoch
    ends = [e for e in events if isinstance(e, EpochSnapshot) and not e.preview]
    assert [e.epoch for e in ends] == [1]
    for k, v in fast.model.state_dict().items():
        assert torch.equal(v, slow.model.state_dict()[k]), k


def test_slow_motion_paces_the_steps_and_can_be_turned_off_while_running():
    control = TrainingControl()
    control.set_slow(0.25)
    events = []
    worker = threading.Thread(target=Trainer(_config(epochs=1)).run,
                              args=(events.append, control))
    worker.start()
    time.sleep(0.6)
    seen = len([e for e in events if isinstance(e, StepMetrics)])
    assert 1 <= seen <= 4          # 0.6 s at one step per 0.25 s: not the whole epoch (5)
    control.set_slow(None)
    worker.join(20)
    assert not worker.is_alive()
    assert isinstance(events[-1], RunFinished) and events[-1].reason == "completed"


def test_previews_are_not_written_to_the_session(tmp_path):
    path = tmp_path / "slow.h5"
    control = TrainingControl()
    control.set_slow(0.001)
    with SessionWriter(path) as writer:
        Trainer(_config(epochs=2)).run(writer, control)
    with Session.open(path) as s:
        run = s.run()
        assert run.snapshot_epochs == [1, 2] and run.status == "completed"
        # The epoch's own snapshot, at its end, not a mid-epoch preview of it.
        assert run.snapshot(1).step == run.steps_per_epoch
        assert np.isfinite(run.snapshot(2).arrays["sample_quality"]).all()


def test_stop_while_waiting_for_the_next_slow_step_ends_the_run():
    control = TrainingControl()
    control.set_slow(30.0)
    result = []
    worker = threading.Thread(target=lambda: result.append(
        Trainer(_config()).run(lambda e: None, control)))
    worker.start()
    time.sleep(0.3)
    control.stop()
    worker.join(5)
    assert result == ["stopped"]
