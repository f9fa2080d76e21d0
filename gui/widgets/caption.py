"""The grey explanatory line that panels show beside or under their controls."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy

from gui.widgets.naming import named

CAPTION_STYLE = "color:#555;"


def caption_label(text: str, object_name: str, accessible_name: str, *,
                  wrap: bool = False, fixed_width: bool = True) -> QLabel:
    """A named, grey caption.

    Parameters
    ----------
    wrap : break long text over several lines.
    fixed_width : the caption never widens its panel: long text is cut (or wrapped)
        to the room the panel's other widgets leave.
    """
    label = named(QLabel(text), object_name, accessible_name)
    label.setWordWrap(wrap)
    label.setStyleSheet(CAPTION_STYLE)
    if fixed_width:
        label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
    return label
