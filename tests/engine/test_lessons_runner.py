"""run_lesson: ordinary sessions, complete runs kept, stopped ones continued, events in order."""

from __future__ import annotations

import json

import pytest

from engine.control import TrainingControl
from engine.events import EpochEnded, RunFinished, RunStarted
from engine.lessons import (LessonRunOpened, lesson_done, lesson_paths, read_lesson,
                            run_lesson)
from engine.session import Session

from tests.engine.session_support import single_torch_thread

SMALL = {"data.limit": 200, "model.hidden": [32], "model.latent_dim": 4, "optim.epochs": 3,
         "optim.batch_size": 50}


@pytest.fixture(autouse=True)
def one_thread():
    with single_torch_thread():
        yield


def small_lesson(folder, epochs: int = 3):
    data = {"number": 30, "title": "Small", "claim": "E = L(x, g(f(x)))",
            "text": "A small lesson. It trains two tiny autoencoders.", "formula": "E",
            "look_for": "nothing", "views": ["reconstructions"],
            "measure": "reconstruction_improves",
            "runs": [{"label": "first", "preset": "plain",
                      "overrides": {**SMALL, "optim.epochs": epochs}},
                     {"label": "second", "preset": "plain",
                      "overrides": {**SMALL, "optim.epochs": epochs, "seed": 1}}]}
    path = folder / "small.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return read_lesson(path)


def test_runs_become_sessions_and_a_second_call_keeps_them(tmp_path):
    lesson = small_lesson(tmp_path)
    out = tmp_path / "out"
    events = []
    result = run_lesson(lesson, out, emit=events.append)
    assert result.outcome == "completed" and result.trained == ["first", "second"]
    assert lesson_done(lesson, out)
    opened = [e for e in events if isinstance(e, LessonRunOpened)]
    assert [(e.label, e.index, e.total, e.kept) for e in opened] == [
        ("first", 0, 2, False), ("second", 1, 2, False)]
    # each run's trainer events follow its LessonRunOpened
    i = events.index(opened[1])
    assert isinstance(events[i + 1], RunStarted) and events[i + 1].config.seed == 1
    assert sum(isinstance(e, EpochEnded) for e in events[:i]) == 3
    for path in lesson_paths(lesson, out):
        with Session.open(path) as s:
            assert s.run().status == "completed" and s.run().epochs_trained == 3
    stamps = [p.stat().st_mtime_ns for p in result.paths]
    events.clear()
    again = run_lesson(lesson, out, emit=events.append)
    assert again.trained == [] and again.kept == ["first", "second"]
    assert [e.kept for e in events] == [True, True]         # nothing else: no training
    assert [p.stat().st_mtime_ns for p in again.paths] == stamps
    assert again.claim.values == result.claim.values
    retrained = run_lesson(lesson, out, again=True)
    assert retrained.trained == ["first", "second"]


def test_changed_settings_or_the_tiny_configuration_retrain(tmp_path):
    out = tmp_path / "out"
    run_lesson(small_lesson(tmp_path, epochs=2), out)
    longer = small_lesson(tmp_path, epochs=3)
    assert not lesson_done(longer, out)
    result = run_lesson(longer, out)
    assert result.trained == ["first", "second"]
    with Session.open(result.paths[0]) as s:
        assert s.run().epochs_trained == 3


def test_a_stopped_lesson_continues_where_it_stopped(tmp_path):
    lesson = small_lesson(tmp_path)
    out = tmp_path / "out"
    control = TrainingControl()
    epochs = []

    def emit(event):
        if isinstance(event, EpochEnded):
            epochs.append(event.epoch)
            if len(epochs) == 2:
                control.stop()   # during the first run's third epoch

    stopped = run_lesson(lesson, out, emit=emit, control=control)
    assert stopped.outcome == "stopped" and stopped.claim is None
    assert not lesson_done(lesson, out)
    with Session.open(stopped.paths[0]) as s:
        assert s.run().status == "stopped" and s.run().epochs_trained == 2
    events = []
    done = run_lesson(lesson, out, emit=events.append)
    assert done.outcome == "completed" and done.trained == ["first", "second"]
    started = [e for e in events if isinstance(e, RunStarted)]
    assert started[0].start_epoch == 3          # resumed from its checkpoint, not retrained
    with Session.open(done.paths[0]) as s:
        run = s.run()
        assert run.status == "completed" and list(run.epoch_history["epoch"]) == [1, 2, 3]
    assert any(isinstance(e, RunFinished) for e in events)


def test_figure_bars_are_named_in_words_not_keys():
    from engine.lessons.figure import bar_names
    assert bar_names(["zero_fraction_without", "zero_fraction_with"]) == {
        "zero_fraction_without": "without", "zero_fraction_with": "with"}
    # a bare number keeps the word that says what it is
    assert bar_names(["kl_beta_0.5", "kl_beta_16"]) == {"kl_beta_0.5": "beta 0.5",
                                                        "kl_beta_16": "beta 16"}
    assert bar_names(["vae_modes", "gan_modes"]) == {"vae_modes": "vae modes",
                                                     "gan_modes": "gan modes"}
