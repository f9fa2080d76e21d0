"""A widget for each described config field: chosen by its type, named and worded by it.

A field with ``choices`` is a combo box (each choice's text from the
description), a bool a check box, anything else a line edit with the
field's help as tooltip and its placeholder. Every widget's objectName
follows the dotted key (``optim.lr`` -> ``optimLrEdit``) and its accessible
name is the field's label, so nothing is named twice.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QLabel, QLineEdit, QWidget

from engine.fields import FieldInfo
from gui.widgets.naming import named


def object_name(key: str, suffix: str) -> str:
    """``"gan.d_steps", "Edit"`` -> ``"ganDStepsEdit"``."""
    words = key.replace(".", "_").split("_")
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:]) + suffix


def field_widget(key: str, fi: FieldInfo, choices: list[tuple[str, Any]] | None = None
                 ) -> QWidget:
    """The widget for field ``key``; ``choices``: ``(text, value)`` to offer instead."""
    help_text = fi.get("help") or None
    if choices is not None or fi.choices:
        combo = named(QComboBox(), object_name(key, "Combo"), fi.label, help_text)
        for text, value in choices or [(fi.choice_text(c), c) for c in fi.choices]:
            combo.addItem(text, value)
        return combo
    if fi.kind is bool:
        return named(QCheckBox(fi.label), object_name(key, "Check"), fi.label, help_text)
    edit = named(QLineEdit(), object_name(key, "Edit"), fi.label, help_text)
    edit.setPlaceholderText(fi.get("placeholder", ""))
    return edit


def value_of(w: QWidget) -> Any:
    """What ``w`` holds as the form keeps it: a combo's value, a check's state, text."""
    if isinstance(w, QComboBox):
        return w.currentData()
    if isinstance(w, QCheckBox):
        return w.isChecked()
    return w.text()


def set_value(w: QWidget, value: Any) -> None:
    """Show ``value`` in ``w`` (a combo without it shows its first choice)."""
    if isinstance(w, QComboBox):
        i = w.findData(value)
        w.setCurrentIndex(i if i >= 0 else 0)
    elif isinstance(w, QCheckBox):
        w.setChecked(bool(value))
    else:
        w.setText("" if value is None else str(value))


def on_change(w: QWidget, slot: Callable[[], None]) -> None:
    """Call ``slot`` whenever the user changes ``w``."""
    if isinstance(w, QComboBox):
        w.currentIndexChanged.connect(lambda _i: slot())
    elif isinstance(w, QCheckBox):
        w.toggled.connect(lambda _on: slot())
    else:
        w.textChanged.connect(lambda _t: slot())


def form_grid(parent: QWidget, spacing: int = 3) -> QGridLayout:
    """A grid of labelled rows on ``parent``: labels, then fields that take the spare width."""
    grid = QGridLayout(parent)
    grid.setColumnStretch(1, 1)
    grid.setVerticalSpacing(spacing)
    return grid


def add_row(grid: QGridLayout, text: str, widget: QWidget,
            error: QLabel | None = None) -> QLabel:
    """``widget`` labelled ``text`` on a new row of ``grid``, ``error`` (hidden) under them."""
    r = grid.rowCount()
    label = QLabel(text)
    label.setBuddy(widget)
    grid.addWidget(label, r, 0)
    grid.addWidget(widget, r, 1)
    if error is not None:
        grid.addWidget(error, r + 1, 0, 1, 2)
    return label
