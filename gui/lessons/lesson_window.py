"""The lesson window: one claim of the course notes, its explanation, its runs and its numbers.

Lessons → a lesson (in the main window's menu bar) opens it. On the left the
explanation (:class:`~gui.lessons.explanation.LessonExplanation`), the
buttons, the progress and the claim's numbers; on the right the lesson's
views, a column per run (:class:`~gui.lessons.run_columns.LessonColumns`),
with one replay slider.

A lesson's runs are ordinary sessions in its folder (default
``<session folder>/lessons/<name>``). A lesson already run opens them at once
and measures its claim from them (no training); **Run** trains the runs not
yet saved, **Run again** replaces them all. Training is
``engine.lessons.run_lesson`` on the app's one
:class:`~gui.run.worker.Worker` thread; the window follows the session files as
the trainer commits them, so each run's views fill in while it trains.
Errors (a run that diverges, a folder that cannot be written) go to the
window's message strip; the app goes on.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QHBoxLayout, QMainWindow, QProgressBar, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from engine.errors import StudioError
from engine.events import RunFailed, RunOpened, RunStarted
from engine.lessons import (LessonRunOpened, lesson_done, lesson_paths, measure_claim,
                            run_lesson)
from gui.gui_thread_gc import collect_garbage_on_gui_thread
from gui.native_memory import limit_malloc_arenas
from gui.lessons.explanation import ClaimLabel, LessonExplanation
from gui.lessons.progress import LessonProgress
from gui.lessons.run_columns import LessonColumns
from gui.widgets.elided_label import ElidedLabel
from gui.widgets.message_banner import MessageBanner
from gui.widgets.naming import named
from gui.window_layout import fit_to_screen
from gui.run.worker import Job, Worker

log = logging.getLogger(__name__)

POLL_MS = 400                 # how often the session files are looked at while training
EXPLANATION_WIDTH = 360       # the left column; the runs get the rest of 1366 pixels


def lesson_folder(preferences, lesson) -> Path:
    """Where a lesson's sessions live: ``<session folder>/lessons/<name>``."""
    return Path(preferences.session_folder) / "lessons" / lesson.name


class LessonWindow(QMainWindow):
    """One lesson (see the module docstring).

    Parameters
    ----------
    lesson : an ``engine.lessons.Lesson``.
    preferences : the app's :class:`~gui.preferences.Preferences` (its session folder).
    out_dir : the lesson's folder; default :func:`lesson_folder`.
    tiny : train (and count as done) the lesson's tiny configuration: the tests'
        seconds-long runs. A folder holding the tiny runs is not done for the full ones.

    Attributes
    ----------
    claim_result : the last ``ClaimResult`` shown, or None.
    open_seconds : how long opening the saved sessions and measuring took (the last time).
    """

    def __init__(self, lesson, preferences, out_dir: str | Path | None = None,
                 tiny: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        collect_garbage_on_gui_thread()
        limit_malloc_arenas()      # the runs' threads share one malloc arena
        self.lesson = lesson
        self.preferences = preferences
        self.out_dir = Path(out_dir) if out_dir is not None else lesson_folder(preferences, lesson)
        self._tiny = tiny
        self.claim_result = None
        self.open_seconds: float | None = None
        self.job: Job | None = None
        self._results: list = []
        self._failures: list[str] = []
        self.progress = LessonProgress()
        named(self, "lessonWindow", f"Lesson {lesson.number}: {lesson.title}")
        self.setWindowTitle(f"Lesson {lesson.number} — {lesson.title}")
        self.banner = MessageBanner()
        self.explanation = LessonExplanation(lesson)
        self.columns = LessonColumns()
        self.columns.problem.connect(lambda text: self.show_message(text, "error"))
        self.claim = ClaimLabel()
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)
        fit_to_screen(self)
        self.open_saved()

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.run_button = named(QPushButton("Run"), "runLessonButton", "Run the lesson",
                                "Train the lesson's runs that are not saved yet")
        self.open_button = named(QPushButton("Open"), "openLessonButton",
                                 "Open the saved runs", "Read the lesson's saved sessions again")
        self.again_button = named(QPushButton("Run again"), "runLessonAgainButton",
                                  "Run the lesson again",
                                  "Replace the lesson's saved sessions with new runs")
        self.stop_button = named(QPushButton("Stop"), "stopLessonButton", "Stop the lesson",
                                 "Stop training; Run continues with the runs not yet saved")
        self.run_button.clicked.connect(lambda: self.run())
        self.open_button.clicked.connect(self.open_saved)
        self.again_button.clicked.connect(lambda: self.run(again=True))
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for b in (self.run_button, self.open_button, self.again_button, self.stop_button):
            buttons.addWidget(b)
        self.progress_label = named(ElidedLabel(""), "lessonProgressLabel",
                                    "What the lesson is training")
        self.progress_bar = named(QProgressBar(), "lessonProgressBar", "Lesson progress")
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(10)
        self.folder_label = named(ElidedLabel("", Qt.ElideMiddle), "lessonFolderLabel",
                                  "Where the lesson's sessions are")
        self.folder_label.setStyleSheet("color:#555;")
        left = QWidget()
        v = QVBoxLayout(left)
        v.setContentsMargins(0, 0, 4, 0)
        v.addWidget(self.explanation, 1)
        v.addLayout(buttons)
        v.addWidget(self.progress_label)
        v.addWidget(self.progress_bar)
        v.addWidget(self.claim)
        v.addStretch(0)      # what the explanation (its stretch, up to its text) leaves
        v.addWidget(self.folder_label)
        left.setMinimumWidth(300)
        split = named(QSplitter(Qt.Horizontal), "lessonSplitter", "Explanation and runs")
        split.addWidget(left)
        split.addWidget(self.columns)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(1, 1)
        split.setSizes([EXPLANATION_WIDTH, 1000])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)
        self.setCentralWidget(central)

    # -- what is saved --------------------------------------------------------------------
    @property
    def paths(self) -> list[Path]:
        return lesson_paths(self.lesson, self.out_dir)

    @property
    def tiny(self) -> bool:
        return self._tiny

    @tiny.setter
    def tiny(self, tiny: bool) -> None:
        """Switch to (or from) the tiny configuration: what is done changes with it."""
        self._tiny = bool(tiny)
        if self.job is None:
            self.open_saved()

    def is_done(self) -> bool:
        """Every run saved, complete, with the lesson's settings (False when they are bad:
        :meth:`run` then says why)."""
        try:
            return lesson_done(self.lesson, self.out_dir, tiny=self._tiny)
        except StudioError:
            return False

    def open_saved(self) -> None:
        """Show the saved sessions (each run that has one) and, when all are, the claim."""
        start = time.perf_counter()
        self.columns.set_runs(self.paths, tuple(self.lesson.views))
        done = self.is_done()
        if done:
            self._measure()
        else:
            saved = sum(c.status == "completed" for c in self.columns.columns)
            n = len(self.paths)
            self.claim.show_waiting(
                "The saved runs were trained with other settings (the lesson changed, or "
                "its tiny form ran here): Run trains them again." if saved == n else
                f"{saved} of {n} runs saved. Run trains the rest; the numbers behind the "
                "claim appear when all are done." if saved else
                "Run trains the lesson; the numbers behind the claim appear when its runs "
                "are done.")
            self.claim_result = None
        self.open_seconds = time.perf_counter() - start
        self.progress_label.setText("All runs saved: showing them." if done else "")
        self.progress_bar.setValue(1000 if done else 0)
        self.folder_label.setText(f"Sessions: {self.out_dir}")
        self._update_buttons()

    def _measure(self) -> None:
        try:
            self.show_claim(measure_claim(self.lesson, self.paths))
        except Exception as e:  # noqa: BLE001 - a bad session or a bug: say so, go on
            if not isinstance(e, StudioError):
                log.exception("measuring lesson %s failed", self.lesson.name)
            self.claim_result = None
            self.claim.show_waiting("The claim could not be measured.")
            self.show_message(f"The claim could not be measured: {e}", "error")

    def show_claim(self, claim) -> None:
        self.claim_result = claim
        self.claim.show_result(claim)

    # -- training -------------------------------------------------------------------------
    def run(self, again: bool = False) -> bool:
        """Train the runs not saved yet (``again``: all of them, replacing the saved ones)."""
        if self.job is not None:
            return False
        problem = _writable_folder(self.out_dir)
        if problem:
            self.show_message(problem, "error")
            return False
        if again:      # the columns then show the new runs only, not the old beside them
            for path in self.paths:
                try:
                    path.unlink(missing_ok=True)
                except OSError as e:
                    self.show_message(f"Cannot replace {path}: {e.strerror or e}.", "error")
                    return False
        self.banner.clear()
        self.columns.set_runs(self.paths, tuple(self.lesson.views))
        self.claim_result = None
        self.claim.show_waiting("Training… the numbers behind the claim follow the last run.")
        lesson, out, tiny, results = self.lesson, self.out_dir, self._tiny, []
        self._results, self._failures, self.progress = results, [], LessonProgress()

        def job(emit, control):
            if control.stop_requested:   # closed before it began
                return
            results.append(run_lesson(lesson, out, emit=emit, control=control, tiny=tiny,
                                      again=again))

        worker = Worker(job)
        worker.event.connect(self._on_event)
        self.job = Job(worker, self)
        self.job.finished.connect(self._on_finished)
        self.job.start()
        self.timer.start()
        self._update_progress()
        self._update_buttons()
        return True

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()
            self.progress_label.setText("Stopping…")

    def is_running(self) -> bool:
        return self.job is not None

    def _on_event(self, ev) -> None:
        self.progress.on_event(ev)
        if (isinstance(ev, LessonRunOpened) and not ev.kept) or isinstance(ev, RunOpened):
            self.columns.hold = True     # its trainer (or a stage's) is being built, and seeded
        elif isinstance(ev, (RunStarted, RunFailed)):
            self.columns.hold = False
        if isinstance(ev, RunStarted):
            self.columns.refresh()       # its file appears: show it at once
        elif isinstance(ev, RunFailed):
            self._failures.append(ev.message)
            self.show_message(ev.message, "error")
        self._update_progress()

    def _poll(self) -> None:
        self.columns.refresh()
        self._update_progress()

    def _update_progress(self) -> None:
        if self.job is not None:
            self.progress_label.setText(self.progress.words())
            self.progress_bar.setValue(int(1000 * self.progress.fraction))

    def _on_finished(self) -> None:
        self.timer.stop()
        self.columns.hold = False
        stopped = self.job.control.stop_requested
        self.job = None
        self.columns.refresh(force=True)
        self.columns.timeline.flush_follow()
        result = self._results[0] if self._results else None
        outcome = getattr(result, "outcome", "failed")
        done = self.is_done()
        if outcome == "completed" and result.claim is not None:
            self.show_claim(result.claim)
            self.progress_label.setText("Done: every run is saved.")
        elif stopped or outcome == "stopped":
            self.progress_label.setText("Stopped. Run trains the runs not yet saved.")
            self.claim.show_waiting("Stopped before every run was done.")
        else:
            self.progress_label.setText("The lesson did not finish: see the message above.")
            self.claim.show_waiting("The claim needs every run; one did not finish.")
            message = getattr(result, "message", "")
            if not self._failures:
                self.show_message(message or "The lesson ended before all its runs were "
                                  "saved.", "error")
        self.progress_bar.setValue(1000 if done else self.progress_bar.value())
        self._update_buttons()

    # -- the rest ---------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        busy = self.job is not None
        done = not busy and self.is_done()
        saved = any(p.exists() for p in self.paths)
        self.run_button.setVisible(not done)
        self.open_button.setVisible(done)
        self.again_button.setVisible(saved or busy)
        for b in (self.run_button, self.open_button, self.again_button):
            b.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self.stop_button.setVisible(busy)

    def show_message(self, text: str, kind: str = "error") -> None:
        """Show ``text`` in the window's message strip (never a blocking dialog)."""
        self.banner.show_message(text, kind)

    def save_png(self, path: str | Path) -> bool:
        """The whole window as a PNG (the README's screenshots)."""
        return self.grab().save(str(path), "PNG")

    def shutdown(self, timeout_ms: int = 15_000) -> bool:
        """Stop training and wait for its thread (the window or the app closing)."""
        if self.job is None:
            return True
        self.timer.stop()
        return self.job.shutdown(timeout_ms)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)


def _writable_folder(folder: Path) -> str | None:
    """None when the lesson can write its sessions in ``folder`` (made if missing), else why."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        return (f"Cannot write the lesson's sessions in {folder}: {e.strerror or e}. Choose "
                "another session folder (File → Session folder… in the main window) and "
                "open the lesson again.")
    return None
