"""The run settings of a GAN and of an RBM: the ``gan`` and ``rbm`` config sections.

Shown for a run of that family (its preset, or an opened session's config)
in place of what it does not use: the autoencoder's kinds. The fields hold
text as typed; :func:`gui.forms.family_form.put_family_fields` writes them into
the config dictionary the form validates, so every problem lands under its field like
any other (``gan.d_steps``, ``rbm.cd_k``).
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QGroupBox, QLabel, QLineEdit, QWidget

from gui.forms.family_form import FAMILY_FIELDS, NOTES, FamilyValues
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

class FamilySettingsGroup(QGroupBox):
    """The GAN's or the RBM's fields (hidden for an autoencoder or a classifier).

    Signals
    -------
    changed : any field changed.
    """

    changed = Signal()

    def __init__(self, error_label: Callable[[str], QLabel], parent: QWidget | None = None):
        super().__init__("Family", parent)
        named(self, "familyGroup", "Settings of the model family")
        self.grid = QGridLayout(self)
        self.grid.setColumnStretch(1, 1)
        self.grid.setVerticalSpacing(3)
        self.note = caption_label("", "familyNote", "What this model family is", wrap=True)
        self.grid.addWidget(self.note, 0, 0, 1, 2)
        self.edits: dict[str, dict[str, QLineEdit]] = {}
        self.rows: dict[str, list[QWidget]] = {}
        for family, fields in FAMILY_FIELDS.items():
            self.edits[family], self.rows[family] = {}, []
            for name, text, tip, _ in fields:
                r = self.grid.rowCount()
                edit = named(QLineEdit(), f"{family}{name.title().replace('_', '')}Edit",
                             text, tip)
                edit.textChanged.connect(lambda _text: self.changed.emit())
                label = QLabel(text)
                label.setBuddy(edit)
                err = error_label(f"{family}.{name}")
                self.grid.addWidget(label, r, 0)
                self.grid.addWidget(edit, r, 1)
                self.grid.addWidget(err, r + 1, 0, 1, 2)
                self.edits[family][name] = edit
                self.rows[family] += [label, edit]
        self.persistent_check = named(QCheckBox("Persistent chains (PCD)"), "persistentCheck",
                                      "Persistent contrastive divergence",
                                      "Keep the chains between updates instead of starting "
                                      "each at the batch")
        self.persistent_check.toggled.connect(lambda _on: self.changed.emit())
        self.grid.addWidget(self.persistent_check, self.grid.rowCount(), 0, 1, 2)
        self.rows["rbm"].append(self.persistent_check)
        self.family = "autoencoder"
        self.setVisible(False)

    def values(self) -> FamilyValues:
        edits = self.edits.get(self.family, {})
        return FamilyValues(self.family, {k: e.text() for k, e in edits.items()},
                            self.persistent_check.isChecked())

    def set_values(self, v: FamilyValues) -> None:
        self.family = v.family
        for family, edits in self.edits.items():
            for name, edit in edits.items():
                edit.blockSignals(True)
                edit.setText(v.text.get(name, "") if family == v.family else "")
                edit.blockSignals(False)
        self.persistent_check.blockSignals(True)
        self.persistent_check.setChecked(v.persistent)
        self.persistent_check.blockSignals(False)
        for family, widgets in self.rows.items():
            for w in widgets:
                w.setVisible(family == v.family)
        titles = {"gan": "GAN: two players", "rbm": "RBM: contrastive divergence"}
        self.setTitle(titles.get(v.family, "Family"))
        self.note.setText(NOTES.get(v.family, ""))
        self.setVisible(v.family in FAMILY_FIELDS)
