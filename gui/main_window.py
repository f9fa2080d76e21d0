"""The main window: lays out the panels and the menus, and connects them.

Training lives in :class:`~gui.run_controller.RunController`, what is on
screen in :class:`~gui.run_display.RunDisplay` (an ordinary run) and
:class:`~gui.pretraining_views.PretrainingViews` (greedy pretraining); the
Fine-tuning tab is :class:`~gui.panels.finetune_panel.FineTuningPanel`. The
window only composes.
``MainWindow()`` works in any script once a ``QApplication`` exists.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QMainWindow,
                               QSizePolicy, QSplitter, QTabWidget, QToolButton, QVBoxLayout,
                               QWidget)

from engine.errors import SessionError
from engine.pretraining.reader import read_pretraining, read_stage_replays
from engine.pretraining.results import read_comparison_h5
from engine.session import Session
from gui.encoder_sources import current_run, is_pretraining_file, session_features
from gui.gui_thread_gc import collect_garbage_on_gui_thread
from gui.panels.finetune_panel import FineTuningPanel
from gui.panels.latent_explorer import LatentExplorerPanel
from gui.panels.loss_curves import LossCurvesPanel
from gui.panels.reconstructions import ReconstructionsPanel
from gui.panels.replay_timeline import ReplayTimelinePanel
from gui.panels.run_controls import IDLE, RunControlsPanel
from gui.panels.run_settings import RunSettingsPanel
from gui.panels.samples import SamplesPanel
from gui.preferences import Preferences
from gui.pretraining_views import PretrainingViews
from gui.run_controller import RunController
from gui.run_display import RunDisplay
from gui.widgets.frame import framed as _framed
from gui.widgets.message_banner import MessageBanner
from gui.widgets.naming import named
from gui.window_menus import WindowMenus

SESSION_FILTER = "Autoencoder Studio sessions (*.h5 *.hdf5);;All files (*)"
DEFAULT_SIZE = (1400, 900)
TRAINING_TAB, FINE_TUNING_TAB = 0, 1


class MainWindow(QMainWindow):
    """Autoencoder Studio's window.

    Parameters
    ----------
    preferences : where settings live; default the user's (tests pass a temporary one).
    """

    def __init__(self, preferences: Preferences | None = None):
        super().__init__()
        collect_garbage_on_gui_thread()  # Qt objects in cycles must not die on a training thread
        named(self, "mainWindow", "Autoencoder Studio")
        self.preferences = preferences or Preferences()
        self.settings_panel = RunSettingsPanel()
        self.loss_panel = LossCurvesPanel()
        self.recon_panel = ReconstructionsPanel()
        self.explorer_panel = LatentExplorerPanel()
        self.samples_panel = SamplesPanel()
        self.timeline_panel = ReplayTimelinePanel()
        self.controls_panel = RunControlsPanel()
        self.banner = MessageBanner()
        self.display = RunDisplay(self.loss_panel, self.recon_panel, self.explorer_panel,
                                  self.samples_panel, self.timeline_panel, self)
        self.frames = {
            "loss-curves": _framed("Loss curves", "lossCurvesFrame", self.loss_panel),
            "latent-explorer": _framed("Latent explorer", "latentExplorerFrame",
                                       self.explorer_panel),
            "samples": _framed("Samples from the prior", "samplesFrame", self.samples_panel),
        }
        ordinary_bottom = QSplitter(Qt.Horizontal)
        ordinary_bottom.addWidget(self.frames["latent-explorer"])
        ordinary_bottom.addWidget(self.frames["samples"])
        ordinary_bottom.setSizes([780, 280])
        self.pretraining = PretrainingViews(self.loss_panel, self.recon_panel,
                                            self.timeline_panel, ordinary_bottom, self)
        self.pretrain_display = self.pretraining.display
        self.frames["reconstructions"] = _framed("Reconstructions", "reconstructionsFrame",
                                                 self.pretraining.reconstructions_switch)
        self.frames.update(self.pretraining.frames)
        self.finetune_panel = FineTuningPanel()
        self.frames["fine-tuning"] = self.finetune_panel
        self.controller = RunController(self.display, self.controls_panel, self.preferences, self,
                                        pretrain_display=self.pretrain_display)
        self._features_shown_for: Path | None = None
        self._build_layout()
        self._build_status_bar()
        self.menus = WindowMenus(self)
        self._connect()
        self.resize(*DEFAULT_SIZE)
        self._update_title()

    # -- layout -------------------------------------------------------------------------
    def _build_layout(self) -> None:
        top = QSplitter(Qt.Horizontal)
        top.addWidget(self.frames["loss-curves"])
        top.addWidget(self.frames["reconstructions"])
        top.setSizes([560, 500])
        views = QSplitter(Qt.Vertical)
        views.addWidget(top)
        views.addWidget(self.pretraining.bottom_switch)
        views.setSizes([360, 440])
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(views, 1)
        right_layout.addWidget(self.timeline_panel)
        # Fine-tuning is a tab of its own: the training views keep their room.
        self.tabs = named(QTabWidget(), "viewTabs", "Views")
        self.tabs.addTab(right, "Training")
        self.tabs.addTab(self.finetune_panel, "Fine-tuning && features")
        self.tabs.setDocumentMode(True)
        main = QSplitter(Qt.Horizontal)
        main.addWidget(_framed("Run settings", "runSettingsFrame", self.settings_panel))
        main.addWidget(self.tabs)
        main.setStretchFactor(1, 1)
        main.setSizes([330, 1070])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.addWidget(self.banner)
        layout.addWidget(main, 1)
        layout.addWidget(self.controls_panel)
        self.setCentralWidget(central)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.session_label = named(QLabel("No session"), "sessionLabel", "Current session file")
        self.session_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        # A long path must not widen the window: the label is cut instead (full text in tooltip).
        self.session_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.folder_label = named(QLabel(), "sessionFolderLabel", "Session folder")
        self.folder_button = named(QToolButton(), "changeSessionFolderButton",
                                   "Change session folder")
        self.folder_button.setText("Change…")
        self.folder_button.clicked.connect(self.choose_session_folder)
        holder = QWidget()
        h = QHBoxLayout(holder)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.folder_label)
        h.addWidget(self.folder_button)
        bar.addWidget(self.session_label, 1)
        bar.addPermanentWidget(holder)
        self._update_folder_label()

    def _connect(self) -> None:
        c = self.controls_panel
        c.train_clicked.connect(self.train)
        c.pause_clicked.connect(self.controller.pause)
        c.resume_clicked.connect(self.controller.resume)
        c.stop_clicked.connect(self.controller.stop)
        c.continue_clicked.connect(self.continue_training)
        self.settings_panel.validity_changed.connect(c.set_config_valid)
        c.set_config_valid(self.settings_panel.config() is not None)
        self.tabs.currentChanged.connect(lambda _index: self._show_features_if_seen())
        self.controller.message.connect(self.show_message)
        self.controller.state_changed.connect(self._on_state_changed)
        self.controller.session_written.connect(self._on_session_written)
        self.controller.pretraining_written.connect(self._on_pretraining_written)
        self.display.problem.connect(lambda text: self.show_message(text, "error"))
        self.display.run_shown.connect(self._leave_pretraining_views)
        self.pretrain_display.started.connect(self._enter_pretraining_views)
        self.pretrain_display.finished.connect(lambda _outcome: self._update_current_run())
        self.pretrain_display.features_changed.connect(self.finetune_panel.features.set_features)
        self.finetune_panel.message.connect(self.show_message)

    # -- messages and state -----------------------------------------------------------------
    def show_message(self, text: str, kind: str = "error") -> None:
        """Show ``text`` in the window's message strip (never a blocking dialog)."""
        self.banner.show_message(text, kind)

    def _on_state_changed(self, state: str) -> None:
        idle = state == IDLE
        self.settings_panel.set_editable(idle)
        self.menus.set_idle(idle)
        self.finetune_panel.set_training_active(not idle)
        self._update_can_continue()
        if idle:
            self.timeline_panel.flush_follow()  # the run's last epoch, without waiting
            self._update_current_run()

    # -- pretraining and the encoder on display -------------------------------------------
    def _enter_pretraining_views(self) -> None:
        """A pretraining run started: its views replace the ordinary run's."""
        self.display.release()
        self.display.record = None
        self.explorer_panel.clear()
        self.samples_panel.set_variational(False)
        self.pretraining.show_pretraining(True)
        self._update_can_continue()
        self._update_title()

    def _leave_pretraining_views(self) -> None:
        if self.pretraining.showing_pretraining or self.pretrain_display.active:
            self.pretraining.leave()

    def _on_pretraining_written(self, path: str) -> None:
        self.session_label.setText(f"Pretraining run: {path}")
        self.session_label.setToolTip(path)
        self._update_title()

    def _update_current_run(self) -> None:
        """Tell the Fine-tuning tab which trained encoder is on display (and its features)."""
        current = current_run(self.pretrain_display, self.display.record)
        self.finetune_panel.set_current_run(current)
        self._show_features_if_seen()

    def _show_features_if_seen(self) -> None:
        """Draw the first-layer features of the ordinary run on display, once the
        Fine-tuning tab is on screen.

        Reading the weights back from the session and drawing the grid takes tens
        of milliseconds: done for a hidden tab at every run's end, it was the
        window's longest stall.
        """
        if self.tabs.currentWidget() is not self.finetune_panel:
            return
        current = current_run(self.pretrain_display, self.display.record)
        path = current.session if current is not None else None
        if path is not None and path != self._features_shown_for \
                and not self.finetune_panel.is_running() and not self.controller.is_running():
            self._features_shown_for = path   # an ordinary run: read its weights once
            self.finetune_panel.features.set_features(*session_features(path))

    def _update_can_continue(self) -> None:
        rec = self.display.record
        self.controls_panel.set_can_continue(
            rec is not None and rec.session_path is not None and Path(rec.session_path).exists())

    def _update_title(self) -> None:
        rec = self.display.record
        name = Path(rec.session_path).name if rec and rec.session_path else "new run"
        if self.pretrain_display.active and self.pretrain_display.path is not None:
            name = self.pretrain_display.path.name
        self.setWindowTitle(f"Autoencoder Studio — {name}")

    def _update_folder_label(self) -> None:
        self.folder_label.setText(f"Sessions saved in: {self.preferences.session_folder}")

    def _on_session_written(self, path: str) -> None:
        self.session_label.setText(f"Session: {path}")
        self.session_label.setToolTip(path)
        self.preferences.add_recent_session(path)
        self.menus.rebuild_recent()
        self._update_title()

    # -- training -----------------------------------------------------------------------------
    def train(self) -> bool:
        """Start training the settings' config (the Train button): greedy layer-wise
        pretraining when its group is ticked, else an ordinary run."""
        cfg = self.settings_panel.config()
        if cfg is None:
            self.show_message("Fix the settings marked in red before training.", "error")
            return False
        self.banner.clear()
        self.tabs.setCurrentIndex(TRAINING_TAB)
        self._features_shown_for = None  # the same file name may come back retrained
        if cfg.pretraining is not None:
            return self.controller.start_pretraining(cfg)
        return self.controller.start_new(cfg)

    def continue_training(self, epochs: int) -> bool:
        """Continue the displayed run's session for ``epochs`` more epochs."""
        rec = self.display.record
        if rec is None or rec.session_path is None:
            self.show_message("Open a session (or train a run) to continue it.", "error")
            return False
        self.banner.clear()
        self._features_shown_for = None  # new weights: read the features again afterwards
        return self.controller.continue_session(Path(rec.session_path), epochs)

    def new_run(self) -> None:
        """Forget the displayed run and start from the settings again."""
        if self.controller.is_running():
            return
        self.display.release()
        self.display.record = None
        self._leave_pretraining_views()
        self._update_current_run()
        self.finetune_panel.clear_results()
        self.loss_panel.reset(())
        self.recon_panel.clear()
        self.explorer_panel.clear()
        self.samples_panel.set_variational(False)
        self.timeline_panel.set_epochs([])
        self.session_label.setText("No session")
        self.banner.clear()
        self._update_can_continue()
        self._update_title()

    # -- sessions ---------------------------------------------------------------------------
    def open_session(self, path: str | Path) -> bool:
        """Show the session at ``path``; a problem becomes a message, not an exception."""
        if self.controller.is_running():
            self.show_message("Stop training before opening a session.", "error")
            return False
        if is_pretraining_file(path):
            return self.open_pretraining(path)
        try:
            session = Session.open(path)
        except SessionError as e:
            self.show_message(str(e), "error")
            return False
        self.display.load_session(session)
        problem = self._show_stored_comparison(session.path, session.has_comparison)
        self.settings_panel.set_config(session.config)
        self.preferences.add_recent_session(session.path)
        self.menus.rebuild_recent()
        self.session_label.setText(f"Session: {session.path} ({session.status})")
        self._update_can_continue()
        self._update_current_run()
        self._update_title()
        if problem:
            self.show_message(problem, "error")
        elif session.status == "failed" and session.status_message:
            self.show_message(f"This run failed: {session.status_message}", "info")
        else:
            self.banner.clear()
        return True

    def open_pretraining(self, path: str | Path) -> bool:
        """Replay the pretraining file at ``path`` in the Training tab (stages, curves,
        reconstructions); its stack becomes the Fine-tuning tab's encoder."""
        try:
            run = read_pretraining(path)
            stages = read_stage_replays(path)
        except SessionError as e:
            self.show_message(str(e), "error")
            return False
        self.display.release()
        self.display.record = None
        self._features_shown_for = None
        self.pretrain_display.replay(run, stages)
        self.settings_panel.set_config(run.config.to_run_config())
        self.tabs.setCurrentIndex(TRAINING_TAB)
        self.preferences.add_recent_session(run.path)
        self.menus.rebuild_recent()
        self.session_label.setText(f"Pretraining run: {run.path} ({run.status})")
        self.session_label.setToolTip(str(run.path))
        self._update_can_continue()
        self._update_current_run()
        self._update_title()
        problem = self._show_stored_comparison(run.path, run.has_comparison)
        if problem:
            self.show_message(problem, "error")
        elif not stages:
            self.show_message(f"{run.path.name} holds no finished stage yet "
                              f"(the run ended '{run.status}').", "info")
        else:
            self.banner.clear()
        return True

    def _show_stored_comparison(self, path: Path, has_comparison: bool) -> str:
        """Put the file's fine-tuning comparison in the Fine-tuning tab; a problem's text."""
        if self.finetune_panel.is_running():
            return ""
        self.finetune_panel.clear_results()  # never leave another run's comparison on show
        if not has_comparison:
            return ""
        try:
            self.finetune_panel.show_stored(read_comparison_h5(path), path.name)
        except SessionError as e:
            return f"The run is shown, but not its fine-tuning comparison: {e}"
        return ""

    def choose_session_to_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session",
                                              str(self.preferences.session_folder),
                                              SESSION_FILTER)
        if path:
            self.open_session(path)

    def save_session_as(self, target: str | Path) -> bool:
        """Copy the displayed run's session file to ``target``."""
        rec = self.display.record
        if rec is None or rec.session_path is None or not Path(rec.session_path).exists():
            self.show_message("There is no session file to save yet.", "error")
            return False
        try:
            shutil.copy2(rec.session_path, target)
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
        """Save a PNG of a panel (``loss-curves``, ``reconstructions``, ``latent-explorer``,
        ``samples``, ``first-layer-features``, ``stages``, ``fine-tuning``) or of the
        ``window``."""
        widget = self if which == "window" else self.frames[which]
        ok = widget.grab().save(str(path), "PNG")
        if not ok:
            self.show_message(f"Cannot write the image {path}", "error")
        return ok

    def choose_export(self, which: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export figure", f"{which}.png",
                                              "PNG images (*.png)")
        if path:
            self.export_figure(which, path)

    # -- closing ----------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Stop training cleanly (the session keeps what was trained), then close."""
        if self.controller.is_running():
            self.controls_panel.show_text("stopping: saving the session…")
            self.controller.shutdown()
        self.finetune_panel.shutdown()
        self.display.release()
        super().closeEvent(event)
