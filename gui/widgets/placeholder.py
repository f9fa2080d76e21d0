"""A grey note drawn over an empty view ("Loss curves appear when training starts")."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QWidget

from gui.widgets.naming import named


class Placeholder(QLabel):
    """Centred text over ``target`` while it has nothing to show.

    Before the first run a plot would show axes of nothing (pyqtgraph's
    default 0..1, an image view's -0.4..0.4): the panel hides them and shows
    this note instead. It follows the target's size and lets the mouse through.

    Parameters
    ----------
    target : the view to cover.
    name : object name (for tests and automation).
    """

    def __init__(self, target: QWidget, name: str):
        super().__init__(target)
        named(self, name, "Empty view note")
        self.setAlignment(Qt.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet("color:#777; background: transparent;")
        self.setAttribute(Qt.WA_TransparentForMouseEvents, True)
        self._target = target
        target.installEventFilter(self)
        self.hide()

    def show_text(self, text: str) -> None:
        """Show ``text`` over the view (empty text hides the note)."""
        self.setText(text)
        if not text:
            self.hide()
            return
        self._fit()
        self.show()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self._target and event.type() == QEvent.Resize:
            self._fit()
        return False

    def _fit(self) -> None:
        rect = self._target.rect().adjusted(12, 12, -12, -12)
        self.setGeometry(rect)
