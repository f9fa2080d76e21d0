"""The comparison window: several sessions side by side, one replay slider for all.

``python main.py a.h5 b.h5`` (or a sweep folder), and File → Compare
sessions… in the main window, open it. It is composed of the panels: the
runs' curves per term (:class:`CompareCurvesPanel`), the same probe images
reconstructed by each (:class:`CompareReconstructionsPanel`), a latent
explorer and a KL-per-dimension view per run, next to each other, and, for
a sweep, each final term against the swept value (:class:`SweepPlotPanel`).
Each session is held by its own Qt-free :class:`~gui.run.model.RunModel`
(its snapshot and decoder caches); the runs come from
:class:`~engine.export.compared.ComparedRuns`, which also says what does
not compare. One :class:`ReplayTimelinePanel` moves every view by epoch; a
run that has no snapshot at that epoch shows its nearest earlier one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QLabel, QMainWindow, QSplitter, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from engine.analysis.latent_usage import active_units
from engine.errors import StudioError
from engine.models import family_class
from engine.export.compared import ComparedRuns
from gui.gui_thread_gc import collect_garbage_on_gui_thread
from gui.panels.compare_curves import CompareCurvesPanel
from gui.panels.compare_latent import CompareLatentPanel
from gui.panels.compare_reconstructions import CompareReconstructionsPanel
from gui.panels.kl_per_dimension import KlPerDimensionPanel
from gui.panels.latent_explorer import LatentExplorerPanel
from gui.panels.replay_timeline import ReplayTimelinePanel
from gui.panels.sweep_plot import SweepPlotPanel
from gui.run.model import RunModel
from gui.run.state import RunState
from gui.widgets.frame import framed
from gui.widgets.message_banner import MessageBanner
from gui.widgets.naming import make_action, named
from gui.widgets.table_with_note import add_table_with_note
from gui.window_layout import fit_to_screen

PREFERRED_SIZE = QSize(1300, 800)
RUN_COLUMNS = ["", "run", "file", "kind", "data", "latent", "epochs", "status", "val total"]


class CompareWindow(QMainWindow):
    """Compared runs side by side (see the module docstring).

    Parameters
    ----------
    compared : the runs; the window releases their files (a writer may replace them)
        and reads on demand.
    paths : what was opened, for Reload.
    """

    def __init__(self, compared: ComparedRuns, paths: list[Path] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        collect_garbage_on_gui_thread()
        named(self, "compareWindow", "Compare sessions")
        self.setAttribute(Qt.WA_DeleteOnClose, False)
        self.paths = list(paths or [])
        self.banner = MessageBanner()
        self.curves = CompareCurvesPanel()
        self.recons = CompareReconstructionsPanel()
        self.sweep_plot = SweepPlotPanel()
        self.timeline = ReplayTimelinePanel()
        self.runs_panel = QWidget()
        self.runs_table, self.notes = add_table_with_note(
            self.runs_panel, RUN_COLUMNS, "compareRunsTable", "Compared runs",
            "Each run's colour, file and settings", "compareNotes", "What does not compare",
            stretch_all=False)
        self.latent = CompareLatentPanel()
        self.latent_scroll = self.latent.scroll
        self.tabs = named(QTabWidget(), "compareTabs", "Comparison views")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.curves, "Loss curves")
        self.tabs.addTab(self.recons, "Reconstructions")
        self.tabs.addTab(self.latent, "Latent space && KL per dimension")
        self.sweep_index = self.tabs.addTab(self.sweep_plot, "Sweep")
        split = QSplitter(Qt.Vertical)
        split.addWidget(framed("Runs", "compareRunsFrame", self.runs_panel))
        split.addWidget(self.tabs)
        split.setSizes([110, 600])   # the table scrolls; the views need the height
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)
        layout.addWidget(self.timeline)
        self.setCentralWidget(central)
        self.status_label = named(QLabel(), "compareStatus", "Comparison status")
        self.statusBar().addWidget(self.status_label, 1)
        menu = self.menuBar().addMenu("&File")
        menu.addAction(make_action(self, "&Reload", "reloadComparisonAction", self.reload,
                                   QKeySequence.Refresh))
        menu.addAction(make_action(self, "Save as &PNG…", "saveComparisonPngAction",
                                   self.choose_png))
        menu.addAction(make_action(self, "&Close", "closeComparisonAction", self.close,
                                   QKeySequence.Close))
        self.timeline.epoch_selected.connect(self.select_epoch)
        self.timeline.describe = self._describe
        self.compared: ComparedRuns | None = None
        self.models: list[RunModel] = []
        self.states: list[RunState] = []
        self.shown: dict[str, int | None] = {}     # run label -> the epoch it shows
        self.set_compared(compared)
        fit_to_screen(self, PREFERRED_SIZE)   # 1300x760 was cut off at the bottom by 1366x768

    @property
    def explorers(self) -> list[LatentExplorerPanel | None]:
        return self.latent.explorers

    @property
    def kl_panels(self) -> list[KlPerDimensionPanel]:
        return self.latent.kl_panels

    # -- filling it ---------------------------------------------------------------------------
    def set_compared(self, compared: ComparedRuns) -> None:
        """Show ``compared`` (replacing what was shown)."""
        if self.compared is not None:
            self.compared.close()
        self.compared = compared
        compared.release()
        self.models, self.states = [], []
        for r in compared.runs:
            model = RunModel()
            model.load_session(r.run.session)
            self.models.append(model)
            self.states.append(model.runs[r.run.run_id])
        terms = compared.term_names()
        self.curves.set_runs(compared.runs, terms)
        self._fill_table()
        self.latent.set_runs(compared.runs)
        swept = bool(compared.swept)
        self.tabs.setTabVisible(self.sweep_index, swept)
        if swept:
            self.sweep_plot.set_runs([r for r in compared.runs if r.values], compared.swept,
                                     terms)
        notes = compared.problems + [n[0].upper() + n[1:] for n in compared.differences()]
        self.notes.setText(" · ".join(notes) if notes else
                           "The runs share their data and probe images: every view compares.")
        title = ", ".join(r.label for r in compared.runs)
        self.setWindowTitle(f"Compare — {title}")
        what = f"sweep of {', '.join(compared.swept)}" if swept else "sessions"
        self.status_label.setText(f"{len(compared.runs)} runs compared ({what})")
        self.timeline.set_epochs(compared.epochs())

    def _fill_table(self) -> None:
        t = self.runs_table
        runs = self.compared.runs
        t.setRowCount(len(runs))
        for i, r in enumerate(runs):
            cfg, data = r.run.config, r.run.data
            final = r.final("val").get("total", r.final("train").get("total"))
            cells = ["", r.label, r.path.name, cfg.kind_label(),
                     f"{data.source} · {'x'.join(map(str, data.image_shape))}",
                     str(cfg.model.latent_dim), str(r.run.epochs_trained), r.run.status,
                     "–" if final is None else f"{final:.4g}"]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j == 0:
                    item.setBackground(QColor(r.colour))
                    item.setToolTip(f"the colour of {r.label} in every view")
                t.setItem(i, j, item)
        t.setColumnWidth(0, 18)
        t.resizeRowsToContents()

    # -- the shared replay position ---------------------------------------------------------------
    def select_epoch(self, epoch: int) -> None:
        """Show ``epoch`` in every run (each at its nearest saved epoch, see the module)."""
        rows, kl_max = [], 0.0
        self.shown = {}
        problems = []
        for i, (r, state) in enumerate(zip(self.compared.runs, self.states)):
            e = state.nearest_epoch(epoch)
            self.shown[r.label] = e
            snap = None
            if e is not None:
                try:
                    snap = state.snapshot(e)
                except (StudioError, KeyError) as err:
                    problems.append(f"{r.label}: epoch {e} cannot be read ({err})")
            recon = None if snap is None else snap.images.get("probe_recon")
            cfg = r.run.config
            traits = family_class(cfg).traits(cfg)
            if not traits.reconstructs:   # a GAN, a classifier: say why, not "nothing yet"
                recon = "no reconstructions (" + traits.missing.get(
                    "reconstructions", "this model reconstructs nothing").split(";")[0] + ")"
            rows.append((r.label, r.run.data.probe_images, recon, e))
            explorer = self.explorers[i]
            if explorer is not None and snap is not None and "map_latents" in snap.arrays:
                explorer.show_snapshot(snap, state.decoder(e))
            kl = None if snap is None else snap.arrays.get("kl_per_dim")
            if kl is not None:
                kl_max = max(kl_max, float(np.max(kl)) if len(kl) else 0.0)
            codes = None if snap is None else snap.arrays.get("map_latents")
            self.kl_panels[i].show_values(
                kl, "No KL: a deterministic code has no prior to compare with."
                if not r.run.config.model.variational else "No saved epoch yet.",
                active=None if codes is None or kl is None else active_units(codes), epoch=e)
        for panel in self.kl_panels:
            if panel.values is not None:
                panel.set_y_max(kl_max)
        self.latent.sync_legends()
        same = self.compared.same_probes()
        self.recons.show_rows(rows, "The same probe images, reconstructed by each run."
                              if same else "The runs reconstruct different probe images: "
                              "each run's originals are shown above its row.")
        self.curves.mark_epoch(epoch)
        if problems:
            self.banner.show_message("; ".join(problems), "error")

    def _describe(self, epoch: int) -> str:
        """``epoch 12``, and where runs without that epoch are shown instead."""
        behind = []
        for r, state in zip(self.compared.runs, self.states):
            e = state.nearest_epoch(epoch)
            if e is not None and e != epoch:
                behind.append(f"{r.label} at {e}")
        return f"epoch {epoch}" + (f" ({', '.join(behind)})" if behind else "")

    # -- actions --------------------------------------------------------------------------------
    def reload(self) -> bool:
        """Read the files again (a sweep or a run that is still being written)."""
        if not self.paths:
            return False
        try:
            compared = ComparedRuns.open(self.paths)
        except StudioError as e:
            self.banner.show_message(str(e), "error")
            return False
        at = self.timeline.current_epoch
        self.set_compared(compared)
        if at is not None and at in self.timeline.epochs:
            self.timeline.select_epoch(at, force=True)
        return True

    def save_png(self, path: str | Path) -> bool:
        ok = self.grab().save(str(path), "PNG")
        if not ok:
            self.banner.show_message(f"Cannot write the image {path}", "error")
        return ok

    def choose_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save comparison", "comparison.png",
                                              "PNG images (*.png)")
        if path:
            self.save_png(path)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self.compared is not None:
            self.compared.close()
        super().closeEvent(event)


# -- opening one --------------------------------------------------------------------------------

def open_comparison(paths: list[str | Path], parent: QWidget | None = None,
                    on_error=None) -> CompareWindow | None:
    """Open a comparison window for ``paths`` (session files, sweep folders).

    A problem goes to ``on_error(text)`` (the main window's message strip), or raises
    when there is none.
    """
    try:
        compared = ComparedRuns.open(paths)
    except StudioError as e:
        if on_error is None:
            raise
        on_error(str(e))
        return None
    window = CompareWindow(compared, [Path(p) for p in paths], parent)
    if parent is not None:
        window.setWindowFlag(Qt.Window, True)   # its own window, above the main one
    window.show()
    return window


def compare_windows(parent: QWidget) -> list[CompareWindow]:
    """The comparison windows opened from ``parent`` (the main window) and still shown."""
    return [w for w in parent.findChildren(CompareWindow) if w.isVisible()]


def choose_sessions_to_compare(window) -> CompareWindow | None:
    """File → Compare sessions…: pick two or more session files (or a sweep's index)."""
    paths, _ = QFileDialog.getOpenFileNames(
        window, "Compare sessions: choose two or more (or a sweep's sweep.json)",
        str(window.preferences.session_folder),
        "Sessions and sweeps (*.h5 *.hdf5 sweep.json);;All files (*)")
    if not paths:
        return None
    paths = [str(Path(p).parent) if Path(p).name == "sweep.json" else p for p in paths]
    return open_comparison(paths, window, lambda text: window.show_message(text, "error"))


def choose_sweep_to_compare(window) -> CompareWindow | None:
    """File → Open sweep folder…: a folder made by ``python main.py sweep``."""
    folder = QFileDialog.getExistingDirectory(window, "Open a sweep folder",
                                              str(window.preferences.session_folder))
    if not folder:
        return None
    return open_comparison([folder], window, lambda text: window.show_message(text, "error"))
