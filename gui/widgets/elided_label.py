"""A one-line label that shortens its text with "…" to the room it has, never wrapping."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy


class ElidedLabel(QLabel):
    """A QLabel for one line of text that may not fit: a path, a readout, a progress note.

    A wrapping label grows taller and pushes what is below it (or breaks a
    readout into "(20 / dims)]"); a plain one widens the window. This one
    keeps its height, asks for little width, and draws as much of the text
    as fits with "…" where it is cut; the whole text is its tooltip.

    Parameters
    ----------
    text : the text.
    mode : where to cut: ``Qt.ElideRight`` (default) or ``Qt.ElideMiddle`` (paths).
    min_chars : how many characters its minimum width leaves room for.
    """

    def __init__(self, text: str = "", mode: Qt.TextElideMode = Qt.ElideRight,
                 min_chars: int = 12, parent=None):
        super().__init__(parent)
        self._mode = mode
        self._min_chars = min_chars
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.setWordWrap(False)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        self.setToolTip(text if text.strip() else "")
        self.update()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        metrics = self.fontMetrics()
        return QSize(metrics.horizontalAdvance("x" * self._min_chars), metrics.height())

    def sizeHint(self) -> QSize:  # noqa: N802
        metrics = self.fontMetrics()
        return QSize(metrics.horizontalAdvance(self.text()) + 4, metrics.height())

    def shown_text(self) -> str:
        """The text as drawn in the current width (with "…" where it is cut)."""
        room = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), self._mode, max(0, room))

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), int(self.alignment() | Qt.AlignVCenter),
                         self.shown_text())
