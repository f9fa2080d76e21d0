"""Explicit versus implicit, side by side: a column per session (a VAE, a GAN, an RBM, …).

Train them on the same data with the same latent size (``vae-2d`` and
``gan``; ``vae-toy``, ``gan-toy`` and ``rbm-toy``), add their sessions
here, and each column shows what its model has and what it lacks: samples,
reconstructions or why there are none, and what it can say about log p(x)
— an ELBO, a log-likelihood, or nothing (:mod:`gui.panels.generative_summary`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QSplitter, QVBoxLayout, QWidget)

from engine.errors import StudioError
from engine.export.compared import run_colour
from engine.session import Session
from gui.panels.generative_summary import GenerativeSummary, summarise
from engine.tiles import tile, to_display
from gui.panels.sample_quality import SampleQualityPanel
from gui.run.model import RunModel
from gui.widgets.caption import caption_label
from gui.widgets.image_pane import ImagePane
from gui.widgets.naming import named
from gui.widgets.markup import escaped

MAX_COLUMNS = 4
ROWS = ("Model", "log p(x)", "Codes", "Samples", "Reconstructions", "Sample quality")
INTRO = ("Explicit versus implicit: add sessions trained on the same data with the same "
         "latent size (vae-2d and gan; vae-toy, gan-toy and rbm-toy) to see what each model "
         "has — samples, reconstructions, a likelihood — and what it lacks.")


def _text(text: str, name: str) -> QLabel:
    label = named(QLabel(text), name, name)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignTop | Qt.AlignLeft)
    return label


class GenerativeComparisonPanel(QWidget):
    """Columns of :class:`~gui.panels.generative_summary.GenerativeSummary`, one per added run.

    Signals
    -------
    message(str, str) : a problem (or news) for the window's message strip.
    """

    message = Signal(str, str)

    def __init__(self, model: RunModel, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "generativeComparisonPanel", "Explicit versus implicit generative models")
        self.model = model
        self.add_shown_button = named(QPushButton("Add the session on display"),
                                      "addShownSessionButton", "Add the session on display")
        self.add_file_button = named(QPushButton("Add a session file…"), "addSessionFileButton",
                                     "Add a session file to the comparison")
        self.clear_button = named(QPushButton("Clear"), "clearComparisonButton",
                                  "Remove every column")
        self.intro = caption_label(INTRO, "generativeIntro", "What this tab compares", wrap=True)
        buttons = QHBoxLayout()
        for b in (self.add_shown_button, self.add_file_button, self.clear_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.body = QWidget()
        self.grid = QGridLayout(self.body)
        self.grid.setHorizontalSpacing(12)
        self.heads = []
        for r, name in enumerate(("",) + ROWS):
            head = named(QLabel(f"<b>{name}</b>"), "comparisonRowTitle", name or "Run")
            head.setAlignment(Qt.AlignTop | Qt.AlignRight)
            self.grid.addWidget(head, r, 0)
            self.heads.append(head)
        # Empty, the row titles stood at the far right of a blank area: a note instead.
        self.empty_note = caption_label(
            "No runs here yet: Add the session on display (or a session file) for each "
            "model to compare, e.g. vae-toy, gan-toy and rbm-toy.", "generativeEmptyNote",
            "The comparison is empty", wrap=True)
        self.grid.addWidget(self.empty_note, 0, 1, 1, MAX_COLUMNS)
        self.grid.setRowStretch(4, 3)              # the samples' pictures take the room
        self.grid.setRowStretch(len(ROWS) + 1, 1)  # and what is left stays below the table
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.intro)
        # Sample quality below the columns: the run on display, the columns' runs beside it.
        self.quality = SampleQualityPanel()
        self.quality.follow(model)
        split = named(QSplitter(Qt.Vertical), "generativeSplitter", "Columns and sample quality")
        split.addWidget(scroll)
        split.addWidget(self.quality)
        split.setSizes([420, 260])
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)
        self.summaries: list[tuple[str, GenerativeSummary]] = []
        self._cells: list[QWidget] = []
        self.add_shown_button.clicked.connect(self.add_shown)
        self.add_file_button.clicked.connect(self.choose_file)
        self.clear_button.clicked.connect(self.clear)
        self._rebuild()

    @property
    def showing(self) -> bool:
        """Whether any run is compared (Export figure offers the tab then)."""
        return bool(self.summaries)

    # -- adding ---------------------------------------------------------------------------
    def add_shown(self) -> bool:
        path = self.model.session_path
        if path is None or not Path(path).exists():
            self.message.emit("Open or train a session first: there is none on display.",
                              "error")
            return False
        return self.add_session(path)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a session", "",
                                              "Autoencoder Studio sessions (*.h5 *.hdf5)")
        if path:
            self.add_session(path)

    def add_session(self, path: str | Path) -> bool:
        """Add the primary run of the session at ``path`` as a column (the oldest goes when
        there are more than :data:`MAX_COLUMNS`)."""
        try:
            with Session.open(path) as session:
                summary = summarise(session.run())
        except StudioError as e:
            self.message.emit(str(e), "error")
            return False
        key = str(Path(path).resolve())
        self.summaries = [(k, s) for k, s in self.summaries if k != key]
        self.summaries = (self.summaries + [(key, summary)])[-MAX_COLUMNS:]
        self._rebuild()
        return True

    def clear(self) -> None:
        self.summaries = []
        self._rebuild()

    # -- drawing ---------------------------------------------------------------------------
    def _rebuild(self) -> None:
        for w in self._cells:
            self.grid.removeWidget(w)
            w.hide()   # at once: deleteLater waits for the event loop, and it would show
            w.deleteLater()
        self._cells = []
        empty = not self.summaries
        self.empty_note.setVisible(empty)
        for head in self.heads:
            head.setVisible(not empty)
        for c, (_, s) in enumerate(self.summaries, start=1):
            self.grid.setColumnStretch(c, 1)
            swatch = f"<span style='color:{run_colour(c - 1)}'>■</span> "   # its curves' colour
            cells = [_text(f"{swatch}<b>{escaped(s.title)}</b><br><span style='color:#555'>"
                           f"{escaped(s.data)}</span>",
                           "comparisonTitle"),
                     _text(s.kind, "comparisonKind"),
                     _text(s.likelihood, "comparisonLikelihood"),
                     _text(s.code, "comparisonCodes"),
                     self._samples_cell(s), self._recon_cell(s),
                     _text(swatch + s.quality_words(), "comparisonSampleQuality")]
            for r, w in enumerate(cells):
                self.grid.addWidget(w, r, c)
                self._cells.append(w)
        self.quality.set_compared([(s.name, run_colour(c), s.quality)
                                   for c, (_, s) in enumerate(self.summaries)
                                   if s.quality is not None])

    @staticmethod
    def _pane(image: np.ndarray, name: str) -> ImagePane:
        pane = named(ImagePane(), name, name)
        pane.setMinimumSize(150, 150)
        pane.setMaximumHeight(260)
        pane.set_image(image)
        return pane

    def _samples_cell(self, s: GenerativeSummary) -> QWidget:
        if s.points is not None:
            return self._pane(s.points.astype(np.float32) / 255.0, "comparisonDataSpace")
        if s.samples is not None:
            return self._pane(tile(to_display(s.samples), 4, pad=1), "comparisonSamples")
        return _text(s.samples_note or "none", "comparisonNoSamples")

    def _recon_cell(self, s: GenerativeSummary) -> QWidget:
        if s.recon_picture is not None:    # 2-D points: the data and their reconstructions
            cell = QWidget()
            v = QVBoxLayout(cell)
            v.setContentsMargins(0, 0, 0, 0)
            v.addWidget(self._pane(s.recon_picture.astype(np.float32) / 255.0,
                                   "comparisonReconstructedPoints"))
            v.addWidget(_text(s.reconstructions_note, "comparisonReconstructionsNote"))
            return cell
        if s.reconstructions is None:
            return _text(s.reconstructions_note, "comparisonNoReconstructions")
        n = len(s.reconstructions) // 2
        return self._pane(tile(to_display(s.reconstructions), n, pad=1),
                          "comparisonReconstructions")
