"""The folder of resumable runs (engine.jobs.RunFolder) that lessons and sweeps share: what a
file holds for a planned run, and a run continued there as if never stopped."""

from __future__ import annotations

import io
import json
import os
import sys

import pytest

import engine.jobs.folder as folder_module
from engine.jobs import (COMPLETE, NEW, OTHER, RESUMABLE, RunFolder, new_job, run_job,
                         same_run)
from engine.events import CheckpointSaved
from engine.session import Session, SessionWriter
from session_support import StopAfter, histories_equal, tiny_config


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


@pytest.fixture
def trained(monkeypatch):
    """Every RunFolder.train call, as (file name, what the file held)."""
    calls = []
    original = folder_module.RunFolder.train

    def spy(self, name, plan, stored, *args, **kwargs):
        calls.append((name, stored.state))
        return original(self, name, plan, stored, *args, **kwargs)

    monkeypatch.setattr(folder_module.RunFolder, "train", spy)
    return calls


class WithoutCheckpoints:
    """A writer that never hears of a checkpoint (as if killed before its first)."""

    def __init__(self, writer):
        self.writer = writer

    def __call__(self, event) -> None:
        if not isinstance(event, CheckpointSaved):
            self.writer(event)

    def close(self) -> None:
        self.writer.close()


def test_what_a_file_holds_for_the_planned_run(tmp_path):
    folder = RunFolder(tmp_path / "runs")
    folder.prepare()
    cfg = tiny_config("plain", epochs=2)
    assert folder.stored("a.h5", cfg).state == NEW                       # no file
    (folder.path / "bad.h5").write_bytes(b"not a session")
    damaged = folder.stored("bad.h5", cfg)
    assert damaged.state == NEW and "bad.h5" in damaged.note
    writer = SessionWriter(folder.session("early.h5"))
    # A run killed before its first checkpoint: its file holds steps but nothing to resume.
    run_job(new_job(cfg), control=StopAfter(5), writer=WithoutCheckpoints(writer))
    with Session.open(folder.session("early.h5")) as s:
        assert s.run().checkpoint() is None and len(s.run().history["step"]) == 5
    assert folder.stored("early.h5", cfg).state == NEW
    run_job(new_job(cfg), control=StopAfter(2), writer=SessionWriter(folder.session("a.h5")))
    part = folder.stored("a.h5", cfg)
    assert (part.state, part.epochs_done) == (RESUMABLE, 0)  # mid-epoch 1: from its start
    assert folder.train("a.h5", cfg, part).outcome == "completed"
    assert folder.stored("a.h5", cfg).state == COMPLETE
    other = cfg.with_overrides({"objective.sparsity": 0.1})
    assert folder.stored("a.h5", other).state == OTHER
    more = cfg.with_overrides({"optim.epochs": 3})
    assert folder.stored("a.h5", more).state == OTHER                  # a lesson: retrain
    grown = folder.stored("a.h5", more, same=same_run)                 # a sweep: 1 more
    assert (grown.state, grown.epochs_done) == (RESUMABLE, 2)
    assert folder.stored("a.h5", cfg.with_overrides({"device": "auto"})).state == COMPLETE


def test_a_folder_that_is_a_file_is_refused_naming_the_option(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(Exception, match="is a file, not a folder for the sweep") as e:
        RunFolder(tmp_path / "f").prepare("the sweep")
    assert e.value.field == "--out"


def test_a_lesson_run_stopped_midway_continues_through_the_folder(tmp_path, trained):
    from engine.control import TrainingControl
    from engine.events import RunStarted, StepMetrics
    from engine.lessons import read_lesson, run_config, run_lesson
    small = {"data.limit": 200, "model.hidden": [32], "model.latent_dim": 4,
             "optim.epochs": 2, "optim.batch_size": 50}
    data = {"number": 30, "title": "Small", "claim": "E = L(x, g(f(x)))",
            "text": "A small lesson.", "formula": "E", "look_for": "nothing",
            "views": ["reconstructions"], "measure": "reconstruction_improves",
            "runs": [{"label": "first", "preset": "plain", "overrides": small},
                     {"label": "second", "preset": "plain", "overrides": {**small, "seed": 1}}]}
    (tmp_path / "small.json").write_text(json.dumps(data), encoding="utf-8")
    lesson = read_lesson(tmp_path / "small.json")
    control = TrainingControl()

    def stop_in_epoch_2(event):
        if isinstance(event, StepMetrics) and event.step == 6:   # 4 steps an epoch
            control.stop()

    assert run_lesson(lesson, tmp_path / "out", emit=stop_in_epoch_2,
                      control=control).outcome == "stopped"
    heard = []
    assert run_lesson(lesson, tmp_path / "out", emit=heard.append).outcome == "completed"
    assert trained == [("first.h5", NEW), ("first.h5", RESUMABLE), ("second.h5", NEW)]
    started = [e for e in heard if isinstance(e, RunStarted)]
    assert [e.start_step for e in started] == [6, 0]   # continued after its 5th step
    straight = RunFolder(tmp_path / "straight")
    straight.prepare()
    cfg = run_config(lesson.runs[0])
    straight.train("first.h5", cfg, straight.stored("first.h5", cfg))
    with Session.open(tmp_path / "out" / "first.h5") as a, \
            Session.open(tmp_path / "straight" / "first.h5") as b:
        histories_equal(a.run(), b.run())


def test_a_sweep_run_given_more_epochs_continues_through_the_folder(tmp_path, trained,
                                                                    monkeypatch, capsys):
    """The sweep's worker process, run in this one: its file continued, not retrained."""
    from engine.sweep import worker
    monkeypatch.setattr(worker, "stop_with_sweep", lambda control, fd: None)
    cfg = tiny_config("plain", epochs=1)
    out = tmp_path / "sweep"
    out.mkdir()

    def work(config) -> int:
        r, w = os.pipe()
        os.write(w, (json.dumps({"config": config.to_dict(), "out": str(out / "b=1.h5"),
                                 "threads": 1}) + "\n").encode())
        os.close(w)
        with io.open(r, "rb", buffering=0) as stdin:
            monkeypatch.setattr(sys, "stdin", stdin)
            return worker.main()

    assert work(cfg) == 0
    capsys.readouterr()
    assert work(cfg.with_overrides({"optim.epochs": 2})) == 0
    said = capsys.readouterr().out
    assert "parameters, epoch 2\n" in said and "epoch 1/2" not in said   # continued at 2
    assert work(cfg.with_overrides({"optim.epochs": 2})) == 0     # complete: kept
    assert trained == [("b=1.h5", NEW), ("b=1.h5", RESUMABLE)]
    assert work(cfg.with_overrides({"objective.sparsity": 0.1})) == 2
    assert "holds a run of other settings" in capsys.readouterr().err
    straight = RunFolder(tmp_path / "straight")
    two = cfg.with_overrides({"optim.epochs": 2})
    straight.prepare()
    straight.train("b.h5", two, straight.stored("b.h5", two))
    with Session.open(out / "b=1.h5") as a, Session.open(straight.session("b.h5")) as b:
        histories_equal(a.run(), b.run())
        assert list(a.run().epoch_history["epoch"]) == [1, 2]
