"""A lesson's runs side by side (pytest-qt): each column follows its session file as commits
replace it — a run part-trained, then continued, then a second run appearing — and one slider
moves them all, each at its nearest saved epoch."""

from __future__ import annotations

import pytest

from engine.session import Session, SessionWriter
from engine.jobs import resume_trainer
from tests.engine.session_support import tiny_config, tiny_trainer

VIEWS = ("reconstructions", "kl_per_dimension")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_columns_follow_their_files_and_share_one_slider(qtbot, tmp_path):
    from gui.lessons.run_columns import LessonColumns
    a, b = tmp_path / "beta-1.h5", tmp_path / "beta-4.h5"
    with SessionWriter(a) as writer:                      # 1 of its 3 epochs
        tiny_trainer(tiny_config("vae-2d", epochs=3)).run(writer, until_epoch=1)
    columns = LessonColumns()
    qtbot.addWidget(columns)
    columns.set_runs([a, b], VIEWS)
    first, second = columns.columns
    assert [c.label for c in columns.columns] == ["beta-1", "beta-4"]
    assert first.epochs == [1] and first.shown == 1
    assert second.status == "planned" and second.shown is None
    assert columns.timeline.epochs == [1]
    for view in VIEWS:
        assert len(columns.views(view)) == 2
    assert "beta-4" in columns.headings[1].text() and "not trained" in columns.headings[1].text()
    assert not columns.refresh()                          # nothing new: nothing redrawn

    # The first run goes on in its file (as the lesson's trainer does): the column follows.
    with Session.open(a) as s:
        trainer, until = resume_trainer(s.run(), None)
    with SessionWriter(a, append=True) as writer:
        trainer.run(writer, until_epoch=until)
    assert columns.refresh()
    assert first.epochs == [1, 2, 3] and first.shown == 3 and first.status == "completed"
    assert columns.timeline.current_epoch == 3
    assert "epoch 3 of 3" in columns.headings[0].text()

    # The user goes back to epoch 1; the second run then trains: it shows its nearest
    # saved epoch to the slider's, and the slider stays where the user put it.
    columns.timeline.select_epoch(1)
    assert first.shown == 1
    with SessionWriter(b) as writer:
        tiny_trainer(tiny_config("vae-2d", epochs=2, objective__beta=4.0)).run(writer)
    assert columns.refresh()
    assert columns.timeline.current_epoch == 1 and second.shown == 1 and first.shown == 1
    columns.timeline.select_epoch(3)
    assert (first.shown, second.shown) == (3, 2)
    assert "beta-4 at 2" in columns.timeline.label.text()
    with Session.open(b) as s:
        assert second.state.stored.snapshot(2).arrays["kl_per_dim"].tolist() == \
            s.run().snapshot(2).arrays["kl_per_dim"].tolist()


def test_a_file_that_cannot_be_read_is_said_in_its_column(qtbot, tmp_path):
    from gui.lessons.run_columns import LessonColumns
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"not an HDF5 file")
    columns = LessonColumns()
    qtbot.addWidget(columns)
    problems = []
    columns.problem.connect(problems.append)
    columns.set_runs([bad], VIEWS)
    assert columns.columns[0].problem and "cannot be read" in columns.headings[0].text()
    assert problems and "broken" in problems[0]


def test_the_finetuning_view_shows_features_of_a_stack_and_accuracy_of_a_comparison(
        qtbot, tmp_path):
    """The pretraining lesson's view: the stack's first-stage features, each comparison's
    validation accuracy per initialisation, as its session stores them (replayable)."""
    from engine.lessons import find_lesson, lesson_paths, run_lesson
    from gui.lessons.run_columns import LessonColumns
    lesson = find_lesson("pretraining")
    assert run_lesson(lesson, tmp_path, tiny=True).outcome == "completed"
    paths = lesson_paths(lesson, tmp_path)
    columns = LessonColumns()
    qtbot.addWidget(columns)
    columns.set_runs(paths[:2], ("finetuning",))
    stack, compare = columns.views("finetuning")
    with Session.open(paths[0]) as s:
        width = s.runs["stage-1"].meta["width"]
    assert stack.showing and stack.features.features.shape == (width, 1, 28, 28)
    with Session.open(paths[1]) as s:
        runs = [r for r in s.runs.values() if r.role == "classifier"]
        final = {r.meta["init"]: float(r.epoch_history["val"]["accuracy"][-1]) for r in runs}
        middle = {r.meta["init"]: float(r.epoch_history["val"]["accuracy"][4]) for r in runs}
    assert set(final) == {"pretrained", "random"}
    assert compare.final == pytest.approx(final)
    columns.timeline.select_epoch(5)
    assert compare.final == pytest.approx(middle)
    assert "epoch 5" in compare.caption.text()
