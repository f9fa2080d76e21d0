"""The main window's menu bar: File (sessions, recent list, figures), Run and Lessons.

:class:`WindowMenus` builds the menus from the window's own slots and keeps
the "Open recent" list in step with the preferences. Every action has an
object name, so automation finds it as it finds the buttons.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow

from gui.views.figure_export import figure_title, why_not_exportable
from gui.widgets.markup import menu_text
from gui.widgets.naming import make_action


class WindowMenus:
    """The File and Run menus of ``window`` (a :class:`~gui.windows.main_window.MainWindow`).

    Attributes
    ----------
    new_action, open_action, train_action, ... : the actions, for enabling.
    recent_menu : "Open recent"; :meth:`rebuild_recent` refills it.
    """

    def __init__(self, window: QMainWindow):
        self.window = w = window
        menu = w.menuBar().addMenu("&File")
        menu.setObjectName("fileMenu")
        self.new_action = make_action(w, "&New run", "newRunAction", w.new_run,
                                      QKeySequence.New)
        self.open_action = make_action(w, "&Open session…", "openSessionAction",
                                       w.sessions.choose_to_open, QKeySequence.Open)
        self.save_as_action = make_action(w, "&Save session as…", "saveSessionAsAction",
                                          w.sessions.choose_save_as, QKeySequence.SaveAs)
        self.folder_action = make_action(w, "Session &folder…", "sessionFolderAction",
                                         w.sessions.choose_folder)
        self.manage_action = make_action(w, "&Manage saved sessions…", "manageSessionsAction",
                                         w.manage_sessions)
        self.compare_action = make_action(w, "&Compare sessions…", "compareSessionsAction",
                                          lambda: _compare(w))
        self.sweep_action = make_action(w, "Open s&weep folder…", "openSweepAction",
                                        lambda: _compare(w, sweep=True))
        menu.addActions([self.new_action, self.open_action, self.compare_action,
                         self.sweep_action])
        self.recent_menu = menu.addMenu("Open &recent")
        self.recent_menu.setObjectName("recentSessionsMenu")
        menu.addActions([self.save_as_action, self.folder_action, self.manage_action])
        self.export_menu = menu.addMenu("&Export figure")
        self.export_menu.setObjectName("exportFigureMenu")
        self.export_actions = {}
        for key in [*w.frames, "window"]:
            self.export_actions[key] = make_action(
                w, f"{menu_text(figure_title(w, key))}…", f"export_{key}",
                lambda _=False, k=key: self.choose_export(k))
            self.export_menu.addAction(self.export_actions[key])
        self.export_menu.aboutToShow.connect(self.update_exports)
        menu.addSeparator()
        menu.addAction(make_action(w, "&Quit", "quitAction", w.close, QKeySequence.Quit))
        run = w.menuBar().addMenu("&Run")
        run.setObjectName("runMenu")
        c = w.controller
        self.train_action = make_action(w, "&Train", "trainAction", w.train, "Ctrl+Return")
        self.pause_action = make_action(w, "&Pause", "pauseAction", c.pause)
        self.resume_action = make_action(w, "&Resume", "resumeAction", c.resume)
        self.stop_action = make_action(w, "&Stop", "stopAction", c.stop, "Ctrl+.")
        run.addActions([self.train_action, self.pause_action, self.resume_action,
                        self.stop_action])
        self.lessons_menu = w.menuBar().addMenu("&Lessons")
        self.lessons_menu.setObjectName("lessonsMenu")
        self.lessons_menu.aboutToShow.connect(self.rebuild_lessons)
        self._lessons_shown: tuple | None = None
        self.rebuild_lessons()
        self.rebuild_recent()

    def update_exports(self) -> None:
        """Export figure lists only the panels that apply to the run on display (a VAE
        offered the RBM's Gibbs chains, and wrote an empty picture), titled as now shown."""
        for key, action in self.export_actions.items():
            action.setText(f"{menu_text(figure_title(self.window, key))}…")
            action.setVisible(not why_not_exportable(self.window, key))

    def choose_export(self, which: str) -> None:
        """File → Export figure → a panel: where to write its PNG (beside the session)."""
        w = self.window
        folder = Path(w.model.session_path).parent if w.model.session_path else \
            Path(w.preferences.session_folder)
        path, _ = QFileDialog.getSaveFileName(w, f"Export {figure_title(w, which)}",
                                              str(folder / f"{which}.png"),
                                              "PNG images (*.png)")
        if path:
            w.export_figure(which, path)

    def set_idle(self, idle: bool) -> None:
        """Starting, opening and training only while nothing trains."""
        for action in (self.new_action, self.open_action, self.train_action):
            action.setEnabled(idle)
        self.recent_menu.setEnabled(idle)

    def rebuild_recent(self) -> None:
        w, menu = self.window, self.recent_menu
        menu.clear()
        recent = w.preferences.recent_sessions()
        for i, path in enumerate(recent):
            menu.addAction(make_action(w, f"&{i + 1} {menu_text(Path(path).name)}",
                                       f"recentSession{i}",
                                       lambda _=False, p=path: w.open_session(p)))
        if recent:
            menu.addSeparator()
            menu.addAction(make_action(w, "Clear list", "clearRecentAction", self._clear))
        else:
            empty = menu.addAction("(none yet)")
            empty.setEnabled(False)

    def rebuild_lessons(self) -> None:
        """One entry per lesson, "2. The identity risk", read each time the menu opens (a
        teacher's new lesson file shows up without a restart), then *Lessons folder…*. A
        lesson file that cannot be read is named in the menu and the message strip; the
        bundled lessons are then listed without the teacher's folder."""
        from engine.errors import StudioError
        from engine.lessons import load_lessons
        w, menu = self.window, self.lessons_menu
        folder = w.preferences.lessons_folder
        try:
            lessons, problem = load_lessons(folder), None
        except StudioError as e:
            problem = str(e)
            try:
                lessons = load_lessons() if folder is not None else []
            except StudioError:
                lessons = []
        if (lessons, problem, folder) == self._lessons_shown:
            return
        self._lessons_shown = (lessons, problem, folder)
        menu.clear()      # the actions are the menu's: clearing deletes them
        if problem:
            bad = menu.addAction(menu_text(f"(a lesson cannot be read: {problem})"))
            bad.setEnabled(False)
            w.show_message(f"A lesson cannot be read: {problem}", "error")
        for lesson in lessons:
            menu.addAction(make_action(menu, f"&{lesson.number}. {menu_text(lesson.title)}",
                                       f"lessonAction_{lesson.name}",
                                       lambda _=False, x=lesson: _open_lesson(w, x)))
        if not lessons and not problem:
            empty = menu.addAction("(no lessons)")
            empty.setEnabled(False)
        menu.addSeparator()
        menu.addAction(make_action(menu, "Lessons &folder…", "lessonsFolderAction",
                                   lambda: self.choose_lessons_folder()))

    def choose_lessons_folder(self, folder: str | None = None) -> None:
        """Lessons → Lessons folder…: a folder of a teacher's own lesson files (beside the
        bundled ones); none chosen keeps the current one."""
        w = self.window
        if folder is None:
            folder = QFileDialog.getExistingDirectory(
                w, "A folder of your own lessons (*.json, see docs/lessons.md)",
                str(w.preferences.lessons_folder or w.preferences.session_folder))
        if folder:
            w.preferences.lessons_folder = folder
            self.rebuild_lessons()

    def _clear(self) -> None:
        self.window.preferences.clear_recent_sessions()
        self.rebuild_recent()


def _compare(window, sweep: bool = False):
    """File → Compare sessions… / Open sweep folder…: a comparison window of its own."""
    from gui.windows.compare_window import choose_sessions_to_compare, choose_sweep_to_compare
    return (choose_sweep_to_compare if sweep else choose_sessions_to_compare)(window)


def _open_lesson(window, lesson):
    """Lessons → a lesson: its own window (raised when already open)."""
    from gui.lessons.lesson_windows import open_lesson_window
    return open_lesson_window(lesson, window.preferences, window)
