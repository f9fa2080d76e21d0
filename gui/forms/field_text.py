"""A described config field as the text a form shows, and that text parsed back. No Qt.

The field's type and metadata (:mod:`engine.fields`) say how: a number as
``0.001``, a width list as ``512, 256``, an optional number as blank. A text
that does not parse gives a reason naming the field (``optim.lr must be a
number (got 'fast')``); the range is the engine's to check.
"""

from __future__ import annotations

import re
from typing import Any

from engine.fields import FieldInfo

_BLANK = ("", "all", "none")


def to_text(fi: FieldInfo, value: Any) -> Any:
    """The form's value of ``value``: text, or a check box's bool, or a choice's own value."""
    if fi.kind is bool or fi.choices or fi.get("widget") == "device":
        return value
    if value is None:
        return ""
    if fi.kind is tuple:
        return ", ".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def from_text(fi: FieldInfo, key: str, text: Any) -> tuple[Any, str]:
    """``(value, "")`` for the form's ``text`` of field ``key``, or ``(None, reason)``."""
    if fi.kind is bool or fi.choices or fi.get("widget") == "device":
        return text, ""
    if fi.kind is str:
        return (text.strip() or None) if fi.optional else text, ""
    text = text.strip()
    if fi.optional and text.lower() in _BLANK:
        return None, ""
    if fi.kind is tuple:
        try:
            return [int(p, 10) for p in re.split(r"[,\s]+", text) if p], ""
        except ValueError:
            example = fi.get("placeholder", "")
            return None, (f"{key} must be whole numbers separated by commas"
                          f"{', ' + example if example else ''} (got {text!r})")
    try:
        return (int(text, 10) if fi.kind is int else float(text)), ""
    except ValueError:
        what = "a whole number" if fi.kind is int else "a number"
        return None, f"{key} must be {what} (got {text!r})"
