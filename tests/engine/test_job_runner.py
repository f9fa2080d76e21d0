"""The one job runner (engine.jobs.runner): a job stopped or killed mid-run and continued
gives the terms of one run straight through; the writer hears every event first."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.control import TrainingControl
from engine.events import EpochEnded, RunOpened, RunStarted, StepMetrics
from engine.jobs import continue_job, new_job, run_job
from engine.session import Session, SessionWriter
from session_support import (Recorder, StopAfter, histories_equal,
                             tiny_config, tiny_pretraining)

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def step_terms(events) -> dict[int, dict[str, float]]:
    """Each step's terms, by step number (the last heard, for a step trained twice)."""
    return {e.step: dict(e.terms) for e in events if isinstance(e, StepMetrics)}


def straight(path: Path, plan) -> Recorder:
    rec = Recorder()
    assert run_job(new_job(plan), rec, writer=SessionWriter(path)).outcome == "completed"
    return rec


def test_a_run_stopped_mid_epoch_and_continued_gives_the_terms_straight_through(tmp_path):
    cfg = tiny_config("variational", epochs=3)
    once = straight(tmp_path / "once.h5", cfg)
    path = tmp_path / "twice.h5"
    first = Recorder()
    stopped = run_job(new_job(cfg), first, StopAfter(7), writer=SessionWriter(path))
    assert stopped.outcome == "stopped"
    second = Recorder()
    result = run_job(continue_job(path), second, writer=SessionWriter(path, append=True))
    assert result.outcome == "completed" and result.message == ""
    assert isinstance(second.events[0], RunOpened) and second.events[0].job_id == ""
    assert second.of(RunStarted)[0].start_step == 7 and min(step_terms(second.events)) == 8
    assert {**step_terms(first.events), **step_terms(second.events)} == \
        step_terms(once.events)
    with Session.open(tmp_path / "once.h5") as a, Session.open(path) as b:
        histories_equal(a.run(), b.run())
        assert b.run().status == "completed"


def test_an_unfinished_job_is_found_and_continued_by_the_same_call(tmp_path):
    cfg = tiny_pretraining(epochs=2, stages=(16, 8), end_to_end_epochs=1)
    once = straight(tmp_path / "once.h5", cfg)
    path = tmp_path / "twice.h5"
    first = Recorder()
    # 300 images in batches of 50: 12 steps per stage; stop in stage 2.
    assert run_job(new_job(cfg), first, StopAfter(16),
                   writer=SessionWriter(path)).outcome == "stopped"
    second = Recorder()
    assert run_job(continue_job(path), second,
                   writer=SessionWriter(path, append=True)).outcome == "completed"
    assert "stage-1" not in second.by_run()                      # kept, not retrained
    assert min(step_terms(second.by_run()["stage-2"])) == 16 - 12 + 1  # from where it stopped
    for run_id, events in once.by_run().items():
        resumed = {**step_terms(first.by_run().get(run_id, [])),
                   **step_terms(second.by_run().get(run_id, []))}
        assert resumed == step_terms(events), run_id
    with Session.open(tmp_path / "once.h5") as a, Session.open(path) as b:
        assert set(a.runs) == set(b.runs)
        for run_id in a.runs:
            histories_equal(a.runs[run_id], b.runs[run_id])


KILLED = textwrap.dedent("""
    import os, signal, sys
    import torch
    torch.set_num_threads(1)
    sys.path[:0] = [{root!r}, {tests!r}]
    from engine.events import EpochEnded
    from engine.jobs import new_job, run_job
    from engine.session import SessionWriter
    from session_support import tiny_config

    def sink(event):
        if isinstance(event, EpochEnded) and event.epoch == 2:
            os.kill(os.getpid(), signal.SIGKILL)   # kill -9, the writer's commit just made

    run_job(new_job(tiny_config("plain", epochs=3)), sink,
            writer=SessionWriter({path!r}, checkpoint_seconds=0.0, background=False))
""")


def test_a_job_killed_mid_run_continues_to_the_terms_straight_through(tmp_path):
    once = straight(tmp_path / "once.h5", tiny_config("plain", epochs=3))
    path = tmp_path / "killed.h5"
    code = KILLED.format(root=str(ROOT), tests=str(ROOT / "tests" / "engine"), path=str(path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == -9, proc.stderr
    with Session.open(path) as s:
        assert s.run().status != "completed" and s.run().checkpoint() is not None
    again = Recorder()
    assert run_job(continue_job(path), again,
                   writer=SessionWriter(path, append=True)).outcome == "completed"
    terms = step_terms(once.events)
    resumed = step_terms(again.events)
    assert resumed and all(terms[step] == t for step, t in resumed.items())
    assert min(resumed) > 1   # from its checkpoint, not from the start
    with Session.open(tmp_path / "once.h5") as a, Session.open(path) as b:
        histories_equal(a.run(), b.run())


class OrderedWriter:
    """A stand-in writer that notes when it hears an event, and can fail at an epoch."""

    def __init__(self, log: list, fail_at: int | None = None):
        self.log, self.fail_at, self.closed = log, fail_at, False

    def __call__(self, event) -> None:
        if isinstance(event, EpochEnded) and event.epoch == self.fail_at:
            raise OSError(28, "No space left on device")
        self.log.append(("writer", type(event).__name__))

    def close(self) -> None:
        self.closed = True


def test_the_writer_hears_every_event_before_the_caller_and_is_closed():
    log = []
    writer = OrderedWriter(log)
    run_job(new_job(tiny_config("plain", epochs=1)),
            lambda e: log.append(("sink", type(e).__name__)), writer=writer)
    assert writer.closed and len(log) > 4
    assert log[0::2] == [("writer", name) for _, name in log[1::2]]
    assert log[1::2] == [("sink", name) for _, name in log[0::2]]


def test_a_failing_writer_ends_the_job_unless_the_caller_goes_on_unsaved():
    cfg = tiny_config("plain", epochs=2)
    writer, heard = OrderedWriter([], fail_at=1), Recorder()
    result = run_job(new_job(cfg), heard, writer=writer)
    assert result.outcome == "failed" and "No space left on device" in result.message
    assert writer.closed and heard.of(EpochEnded) == []   # what is not on disk is not shown
    told, heard = [], Recorder()
    result = run_job(new_job(cfg), heard, writer=OrderedWriter([], fail_at=1),
                     on_writer_failed=told.append)
    assert result.outcome == "completed"
    assert told == ["OSError: [Errno 28] No space left on device"]
    assert [e.epoch for e in heard.of(EpochEnded)] == [1, 2]   # training went on


def test_a_job_stopped_before_it_began_trains_nothing_and_closes_its_writer():
    control, writer, heard = TrainingControl(), OrderedWriter([]), Recorder()
    control.stop()
    result = run_job(new_job(tiny_config("plain", epochs=1)), heard, control, writer=writer)
    assert result.outcome == "stopped" and heard.events == [] and writer.closed
