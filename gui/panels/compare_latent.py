"""The comparison window's latent tab: each run's latent map and KL per dimension, side by side.

A column per run — its title, its :class:`~gui.panels.latent_explorer.LatentExplorerPanel`
(map, decoded image, pins) and its :class:`~gui.panels.kl_per_dimension.KlPerDimensionPanel`
— under one row of map controls that drives every map at once (projection, the
dimensions shown, where the others are held, the colouring, manifold, prior, fit):
the same view of each run is what a comparison needs, and one row instead of one
per column leaves the maps their height. Four columns fit a 1366-pixel screen;
more scroll sideways.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QSizePolicy, QSpinBox, QSplitter, QVBoxLayout,
                               QWidget)

from engine.decoding import LatentDecoder
from gui.panels.kl_per_dimension import KlPerDimensionPanel
from gui.panels.latent_explorer import LatentExplorerPanel
from gui.widgets.caption import caption_label
from gui.widgets.markup import escaped
from gui.widgets.naming import named

COLUMN_WIDTH = 300     # pixels a run's column needs at least: four fit a laptop's screen
KL_HEIGHT = (130, 180)  # the KL bars and their caption under each map: least and most


class CompareLatentPanel(QWidget):
    """Latent maps and KL bars of the compared runs, one row of controls for all.

    Attributes
    ----------
    explorers : a map per run (None for a run without one: a GAN's column says why).
    kl_panels : a KL panel per run.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "compareLatentPanel", "Latent spaces and KL per dimension")
        self.projection_combo = named(QComboBox(), "compareProjectionCombo",
                                      "Map projection of every run")
        self.dim_x_spin = named(QSpinBox(), "compareMapXSpin", "Map x dimension of every run")
        self.dim_y_spin = named(QSpinBox(), "compareMapYSpin", "Map y dimension of every run")
        self.hold_combo = named(QComboBox(), "compareHoldCombo",
                                "Other coordinates held at, in every run")
        self.hold_combo.addItems(["mean of codes", "zero (prior mean)"])
        self.colour_combo = named(QComboBox(), "compareColourCombo", "Colour every map by")
        self.manifold_check = named(QCheckBox("Manifold"), "compareManifoldCheck",
                                    "Show every decoded manifold")
        self.prior_check = named(QCheckBox("Prior"), "comparePriorCheck",
                                 "Show every prior's contours")
        self.fit_button = named(QPushButton("Fit"), "compareFitButton", "Fit every map")
        for check in (self.manifold_check, self.prior_check):
            check.setChecked(True)
        bar = QHBoxLayout()
        for w in (QLabel("Maps:"), self.projection_combo, QLabel("x"), self.dim_x_spin,
                  QLabel("y"), self.dim_y_spin, QLabel("others at"), self.hold_combo,
                  QLabel("colour by"), self.colour_combo, self.manifold_check,
                  self.prior_check, self.fit_button):
            bar.addWidget(w)
        bar.addStretch(1)
        # The colours' legend, once for all when the runs share it (the same data): each
        # column's own took two lines of its map's height.
        self.legend_label = named(QLabel(" "), "compareLatentLegend", "Point colours")
        self.legend_label.setTextFormat(Qt.RichText)
        self.legend_label.setWordWrap(True)
        self.row = QWidget()
        self.scroll = named(QScrollArea(), "compareLatentScroll", "Latent spaces")
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.legend_label)
        layout.addWidget(self.scroll, 1)
        self.explorers: list[LatentExplorerPanel | None] = []
        self.kl_panels: list[KlPerDimensionPanel] = []
        self.projection_combo.currentTextChanged.connect(self._apply)
        self.legend_label.hide()
        self.hold_combo.currentIndexChanged.connect(self._apply)
        self.colour_combo.currentTextChanged.connect(self._apply)
        self.dim_x_spin.valueChanged.connect(self._apply)
        self.dim_y_spin.valueChanged.connect(self._apply)
        self.manifold_check.toggled.connect(self._apply)
        self.prior_check.toggled.connect(self._apply)
        self.fit_button.clicked.connect(self.fit_all)

    # -- the columns ------------------------------------------------------------------------
    def set_runs(self, runs) -> None:
        """A column per compared run (``ComparedRun``: label, colour, run)."""
        old = self.row.layout()
        if old is not None:
            while old.count():
                w = old.takeAt(0).widget()
                if w is not None:
                    w.deleteLater()
            QWidget().setLayout(old)   # the old layout goes with a throwaway parent
        columns = QSplitter(Qt.Horizontal)
        columns.setChildrenCollapsible(False)
        self.explorers, self.kl_panels = [], []
        for r in runs:
            columns.addWidget(self._column(r))
        holder = QVBoxLayout(self.row)
        holder.setContentsMargins(0, 0, 0, 0)
        holder.addWidget(columns)
        self._fill_controls([r.run.config.model.latent_dim for r in runs])

    def _column(self, r) -> QWidget:
        column = QWidget()
        column.setMinimumWidth(COLUMN_WIDTH)
        v = QVBoxLayout(column)
        v.setContentsMargins(2, 2, 2, 2)
        cfg = r.run.config
        title = QLabel(f"<b style='color:{r.colour}'>■</b> <b>{escaped(r.label)}</b> · "
                       f"{escaped(cfg.kind_label())}, latent {cfg.model.latent_dim}")
        title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)   # never widens
        v.addWidget(title)
        if LatentDecoder.available(cfg):
            explorer = LatentExplorerPanel()
            explorer.set_run(cfg, r.run.data)
            explorer.set_controls_shown(False)
            v.addWidget(explorer, 3)
        else:
            explorer = None
            v.addWidget(caption_label(f"A {cfg.model.family} has no latent map.",
                                      "compareNoMap", "No latent map"), 3)
        kl = KlPerDimensionPanel(r.colour)
        kl.setMinimumHeight(KL_HEIGHT[0])
        kl.setMaximumHeight(KL_HEIGHT[1])   # the rest is the map's
        v.addWidget(kl, 1)
        self.explorers.append(explorer)
        self.kl_panels.append(kl)
        return column

    def _fill_controls(self, latent_dims: list[int]) -> None:
        """The shared controls offer what applies to the runs: PCA when a code has more than
        two dimensions, the colourings every map has."""
        shown = [e for e in self.explorers if e is not None]
        widest = max(latent_dims, default=2)
        combos = (self.projection_combo, self.colour_combo, self.dim_x_spin, self.dim_y_spin)
        for w in combos:
            w.blockSignals(True)
        self.projection_combo.clear()
        self.projection_combo.addItems(["PCA", "dimensions"] if widest > 2 else ["dimensions"])
        for spin, value in ((self.dim_x_spin, 1), (self.dim_y_spin, min(2, widest))):
            spin.setRange(1, widest)
            spin.setValue(value)
        options = [self._items(e.colour_combo) for e in shown]
        common = [o for o in options[0] if all(o in rest for rest in options[1:])] \
            if options else []
        self.colour_combo.clear()
        self.colour_combo.addItems(common)
        for w in combos:
            w.blockSignals(False)
        self.manifold_check.setEnabled(any(e.manifold_check.isEnabled() for e in shown))
        self.prior_check.setEnabled(any(e.prior_check.isEnabled() for e in shown))
        self._apply()

    @staticmethod
    def _items(combo: QComboBox) -> list[str]:
        return [combo.itemText(i) for i in range(combo.count())]

    # -- driving every map -----------------------------------------------------------------
    def _apply(self, *_args) -> None:
        """Set every map's own (hidden) controls to the shared ones."""
        dims = self.projection_combo.currentText() == "dimensions"
        for spin in (self.dim_x_spin, self.dim_y_spin):
            spin.setEnabled(dims and spin.maximum() > 2)
        self.hold_combo.setEnabled(self.dim_x_spin.maximum() > 2)
        for e in self.explorers:
            if e is None:
                continue
            e.projection_combo.setCurrentText(self.projection_combo.currentText())
            e.dim_x_spin.setValue(self.dim_x_spin.value())
            e.dim_y_spin.setValue(self.dim_y_spin.value())
            e.hold_combo.setCurrentIndex(self.hold_combo.currentIndex())
            e.colour_combo.setCurrentText(self.colour_combo.currentText())
            e.manifold_check.setChecked(self.manifold_check.isChecked())
            e.prior_check.setChecked(self.prior_check.isChecked())
        self.sync_legends()

    def sync_legends(self) -> None:
        """One legend above the columns when every map's is the same, else each its own."""
        shown = [e for e in self.explorers if e is not None]
        texts = {e.legend_label.text() for e in shown}
        shared = len(texts) == 1 and bool(next(iter(texts)).strip())
        self.legend_label.setText(next(iter(texts)) if shared else "")
        self.legend_label.setVisible(shared)
        for e in shown:
            e.legend_label.setVisible(not shared)

    def fit_all(self) -> None:
        for e in self.explorers:
            if e is not None:
                e.fit_view()
