"""Lessons in the window (pytest-qt, offscreen): the Lessons menu, a lesson run with its tiny
configuration into a temporary session folder, its views found with data and its claim
shown; reopened, it shows the saved sessions without training; Run again trains anew;
Stop, a folder that cannot be written and a run that diverges leave the app usable."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from engine.lessons import lesson_done, lesson_paths, load_lessons, measure_claim
from engine.session import Session

LESSON = "denoising"      # two small autoencoders: about a second in its tiny form


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _action_text(action: QAction) -> str:
    return action.text().replace("&", "")


def open_from_menu(qtbot, window, name: str):
    """Lessons → the lesson named ``name``, as a user picks it; its window."""
    menu = window.findChild(QMenu, "lessonsMenu")
    menu.aboutToShow.emit()           # as opening the menu does
    action = window.findChild(QAction, f"lessonAction_{name}")
    assert action is not None, [a.objectName() for a in menu.actions()]
    action.trigger()
    from gui.lessons.lesson_windows import lesson_windows
    lesson_window = lesson_windows(window)[name]
    qtbot.addWidget(lesson_window)
    return lesson_window


def run_and_wait(qtbot, lesson_window, button, timeout: int = 60_000) -> None:
    qtbot.mouseClick(button, Qt.LeftButton)
    assert lesson_window.is_running()
    qtbot.waitUntil(lambda: not lesson_window.is_running(), timeout=timeout)


def _lesson_entries(menu) -> list[str]:
    return [_action_text(a) for a in menu.actions() if a.objectName().startswith("lesson")
            and a.objectName() != "lessonsFolderAction"]


def test_the_lessons_menu_lists_every_lesson_by_number_and_title(window):
    menu = window.findChild(QMenu, "lessonsMenu")
    menu.aboutToShow.emit()
    lessons = load_lessons()
    assert len(lessons) == 13
    assert _lesson_entries(menu) == [f"{x.number}. {x.title}" for x in lessons]


def test_a_teachers_lessons_folder_adds_its_lessons_and_a_bad_file_is_named(
        window, tmp_path):
    import json
    menu = window.findChild(QMenu, "lessonsMenu")
    folder = tmp_path / "my-lessons"
    folder.mkdir()
    mine = json.loads(next(x for x in load_lessons() if x.name == LESSON).path.read_text())
    mine.update(number=14, title="Denoising, harder")
    (folder / "harder-denoising.json").write_text(json.dumps(mine))
    window.menus.choose_lessons_folder(str(folder))
    assert window.preferences.lessons_folder == folder
    menu.aboutToShow.emit()
    assert _lesson_entries(menu)[-1] == "14. Denoising, harder"
    assert window.findChild(QAction, "lessonAction_harder-denoising") is not None
    (folder / "broken.json").write_text("{ not json")
    menu.aboutToShow.emit()
    assert "broken.json" in window.banner.text()
    assert len(_lesson_entries(menu)) == 13           # the bundled ones still listed


def test_a_lesson_runs_shows_its_views_and_claim_reopens_without_training_and_runs_again(
        qtbot, window, preferences):
    w = open_from_menu(qtbot, window, LESSON)
    w.tiny = True
    lesson = w.lesson
    assert w.out_dir == preferences.session_folder / "lessons" / LESSON
    text = w.explanation.toPlainText()
    for part in (lesson.title, lesson.formula, lesson.look_for.split()[0]):
        assert part in text
    assert w.run_button.isVisible() and not w.open_button.isVisible()
    run_and_wait(qtbot, w, w.run_button)
    assert not w.banner.text(), w.banner.text()
    paths = lesson_paths(lesson, w.out_dir)
    assert lesson_done(lesson, w.out_dir, tiny=True)
    # Every view of the lesson, found by its objectName, once per run, each showing data:
    # its run's last saved epoch, read from that run's session.
    from gui.views.code_views import VIEW_PANELS
    lasts = []
    for column, path in zip(w.columns.columns, paths):
        with Session.open(path) as s:
            lasts.append(s.run().snapshot_epochs[-1])
            assert column.state.snapshot(lasts[-1]).arrays["map_latents"].tolist() == \
                s.run().snapshot(lasts[-1]).arrays["map_latents"].tolist()
        assert column.shown == lasts[-1] and column.status == "completed"
    for view in lesson.views:
        cls = VIEW_PANELS[view]
        panels = w.findChildren(cls, cls.object_name)
        assert len(panels) == len(lesson.runs)
        assert [p.epoch for p in panels] == lasts and all(p.showing for p in panels)
    # The claim's numbers: those the engine measures from the saved sessions.
    claim = measure_claim(lesson, paths)
    assert w.claim_result.values == pytest.approx(claim.values)
    assert claim.sentence in w.claim.sentence()
    assert w.claim.holds == claim.holds
    assert w.open_button.isVisible() and w.again_button.isVisible()
    assert not w.run_button.isVisible()
    stamps = [p.stat().st_mtime_ns for p in paths]
    w.close()
    # Reopened from the menu: the saved sessions, measured again, nothing trained.
    w.open_seconds = None
    again = open_from_menu(qtbot, window, LESSON)      # the same window, its folder read anew
    assert again.isVisible() and again.tiny
    assert not again.is_running()
    assert again.claim_result.values == pytest.approx(claim.values)
    assert [c.shown for c in again.columns.columns] == lasts
    assert [p.stat().st_mtime_ns for p in paths] == stamps
    assert again.open_seconds is not None
    # ... and in a new window (the app started again): the same, nothing trained.
    from gui.lessons.lesson_window import LessonWindow
    fresh = LessonWindow(lesson, preferences, tiny=True)
    qtbot.addWidget(fresh)
    fresh.show()
    assert fresh.job is None and fresh.open_button.isVisible()
    assert fresh.claim_result.values == pytest.approx(claim.values)
    assert [p.stat().st_mtime_ns for p in paths] == stamps
    # Run again: every run trained anew, into the same files.
    assert again.again_button.isVisible() and again.again_button.isEnabled()
    run_and_wait(qtbot, again, again.again_button)
    for p, before in zip(paths, stamps):
        assert p.stat().st_mtime_ns > before
        with Session.open(p) as s:
            assert s.run().status == "completed"
    assert again.claim_result is not None and lesson_done(lesson, again.out_dir, tiny=True)


def test_stop_ends_the_lesson_before_its_runs_are_done(qtbot, window):
    w = open_from_menu(qtbot, window, LESSON)
    w.tiny = True
    qtbot.mouseClick(w.run_button, Qt.LeftButton)
    assert w.stop_button.isVisible() and w.stop_button.isEnabled()
    assert not w.run_button.isEnabled()
    qtbot.mouseClick(w.stop_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not w.is_running(), timeout=30_000)
    assert not lesson_done(w.lesson, w.out_dir, tiny=True)
    assert "Stopped" in w.progress_label.text()
    assert w.claim_result is None and w.run_button.isVisible() and w.run_button.isEnabled()
    # Closed while training: the training thread is stopped and waited for.
    qtbot.mouseClick(w.run_button, Qt.LeftButton)
    w.close()
    assert not w.job.is_running()
    qtbot.waitUntil(lambda: not w.is_running(), timeout=10_000)


def test_a_folder_that_cannot_be_written_is_said_and_nothing_starts(qtbot, window, tmp_path,
                                                                   preferences):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the session folder should be")
    preferences.session_folder = blocker
    w = open_from_menu(qtbot, window, LESSON)
    qtbot.mouseClick(w.run_button, Qt.LeftButton)
    assert not w.is_running()
    assert w.banner.kind == "error" and "Cannot write" in w.banner.text()
    assert str(blocker) in w.banner.text()
    assert window.isVisible() and window.menus.lessons_menu.isEnabled()


def test_a_run_that_diverges_is_said_in_the_window(qtbot, window, tmp_path, preferences):
    from gui.lessons.lesson_window import LessonWindow
    lesson = next(x for x in load_lessons() if x.name == LESSON)
    wild = dataclasses.replace(lesson, runs=tuple(
        dataclasses.replace(r, tiny_overrides={**r.tiny_overrides, "optim.optimizer": "sgd",
                                                "optim.lr": 10.0})
        for r in lesson.runs))
    w = LessonWindow(wild, preferences, out_dir=tmp_path / "wild", tiny=True)
    qtbot.addWidget(w)
    w.show()
    run_and_wait(qtbot, w, w.run_button)
    assert w.banner.kind == "error" and "diverged" in w.banner.text()
    assert w.claim_result is None and not lesson_done(wild, w.out_dir, tiny=True)
    assert "did not finish" in w.progress_label.text()
    assert w.run_button.isEnabled()


def test_the_views_fill_in_while_a_run_trains(qtbot, window, tmp_path, preferences):
    """The first run's column shows its epochs while it still trains (followed from its
    session file as it commits); the progress says which run and epoch; Stop ends it."""
    from gui.lessons.lesson_window import LessonWindow
    lesson = next(x for x in load_lessons() if x.name == LESSON)
    longer = dataclasses.replace(lesson, runs=tuple(
        dataclasses.replace(r, tiny_overrides={**r.tiny_overrides, "optim.epochs": 40})
        for r in lesson.runs))
    w = LessonWindow(longer, preferences, out_dir=tmp_path / "longer", tiny=True)
    qtbot.addWidget(w)
    w.show()
    qtbot.mouseClick(w.run_button, Qt.LeftButton)
    first = w.columns.columns[0]
    qtbot.waitUntil(lambda: first.status == "running" and first.shown is not None
                    and first.shown >= 2, timeout=60_000)
    assert first.shown in first.epochs
    label = w.progress_label.text()
    assert label.startswith(f"Training {lesson.runs[0].label} (run 1 of 2)") and "of 40" in label
    assert 0 < w.progress_bar.value() < 500
    for view in lesson.views:
        assert w.columns.views(view)[0].epoch == first.shown
    qtbot.mouseClick(w.stop_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not w.is_running(), timeout=30_000)
    assert w.columns.columns[0].status == "stopped"


def test_a_lesson_window_closes_with_the_main_window(qtbot, window):
    w = open_from_menu(qtbot, window, LESSON)
    assert open_from_menu(qtbot, window, LESSON) is w          # open: raised, not doubled
    assert w.isVisible()
    window.close()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5_000)
