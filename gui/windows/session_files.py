"""The main window's session files: open, save as, the recent list, the session folder.

:class:`SessionFiles` is a collaborator of the
:class:`~gui.windows.main_window.MainWindow`, not a part of it: it is given
what it works with — the run model, the run controller, the preferences, the
message strip and the window's status bar — and tells the window what
happened through signals (:attr:`~SessionFiles.opened`,
:attr:`~SessionFiles.recent_changed`); how the window then shows an opened
session (the form, the tab, the progress bar) is the window's.

It owns the session strip of the status bar: the file on display, and the
session folder with what it holds against the user's budget, with Change…
and Manage… (the folder dialog, where old files are deleted).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QStatusBar, QToolButton, QWidget

from engine.config import RunConfig
from engine.errors import SessionError
from engine.session import Session
from engine.session.size import estimate_session_bytes
from engine.words import size_words
from gui.dialogs.session_folder import SessionFolderDialog
from gui.preferences import Preferences
from gui.run.controller import RunController
from gui.run.model import RunModel
from gui.session_folder import folder_words, list_sessions, over_budget_words
from gui.widgets.elided_label import ElidedLabel
from gui.widgets.frame import row_of
from gui.widgets.message_banner import MessageBanner
from gui.widgets.naming import named

SESSION_FILTER = "Autoencoder Studio sessions (*.h5 *.hdf5);;All files (*)"


class SessionFiles(QObject):
    """Session files of the window (see the module docstring).

    Parameters
    ----------
    model : the runs on display (an opened session is loaded into it).
    controller : asked whether something trains, and which file it writes.
    preferences : the session folder, its budgets and the recent list.
    banner : the window's message strip.
    status_bar : where the session strip goes.
    parent : the window (the parent of the dialogs).

    Signals
    -------
    opened(object) : a :class:`~engine.session.Session` is now shown (released once the
        window has read what it needs).
    recent_changed() : the recent list changed (the menu rebuilds it).
    """

    opened = Signal(object)
    recent_changed = Signal()

    def __init__(self, model: RunModel, controller: RunController, preferences: Preferences,
                 banner: MessageBanner, status_bar: QStatusBar, parent: QWidget):
        super().__init__(parent)
        self.model, self.controller, self.preferences = model, controller, preferences
        self.banner, self.parent_widget = banner, parent
        self._budget_checked_for: Path | None = None
        # A long path must not widen the window: the labels shorten it with "…" (the whole
        # text is their tooltip).
        self.session_label = named(ElidedLabel("No session", Qt.ElideMiddle), "sessionLabel",
                                   "Current session file")
        self.folder_label = named(ElidedLabel("", Qt.ElideMiddle, min_chars=20),
                                  "sessionFolderLabel", "Session folder")
        self.folder_button = named(QToolButton(), "changeSessionFolderButton",
                                   "Change session folder")
        self.folder_button.setText("Change…")
        self.folder_button.clicked.connect(self.choose_folder)
        self.manage_button = named(QToolButton(), "manageSessionsButton",
                                   "Show the session folder's files, to delete old ones")
        self.manage_button.setText("Manage…")
        self.manage_button.clicked.connect(self.manage)
        status_bar.addWidget(self.session_label, 1)
        status_bar.addPermanentWidget(row_of(self.folder_label, self.folder_button,
                                             self.manage_button), 1)
        self.update_folder_label()
        controller.session_written.connect(self._on_session_written)
        model.run_added.connect(self.check_folder_budget)

    # -- the session folder -----------------------------------------------------------------
    def update_folder_label(self) -> None:
        """The session folder and what it holds, lessons too, against the user's budget."""
        folder = self.preferences.session_folder
        items = list_sessions(folder)
        words = folder_words(items, self.preferences.folder_budget)
        self.folder_label.setText(f"Sessions saved in: {folder} ({words})" if items else
                                  f"Sessions saved in: {folder}")
        self.folder_label.setToolTip(f"{folder}: {words}")

    def manage(self) -> SessionFolderDialog:
        """What the session folder holds, to delete what is no longer needed, and its
        budgets."""
        keep = {p for p in (self.model.session_path, self.controller.session_path) if p}
        dialog = SessionFolderDialog(self.preferences.session_folder, keep, self.parent_widget,
                                     preferences=self.preferences)
        dialog.deleted.connect(lambda _paths: self._after_delete())
        dialog.budgets_changed.connect(self._after_budgets_changed)
        dialog.finished.connect(lambda _code: self.update_folder_label())
        dialog.show()
        return dialog

    def _after_budgets_changed(self) -> None:
        self.model.weights_budget = self.preferences.weights_budget
        self.update_folder_label()

    def check_folder_budget(self, run) -> None:
        """A run this window starts training: say so if it would take the session folder
        past the user's budget, and offer Manage… (nothing is deleted by itself)."""
        path = self.controller.session_path
        if run.stored is not None or not self.controller.is_running() or path is None \
                or self._budget_checked_for == path or run.config is None:
            return
        self._budget_checked_for = path
        try:
            adds = estimate_session_bytes(run.config, tuple(run.data.image_shape),
                                          len(run.data.probe_images), run.planned_epochs,
                                          self.preferences.weights_budget)
        except Exception:  # noqa: BLE001 - an estimate must never stop a run
            return
        used = sum(s.size for s in list_sessions(self.preferences.session_folder))
        words = over_budget_words(used, adds, self.preferences.folder_budget)
        if words:
            self.banner.show_message(words, "info", action=("Manage…", self.manage))

    def after_training(self) -> None:
        """A job ended: the folder's label again, and, if the folder is now past the
        budget, say so beside the outcome."""
        self.update_folder_label()
        if self._budget_checked_for is None:
            return
        self._budget_checked_for = None
        budget = self.preferences.folder_budget
        used = sum(s.size for s in list_sessions(self.preferences.session_folder))
        if 0 < budget < used:
            before = self.banner.text() if self.banner.kind == "info" else ""
            self.banner.show_message(
                f"{before} The session folder now holds {size_words(used)}, past your "
                f"budget of {size_words(budget)}: choose what to delete in Manage… (nothing "
                f"is deleted by itself).".strip(), "info", action=("Manage…", self.manage))

    def _after_delete(self) -> None:
        existing = [p for p in self.preferences.recent_sessions() if Path(p).exists()]
        self.preferences.clear_recent_sessions()
        for p in reversed(existing):
            self.preferences.add_recent_session(p)
        self.recent_changed.emit()
        self.update_folder_label()

    def _on_session_written(self, path: str) -> None:
        self.update_folder_label()
        self.session_label.setText(f"Session: {path}")
        self.session_label.setToolTip(path)
        self.remember(path)

    def remember(self, path: str | Path) -> None:
        """Put ``path`` first in the recent list (and its name in the strip's tooltip)."""
        self.preferences.add_recent_session(path)
        self.session_label.setToolTip(str(path))
        self.recent_changed.emit()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.parent_widget, "Folder for new sessions",
                                                  str(self.preferences.session_folder))
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str | Path) -> None:
        self.preferences.session_folder = folder
        self.update_folder_label()

    # -- sessions ---------------------------------------------------------------------------
    def open(self, path: str | Path) -> bool:
        """Show the session at ``path``; a problem becomes a message, not an exception."""
        if self.controller.is_running():
            self.banner.show_message("Stop training before opening a session.", "error")
            return False
        try:
            session = Session.open(path)
        except SessionError as e:
            self.banner.show_message(str(e), "error")
            return False
        self.release_displayed()
        try:
            self.model.load_session(session)
        except SessionError as e:
            session.close()
            self.model.clear()
            self.banner.show_message(str(e), "error")
            return False
        primary = session.run()
        self.remember(session.path)
        self.opened.emit(session)
        self.session_label.setText(f"Session: {session.path} ({primary.status})")
        words = opening_words(session, self.model)
        if words:
            self.banner.show_message(*words)
        else:
            self.banner.clear()
        return True

    def release_displayed(self) -> None:
        """Close the files of the runs on display (a writer may replace them)."""
        for run in self.model.runs.values():
            if run.stored is not None:
                run.stored.session.close()

    def choose_to_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open session",
                                              str(self.preferences.session_folder),
                                              SESSION_FILTER)
        if path:
            self.open(path)

    def save_as(self, target: str | Path) -> bool:
        """Copy the displayed session file to ``target``."""
        path = self.model.session_path
        if path is None or not Path(path).exists():
            self.banner.show_message("There is no session file to save yet.", "error")
            return False
        try:
            shutil.copy2(path, target)
        except OSError as e:
            self.banner.show_message(f"Cannot save the session to {target}: {e}", "error")
            return False
        self.preferences.add_recent_session(target)
        self.recent_changed.emit()
        self.banner.show_message(f"Session saved as {target}", "info")
        return True

    def choose_save_as(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.parent_widget, "Save session as",
                                              str(self.preferences.session_folder),
                                              SESSION_FILTER)
        if path:
            self.save_as(path)


def opening_words(session: Session, model: RunModel) -> tuple[str, str] | None:
    """What the message strip says about a session just opened (text, kind): a run it
    could not show, a failure, a stop, a job left unfinished; None: nothing to say."""
    primary = session.run()
    unfinished = [r for r in session.runs.values() if r.status in ("running", "stopped")
                  and r.run_id in {p.run_id for p in model.plan}]
    if session.problems:
        run_id, problem = next(iter(session.problems.items()))
        return f"The session is shown, but not its run '{run_id}': {problem}", "error"
    if primary.status == "failed" and primary.status_message:
        return f"This run failed: {primary.status_message}", "info"
    if primary.status == "stopped" and primary.status_message:   # a full disk
        return f"This run stopped ({primary.status_message}).", "info"
    if unfinished and session.format_version >= 2:
        return (f"{session.path.name}: its {session.jobs[unfinished[0].job_id].title} "
                f"stopped during '{unfinished[0].title}'; Continue finishes it.", "info")
    return None


def form_config(session: Session) -> RunConfig:
    """The config the form shows for a session: its job's (a stack) or its main run's."""
    for job in session.jobs.values():
        if job.kind == "pretrain":
            try:
                return RunConfig.from_json(job.spec_json)
            except Exception:  # noqa: BLE001 - a version 1 spec: the run's config then
                break
    return session.run().config
