"""The main window: lays out the panels and the menus, and connects them.

What is shown lives in the Qt-free :class:`~gui.run.model.RunModel`; the
Training tab's views subscribe to it through
:class:`~gui.views.training_views.TrainingViews`, the Fine-tuning tab
(:class:`~gui.panels.finetune_panel.FineTuningPanel`) directly. Every job —
training, pretraining, a comparison, continuing any of them — goes through
the one :class:`~gui.run.controller.RunController`; what is done with session
files (open, save as, recent, the folder) is its collaborator
:class:`~gui.windows.session_files.SessionFiles`'. The window only composes.
``MainWindow()`` works in any script once a ``QApplication`` exists.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QMainWindow, QMessageBox, QSplitter, QTabWidget, QVBoxLayout,
                               QWidget)

from engine.errors import SessionError
from engine.jobs import unfinished_job
from engine.session import Session
from gui.views.code_views import CodeViews
from gui.gui_thread_gc import collect_garbage_on_gui_thread
from gui.native_memory import limit_malloc_arenas
from gui.panels.finetune_panel import FineTuningPanel
from gui.panels.generative_comparison import GenerativeComparisonPanel
from gui.panels.latent_explorer import LatentExplorerPanel
from gui.panels.loss_curves import LossCurvesPanel
from gui.panels.reconstructions import ReconstructionsPanel
from gui.panels.replay_timeline import ReplayTimelinePanel
from gui.panels.run_controls import RunControlsPanel
from gui.forms.run_settings import RunSettingsPanel
from gui.panels.samples import SamplesPanel
from gui.preferences import Preferences
from gui.run.controller import IDLE, RunController
from gui.run.model import RunModel
from gui.windows.session_files import SessionFiles, form_config
from gui.run.follower import SessionFollower
from gui.views.figure_export import export_figure
from gui.views.training_views import TrainingViews
from gui.widgets.frame import framed as _framed
from gui.widgets.message_banner import MessageBanner
from gui.widgets.naming import named
from gui.window_layout import apply_minimum_sizes, restore_layout, save_layout
from gui.windows.window_menus import WindowMenus



#: the window's tabs, in order (an opened session shows the first with something to show)
TRAINING_TAB, CODE_VIEWS_TAB, FINE_TUNING_TAB = 0, 1, 2


class MainWindow(QMainWindow):
    """Autoencoder Studio's window.

    Opening, saving, the recent sessions and the session folder are its ``sessions``'
    (:class:`~gui.windows.session_files.SessionFiles`).

    Parameters
    ----------
    preferences : where settings live; default the user's (tests pass a temporary one).
    """

    def __init__(self, preferences: Preferences | None = None):
        super().__init__()
        collect_garbage_on_gui_thread()  # Qt objects in cycles must not die on a training thread
        limit_malloc_arenas()   # one arena for all the runs' threads: memory stays flat
        named(self, "mainWindow", "Autoencoder Studio")
        self.preferences = preferences or Preferences()
        self.model = RunModel()
        self.model.weights_budget = self.preferences.weights_budget   # as the session keeps
        self.settings_panel = RunSettingsPanel()
        self.loss_panel = LossCurvesPanel()
        self.recon_panel = ReconstructionsPanel()
        self.explorer_panel = LatentExplorerPanel()
        self.samples_panel = SamplesPanel()
        self.timeline_panel = ReplayTimelinePanel()
        self.controls_panel = RunControlsPanel()
        self.banner = MessageBanner()
        self.frames = {
            "loss-curves": _framed("Loss curves", "lossCurvesFrame", self.loss_panel),
            "latent-explorer": _framed("Latent explorer", "latentExplorerFrame",
                                       self.explorer_panel),
            "samples": _framed("Samples from the prior", "samplesFrame", self.samples_panel),
        }
        ordinary_bottom = named(QSplitter(Qt.Horizontal), "bottomViewsSplitter", "Views")
        ordinary_bottom.addWidget(self.frames["latent-explorer"])
        ordinary_bottom.addWidget(self.frames["samples"])
        ordinary_bottom.setSizes([780, 280])
        self.views = TrainingViews(self.model, self.loss_panel, self.recon_panel,
                                   self.explorer_panel, self.samples_panel, self.timeline_panel,
                                   ordinary_bottom, self)
        self.frames["reconstructions"] = _framed("Reconstructions", "reconstructionsFrame",
                                                 self.views.reconstructions_switch)
        self.frames.update(self.views.frames)
        self.code_views = CodeViews(self.model, self.explorer_panel, self)
        self.frames.update(self.code_views.frames)
        self.finetune_panel = FineTuningPanel(self.model)
        self.frames["fine-tuning"] = self.finetune_panel
        self.generative_panel = GenerativeComparisonPanel(self.model)
        self.frames["generative-models"] = self.generative_panel
        self.controller = RunController(self.model, self.preferences, self)
        self._build_layout()
        self.sessions = SessionFiles(self.model, self.controller, self.preferences, self.banner,
                                     self.statusBar(), self)
        self.menus = WindowMenus(self)
        self.follower = SessionFollower(self)   # a session another process writes
        self._connect()
        apply_minimum_sizes(self)
        restore_layout(self, self.preferences)   # the last session's, else fitted to the screen
        self._update_title()

    # -- layout -------------------------------------------------------------------------
    def _build_layout(self) -> None:
        top = named(QSplitter(Qt.Horizontal), "topViewsSplitter", "Views")
        top.addWidget(self.frames["loss-curves"])
        top.addWidget(self.frames["reconstructions"])
        top.setSizes([560, 500])
        views = named(QSplitter(Qt.Vertical), "viewsSplitter", "Views")
        views.addWidget(top)
        views.addWidget(self.views.bottom_switch)
        views.setSizes([420, 480])
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(views, 1)
        right_layout.addWidget(self.timeline_panel)
        # Fine-tuning is a tab of its own: the training views keep their room.
        self.tabs = named(QTabWidget(), "viewTabs", "Views")
        self.tabs.addTab(right, "Training")
        # What each regulariser does to the code: a tab of its own, sub-tabs that fit 1366×768.
        self.tabs.addTab(self.code_views.page, "Code views")
        self.tabs.addTab(self.finetune_panel, "Fine-tuning && features")
        self.tabs.addTab(self.generative_panel, "Generative models")
        self.tabs.setDocumentMode(True)
        main = named(QSplitter(Qt.Horizontal), "mainSplitter", "Settings and views")
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

    def _connect(self) -> None:
        c = self.controls_panel
        c.follow(self.controller)
        c.train_clicked.connect(self.train)
        c.pause_clicked.connect(self.controller.pause)
        c.resume_clicked.connect(self.controller.resume)
        c.stop_clicked.connect(self.controller.stop)
        c.continue_clicked.connect(self.continue_training)
        c.step_clicked.connect(self.controller.step)
        c.slow_changed.connect(self.controller.set_slow)
        self.settings_panel.validity_changed.connect(c.set_config_valid)
        c.set_config_valid(self.settings_panel.config() is not None)
        self.controller.message.connect(self.show_message)
        self.controller.state_changed.connect(self._on_state_changed)
        self.controller.session_written.connect(lambda _path: self._update_title())
        self.sessions.opened.connect(self._show_opened)
        self.sessions.recent_changed.connect(self.menus.rebuild_recent)
        self.model.problem.connect(lambda text: self.show_message(text, "error"))
        self.finetune_panel.message.connect(self.show_message)
        self.generative_panel.message.connect(self.show_message)
        self.finetune_panel.comparison_requested.connect(self.run_comparison)
        self.finetune_panel.stop_requested.connect(self.controller.stop)

    # -- messages and state -----------------------------------------------------------------
    def show_message(self, text: str, kind: str = "error") -> None:
        """Show ``text`` in the window's message strip (never a blocking dialog)."""
        self.banner.show_message(text, kind)

    def _on_state_changed(self, state: str) -> None:
        idle = state == IDLE
        self.settings_panel.set_editable(idle)
        self.menus.set_idle(idle)
        comparison = self.controller.kind == "finetune"
        self.finetune_panel.set_busy(not idle, comparison)
        self.update_can_continue()
        if idle:
            self.sessions.after_training()
            self.timeline_panel.flush_follow()  # the run's last epoch, without waiting
            if comparison:
                self.finetune_panel.finished(self.controller.outcome)

    def update_can_continue(self) -> None:
        """Continue is offered for a session on display whose file is there."""
        path = self.model.session_path
        self.controls_panel.set_can_continue(
            bool(self.model.training_runs()) and path is not None and Path(path).exists())

    def _update_title(self) -> None:
        path = self.model.session_path
        self.setWindowTitle(f"Autoencoder Studio — {Path(path).name if path else 'new run'}")

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
        return self.controller.start_new(cfg)

    def continue_training(self, epochs: int) -> bool:
        """Continue the displayed session: an interrupted job where it stopped, else the
        shown run for ``epochs`` more epochs."""
        path = self.model.session_path
        if path is None or not self.model.training_runs():
            self.show_message("Open a session (or train a run) to continue it.", "error")
            return False
        self.banner.clear()
        shown = self.model.shown_run
        try:
            with Session.open(path) as session:
                unfinished = unfinished_job(session) is not None
        except SessionError as e:
            self.show_message(str(e), "error")
            return False
        run_id = None if unfinished or shown is None else shown.run_id
        return self.controller.continue_session(Path(path), None if unfinished else epochs,
                                                run_id)

    def run_comparison(self, path, budgets: list, epochs: int, freeze: bool) -> bool:
        """The Fine-tuning tab's Run: classifiers on ``path``'s encoder, into that file."""
        self.banner.clear()
        ok = self.controller.start_comparison(Path(path), None, budgets, epochs, freeze,
                                              self.finetune_panel.versus_paths())
        if ok:
            self._after_open(Path(path))
        return ok

    def new_run(self) -> None:
        """Forget the displayed run and start from the settings again."""
        if self.controller.is_running():
            return
        self.model.clear()
        self.sessions.session_label.setText("No session")
        self.controls_panel.show_ready()
        self.banner.clear()
        self.update_can_continue()
        self._update_title()

    # -- sessions and figures -------------------------------------------------------------
    def open_session(self, path: str | Path) -> bool:
        """Show the session at ``path`` (File → Open); a problem becomes a message."""
        return self.sessions.open(path)

    def save_session_as(self, target: str | Path) -> bool:
        """Copy the displayed session file to ``target``."""
        return self.sessions.save_as(target)

    def manage_sessions(self):
        """The session folder's dialog (to delete old files, and its budgets)."""
        return self.sessions.manage()

    def export_figure(self, which: str, path: str | Path) -> bool:
        """Save a PNG of panel ``which`` (a key of ``frames``) or of the ``window``; the
        message strip says where it went, or why there is none."""
        written, words = export_figure(self, which, path)
        self.show_message(words, "info" if written else "error")
        return written

    def _show_opened(self, session) -> None:
        """A session was opened: follow its file, its config in the form, how far it came
        in the progress bar, and the first tab with something to show."""
        self.follower.watch_session(session)
        self.settings_panel.set_config(form_config(session))
        self._after_open(session.path)
        self._show_opened_progress(session.path)
        self.tabs.setCurrentIndex(TRAINING_TAB if self.model.training_runs() else
                                  FINE_TUNING_TAB)

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

    def _after_open(self, path: Path) -> None:
        self.sessions.remember(path)
        self.update_can_continue()
        self._update_title()

    # -- closing ----------------------------------------------------------------------------
    def confirm_stop_and_close(self) -> bool:
        """Ask whether to stop the training that is running and close (True: do)."""
        box = QMessageBox(QMessageBox.Question, "Training is running",
                          "Stop training and close Autoencoder Studio?", parent=self)
        box.setObjectName("confirmCloseDialog")
        where = self.controller.session_path
        box.setInformativeText(
            "The run is kept as stopped in its session file"
            + (f" ({Path(where).name})" if where else "")
            + "; open it later and press Continue to train on.")
        stop = box.addButton("Stop and close", QMessageBox.AcceptRole)
        stop.setObjectName("stopAndCloseButton")
        keep = box.addButton("Keep training", QMessageBox.RejectRole)
        keep.setObjectName("keepTrainingButton")
        box.setDefaultButton(keep)
        box.exec()
        return box.clickedButton() is stop

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Ask first while training; then stop cleanly (the session keeps what was trained
        as a stopped run) and close."""
        if self.controller.is_running():
            # Asked only while its thread trains (not once it has been shut down).
            if self.controller.job.is_running() and not self.confirm_stop_and_close():
                event.ignore()
                return
            self.controls_panel.show_text("stopping: saving the session…")
            self.controller.shutdown()
        save_layout(self, self.preferences)
        self.sessions.release_displayed()
        super().closeEvent(event)
