"""The main window's session actions: open, save as, recent sessions, the folder, exports.

:class:`SessionActions` is a mixin of :class:`~gui.main_window.MainWindow`:
what the File menu and the session strip do with session files — show one
(:meth:`~SessionActions.open_session`), copy it elsewhere, keep the recent
list and the session folder's label current, delete old files through the
folder dialog — and the PNG exports of panels (:mod:`gui.figure_export`). It uses the window's model,
controller, preferences, menus and panels; composing them is the window's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog

from engine.config import RunConfig
from engine.errors import SessionError
from engine.session import Session
from engine.session.size import estimate_session_bytes
from engine.words import size_words
from gui.dialogs.session_folder import SessionFolderDialog
from gui.figure_export import (bring_forward, figure_title, render_plots, render_widget,
                               why_not_exportable)
from gui.session_folder import folder_words, list_sessions, over_budget_words

SESSION_FILTER = "Autoencoder Studio sessions (*.h5 *.hdf5);;All files (*)"
#: the window's tabs, in order (an opened session shows the first with something to show)
TRAINING_TAB, CODE_VIEWS_TAB, FINE_TUNING_TAB = 0, 1, 2


class SessionActions:
    """Session files and figure exports of the window (a mixin of a QMainWindow)."""

    # -- the session folder -----------------------------------------------------------------
    def _update_folder_label(self) -> None:
        """The session folder and what it holds, lessons too, against the user's budget."""
        folder = self.preferences.session_folder
        items = list_sessions(folder)
        words = folder_words(items, self.preferences.folder_budget)
        self.folder_label.setText(f"Sessions saved in: {folder} ({words})" if items else
                                  f"Sessions saved in: {folder}")
        self.folder_label.setToolTip(f"{folder}: {words}")

    def manage_sessions(self) -> SessionFolderDialog:
        """What the session folder holds, to delete what is no longer needed, and its
        budgets."""
        keep = {p for p in (self.model.session_path, self.controller.session_path) if p}
        dialog = SessionFolderDialog(self.preferences.session_folder, keep, self,
                                     preferences=self.preferences)
        dialog.deleted.connect(lambda _paths: self._after_delete())
        dialog.budgets_changed.connect(self._after_budgets_changed)
        dialog.finished.connect(lambda _code: self._update_folder_label())
        dialog.show()
        return dialog

    def _after_budgets_changed(self) -> None:
        self.model.weights_budget = self.preferences.weights_budget
        self._update_folder_label()

    def _check_folder_budget(self, run) -> None:
        """A run this window starts training: say so if it would take the session folder
        past the user's budget, and offer Manage… (nothing is deleted by itself)."""
        path = self.controller.session_path
        if run.stored is not None or not self.controller.is_running() or path is None \
                or getattr(self, "_budget_checked_for", None) == path or run.config is None:
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
            self.banner.show_message(words, "info", action=("Manage…", self.manage_sessions))

    def _remind_folder_budget(self) -> None:
        """After a run: if the folder is now past the budget, say so beside the outcome."""
        if getattr(self, "_budget_checked_for", None) is None:
            return
        self._budget_checked_for = None
        budget = self.preferences.folder_budget
        used = sum(s.size for s in list_sessions(self.preferences.session_folder))
        if 0 < budget < used:
            before = self.banner.text() if self.banner.kind == "info" else ""
            self.banner.show_message(
                f"{before} The session folder now holds {size_words(used)}, past your "
                f"budget of {size_words(budget)}: choose what to delete in Manage… (nothing "
                f"is deleted by itself).".strip(), "info",
                action=("Manage…", self.manage_sessions))

    def _after_delete(self) -> None:
        existing = [p for p in self.preferences.recent_sessions() if Path(p).exists()]
        self.preferences.clear_recent_sessions()
        for p in reversed(existing):
            self.preferences.add_recent_session(p)
        self.menus.rebuild_recent()
        self._update_folder_label()

    def _on_session_written(self, path: str) -> None:
        self._update_folder_label()
        self.session_label.setText(f"Session: {path}")
        self.session_label.setToolTip(path)
        self.preferences.add_recent_session(path)
        self.menus.rebuild_recent()
        self._update_title()

    # -- sessions ---------------------------------------------------------------------------
    def open_session(self, path: str | Path) -> bool:
        """Show the session at ``path``; a problem becomes a message, not an exception."""
        if self.controller.is_running():
            self.show_message("Stop training before opening a session.", "error")
            return False
        try:
            session = Session.open(path)
        except SessionError as e:
            self.show_message(str(e), "error")
            return False
        self._release_displayed()
        try:
            self.model.load_session(session)
        except SessionError as e:
            session.close()
            self.model.clear()
            self.show_message(str(e), "error")
            return False
        primary = session.run()
        self.follower.watch_session(session)
        self.settings_panel.set_config(self._form_config(session))
        self._after_open(session.path)
        self.session_label.setText(f"Session: {session.path} ({primary.status})")
        self._show_opened_progress(session.path)
        self.tabs.setCurrentIndex(TRAINING_TAB if self.model.training_runs() else
                                  FINE_TUNING_TAB)
        unfinished = [r for r in session.runs.values() if r.status in ("running", "stopped")
                      and r.run_id in {p.run_id for p in self.model.plan}]
        if session.problems:
            run_id, problem = next(iter(session.problems.items()))
            self.show_message(f"The session is shown, but not its run '{run_id}': {problem}",
                              "error")
        elif primary.status == "failed" and primary.status_message:
            self.show_message(f"This run failed: {primary.status_message}", "info")
        elif primary.status == "stopped" and primary.status_message:   # a full disk
            self.show_message(f"This run stopped ({primary.status_message}).", "info")
        elif unfinished and session.format_version >= 2:
            self.show_message(f"{session.path.name}: its {session.jobs[unfinished[0].job_id].title} "
                              f"stopped during '{unfinished[0].title}'; Continue finishes it.",
                              "info")
        else:
            self.banner.clear()
        return True

    def _show_opened_progress(self, path: Path) -> None:
        """The bar says how far the opened session's run came (not the last training's)."""
        runs = self.model.training_runs()
        run = runs[-1] if runs else None
        if run is None:
            self.controls_panel.show_ready()
            return
        epoch = run.epoch_offset + run.last_epoch
        planned = max(r.epoch_offset + r.planned_epochs for r in runs)
        self.controls_panel.show_run(
            f"{Path(path).name}: {run.status} at epoch {epoch} (step "
            f"{run.step_offset + run.last_step:,})", epoch,
            epoch if run.status == "completed" else planned)

    @staticmethod
    def _form_config(session: Session):
        """The config the form shows for a session: its job's (a stack) or its main run's."""
        for job in session.jobs.values():
            if job.kind == "pretrain":
                try:
                    return RunConfig.from_json(job.spec_json)
                except Exception:  # noqa: BLE001 - a version 1 spec: the run's config then
                    break
        return session.run().config

    def _after_open(self, path: Path) -> None:
        self.preferences.add_recent_session(path)
        self.menus.rebuild_recent()
        self.session_label.setToolTip(str(path))
        self._features_shown_for = None
        self._update_can_continue()
        self._update_current_run()
        self._update_title()

    def _release_displayed(self) -> None:
        for run in self.model.runs.values():
            if run.stored is not None:
                run.stored.session.close()

    def choose_session_to_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session",
                                              str(self.preferences.session_folder),
                                              SESSION_FILTER)
        if path:
            self.open_session(path)

    def save_session_as(self, target: str | Path) -> bool:
        """Copy the displayed session file to ``target``."""
        path = self.model.session_path
        if path is None or not Path(path).exists():
            self.show_message("There is no session file to save yet.", "error")
            return False
        try:
            shutil.copy2(path, target)
        except OSError as e:
            self.show_message(f"Cannot save the session to {target}: {e}", "error")
            return False
        self.preferences.add_recent_session(target)
        self.menus.rebuild_recent()
        self.show_message(f"Session saved as {target}", "info")
        return True

    def choose_save_session_as(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save session as",
                                              str(self.preferences.session_folder),
                                              SESSION_FILTER)
        if path:
            self.save_session_as(path)

    def choose_session_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for new sessions",
                                                  str(self.preferences.session_folder))
        if folder:
            self.set_session_folder(folder)

    def set_session_folder(self, folder: str | Path) -> None:
        self.preferences.session_folder = folder
        self._update_folder_label()

    # -- figures ----------------------------------------------------------------------------
    def export_figure(self, which: str, path: str | Path) -> bool:
        """Save a PNG of a panel's plots at a report's resolution (``loss-curves``,
        ``reconstructions``, ``latent-explorer``, ``samples``, the code views
        ``kl-per-dimension``, …: the keys of ``self.frames``), or of the ``window``.

        Only a panel that applies to the run on display (``figure_export``); the message
        strip says where the file went, or why there is none."""
        title = figure_title(self, which)
        why = why_not_exportable(self, which)
        if why:
            self.show_message(f"No figure written: {title} {why}.", "error")
            return False
        if which == "window":
            image = self.grab().toImage()
        else:
            frame = self.frames[which]
            bring_forward(self, frame)
            QApplication.processEvents()   # laid out and drawn before it is exported
            self.code_views.flush()
            image = render_plots(frame) or render_widget(frame)
        if not image.save(str(path), "PNG"):
            self.show_message(f"Cannot write the image {path}: check the folder exists and "
                              "can be written.", "error")
            return False
        self.show_message(f"{title} exported to {Path(path).resolve()} ({image.width()} × "
                          f"{image.height()} pixels).", "info")
        return True

    def choose_export(self, which: str) -> None:
        folder = Path(self.model.session_path).parent if self.model.session_path else \
            Path(self.preferences.session_folder)
        path, _ = QFileDialog.getSaveFileName(self, f"Export {figure_title(self, which)}",
                                              str(folder / f"{which}.png"),
                                              "PNG images (*.png)")
        if path:
            self.export_figure(which, path)
