"""The run settings' pretraining group: stage widths, a kind per stage, epochs.

A checkable group. Ticked, Train runs greedy layer-wise pretraining
(:class:`~engine.pretraining.GreedyPretrainer`) instead of an ordinary run,
and the group's fields replace the Architecture fields and Epochs (the
run-settings panel hides those). The fields hold text as typed;
:mod:`gui.forms.pretrain_form` turns them into a config.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGroupBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from engine.validation import STACK_ACTIVATIONS
from gui.forms.field_widgets import add_row, form_grid
from gui.forms.pretrain_form import (END_TO_END_EPOCHS, KIND_CHOICES, KINDS, STAGE_EPOCHS,
                                     UNITS, WIDTHS, PretrainValues, fit_kinds, parse_widths)
from gui.widgets.naming import named

ErrorLabelFactory = Callable[[str], QLabel]


class PretrainSettingsGroup(QGroupBox):
    """Greedy layer-wise pretraining settings.

    Parameters
    ----------
    error_label : makes the (hidden) error label of a field key; the
        run-settings panel owns them all, so every error shows the same way.

    Signals
    -------
    changed : any field changed (also the group's check box).
    kind_chosen(str) : a stage's kind was picked by the user, e.g. ``"denoising"``.
    """

    changed = Signal()
    kind_chosen = Signal(str)

    def __init__(self, error_label: ErrorLabelFactory, parent: QWidget | None = None):
        super().__init__("Greedy layer-wise pretraining", parent)
        named(self, "pretrainGroup", "Greedy layer-wise pretraining",
              "Train one hidden layer at a time, each on the frozen codes of the ones "
              "before it, then stack them into a deep encoder (MLP only)")
        self.setCheckable(True)
        self.setChecked(False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 2, 6, 4)
        # The fields live in a body that is hidden while the group is off, so an
        # unused group takes one line of the settings column.
        self.body = QWidget()
        outer.addWidget(self.body)
        grid = form_grid(self.body)
        grid.setContentsMargins(0, 0, 0, 0)
        self.widths_edit = named(QLineEdit(), "stageWidthsEdit", "Stage widths",
                                 "Code size of each stage, input first: 256, 64 trains "
                                 "784-256, then 256-64")
        self.widths_edit.setPlaceholderText("e.g. 256, 64")
        add_row(grid, "Stage widths", self.widths_edit, error_label(WIDTHS))
        self.units_combo = named(QComboBox(), "stageUnitsCombo", "Stage units",
                                 "The activation of every stage (sigmoid is the classic choice)")
        for name in STACK_ACTIVATIONS:
            self.units_combo.addItem(name, name)
        add_row(grid, "Units", self.units_combo, error_label(UNITS))
        self.kinds_box = QWidget()
        self.kinds_grid = form_grid(self.kinds_box, spacing=2)
        self.kinds_grid.setContentsMargins(0, 0, 0, 0)
        r = grid.rowCount()
        grid.addWidget(self.kinds_box, r, 0, 1, 2)
        grid.addWidget(error_label(KINDS), r + 1, 0, 1, 2)
        self.kind_combos: list[QComboBox] = []
        self.kind_labels: list[QLabel] = []
        self.stage_epochs_edit = named(QLineEdit(), "stageEpochsEdit", "Epochs per stage",
                                       "Passes over the training set for each stage")
        add_row(grid, "Epochs / stage", self.stage_epochs_edit, error_label(STAGE_EPOCHS))
        self.end_to_end_edit = named(QLineEdit(), "endToEndEpochsEdit", "End-to-end epochs",
                                   "Epochs of training the whole stacked autoencoder "
                                   "afterwards (0: none)")
        add_row(grid, "End-to-end", self.end_to_end_edit, error_label(END_TO_END_EPOCHS))
        self._loading = False
        self.toggled.connect(self._on_toggled)
        self.widths_edit.textChanged.connect(self._on_widths_changed)
        self.units_combo.currentIndexChanged.connect(self._emit_changed)
        for edit in (self.stage_epochs_edit, self.end_to_end_edit):
            edit.textChanged.connect(self._emit_changed)
        self.set_values(PretrainValues())

    # -- values -------------------------------------------------------------------
    def values(self) -> PretrainValues:
        return PretrainValues(
            enabled=self.isChecked(), widths=self.widths_edit.text(),
            kinds=tuple(c.currentData() for c in self.kind_combos),
            units=self.units_combo.currentData(), stage_epochs=self.stage_epochs_edit.text(),
            end_to_end_epochs=self.end_to_end_edit.text())

    def set_values(self, v: PretrainValues) -> None:
        self._loading = True
        try:
            self.setChecked(v.enabled)
            self.body.setVisible(v.enabled)
            self.widths_edit.setText(v.widths)
            i = self.units_combo.findData(v.units)
            self.units_combo.setCurrentIndex(max(0, i))
            self.stage_epochs_edit.setText(v.stage_epochs)
            self.end_to_end_edit.setText(v.end_to_end_epochs)
            self._rebuild_kind_rows(v.kinds)
        finally:
            self._loading = False

    # -- the kind of each stage ------------------------------------------------------
    def _stage_widths(self) -> tuple[int, ...] | None:
        return parse_widths(self.widths_edit.text())[0]

    def _rebuild_kind_rows(self, kinds: tuple[str, ...]) -> None:
        """One labelled combo per stage; kept when only a width changed."""
        widths = self._stage_widths()
        n = len(widths) if widths else len(self.kind_combos) or len(kinds) or 1
        kinds = fit_kinds(kinds, n)
        while len(self.kind_combos) > n:
            for w in (self.kind_combos.pop(), self.kind_labels.pop()):
                self.kinds_grid.removeWidget(w)
                w.deleteLater()
        while len(self.kind_combos) < n:
            k = len(self.kind_combos) + 1
            combo = named(QComboBox(), f"stageKindCombo{k}", f"Stage {k} kind",
                          f"What stage {k} learns; strengths come from the Objective fields")
            for text, data in KIND_CHOICES:
                combo.addItem(text, data)
            # Sized to a short kind, not to "RBM (a deep belief network's layer)": at the
            # longest item's width the stage rows pushed the form past its 1366x768 column
            # (the list still shows every item whole).
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
            combo.activated.connect(lambda _i, c=combo: self.kind_chosen.emit(c.currentData()))
            combo.currentIndexChanged.connect(self._emit_changed)
            label = QLabel()
            label.setBuddy(combo)
            self.kinds_grid.addWidget(label, k - 1, 0)
            self.kinds_grid.addWidget(combo, k - 1, 1)
            self.kind_combos.append(combo)
            self.kind_labels.append(label)
        for combo, kind in zip(self.kind_combos, kinds):
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(kind)))
            combo.blockSignals(False)
        self._update_kind_labels(widths)

    def _update_kind_labels(self, widths: tuple[int, ...] | None) -> None:
        for i, label in enumerate(self.kind_labels):
            if widths and i < len(widths):
                src = "input" if i == 0 else str(widths[i - 1])
                label.setText(f"Stage {i + 1}: {src}→{widths[i]}")
            else:
                label.setText(f"Stage {i + 1}")

    def _on_widths_changed(self, _text: str) -> None:
        if not self._loading:
            self._rebuild_kind_rows(tuple(c.currentData() for c in self.kind_combos))
            self.changed.emit()

    def _on_toggled(self, on: bool) -> None:
        self.body.setVisible(on)
        self._emit_changed()

    def _emit_changed(self, *_args) -> None:
        if not self._loading:
            self.changed.emit()

    def set_available(self, available: bool, reason: str = "") -> None:
        """Allow pretraining mode (MLP runs) or not (with the reason as tooltip)."""
        self.setEnabled(available)
        self.setToolTip(reason if not available else self.accessibleDescription())
