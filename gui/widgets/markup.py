"""Text that goes into markup, kept as written.

pyqtgraph's axis labels, titles and legend entries are HTML, and so is a
QLabel whose text looks like it (or that is set to rich text): a ``<`` or
``&`` in a data set's name, a file name or "|h| < 0.01" is read as the start
of a tag or an entity, and the rest of the text disappears. Menus and
buttons read ``&`` as a shortcut marker. These helpers escape such text
where it is put in; the tests check every label of the windows.
"""

from __future__ import annotations

import html


def escaped(text: object) -> str:
    """``text`` for a rich-text label or a pyqtgraph label: ``<``, ``>``, ``&`` shown as
    themselves ("|h| < 0.01" stays whole)."""
    return html.escape(str(text), quote=False)


def menu_text(text: object) -> str:
    """``text`` for a menu entry or a button: a ``&`` shown, not taken for a shortcut."""
    return str(text).replace("&", "&&")
