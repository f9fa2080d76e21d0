"""The run settings a model family brings of its own (a GAN's ``gan``, an RBM's ``rbm``).

Shown for a run of that family (its preset, or an opened session's config)
in place of what it does not use: the autoencoder's kinds. The rows are
generated from each registered family's settings description
(:mod:`engine.settings`); :func:`gui.forms.family_form.put_family_fields`
writes them into the config dictionary the form validates, so every problem
lands under its field like any other (``gan.d_steps``, ``rbm.cd_k``). A
family without settings of its own shows no group.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QWidget

from engine.settings import settings_for_family
from gui.forms.family_form import FamilyValues, all_family_settings, form_fields
from gui.forms.field_widgets import (add_row, field_widget, form_grid, on_change, set_value,
                                    value_of)
from gui.widgets.caption import caption_label
from gui.widgets.naming import named


class FamilySettingsGroup(QGroupBox):
    """The current family's own fields (hidden for a family without any).

    Attributes
    ----------
    edits : section name -> field name -> its widget (a line edit or a check box).

    Signals
    -------
    changed : any field changed.
    """

    changed = Signal()

    def __init__(self, error_label: Callable[[str], QLabel], parent: QWidget | None = None):
        super().__init__("Family", parent)
        named(self, "familyGroup", "Settings of the model family")
        self.grid = form_grid(self)
        self.note = caption_label("", "familyNote", "What this model family is", wrap=True)
        self.grid.addWidget(self.note, 0, 0, 1, 2)
        self.edits: dict[str, dict[str, QWidget]] = {}
        self.rows: dict[str, list[QWidget]] = {}
        for section, settings in all_family_settings().items():
            self.edits[section], self.rows[section] = {}, []
            for fi in form_fields(settings):
                key = f"{section}.{fi.name}"
                w = field_widget(key, fi)
                on_change(w, self.changed.emit)
                r = self.grid.rowCount()
                if isinstance(w, QCheckBox):      # a check box carries its own label
                    self.grid.addWidget(w, r, 0, 1, 2)
                    shown = [w]
                else:
                    shown = [add_row(self.grid, fi.label, w), w]
                self.grid.addWidget(error_label(key), r + 1, 0, 1, 2)
                self.edits[section][fi.name] = w
                self.rows[section] += shown
        self.family = "autoencoder"
        self.setVisible(False)

    def _section(self, family: str) -> str | None:
        own = settings_for_family(family)
        return own[0] if own else None

    def values(self) -> FamilyValues:
        edits = self.edits.get(self._section(self.family), {})
        return FamilyValues(self.family, {k: value_of(w) for k, w in edits.items()})

    def set_values(self, v: FamilyValues) -> None:
        self.family = v.family
        own = settings_for_family(v.family)
        section = own[0] if own else None
        for name, edits in self.edits.items():
            for field, w in edits.items():
                w.blockSignals(True)
                set_value(w, v.text.get(field, "") if name == section else "")
                w.blockSignals(False)
        for name, widgets in self.rows.items():
            for w in widgets:
                w.setVisible(name == section)
        self.setTitle(own[1].title if own else "Family")
        self.note.setText(own[1].note if own else "")
        self.setVisible(own is not None)
