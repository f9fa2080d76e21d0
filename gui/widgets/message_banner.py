"""An in-window message strip: errors and notices that never block the app."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from gui.style import BANNER_STYLES
from gui.widgets.naming import named


class MessageBanner(QWidget):
    """Shows one message (error or info) with a Dismiss button; hidden when empty.

    A modal QMessageBox would block tests and hide the window behind it;
    the banner keeps the message visible next to the work it is about.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "messageBanner", "Messages")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = named(QLabel(), "messageText", "Message")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.PlainText)   # messages name files: "a<b.h5" stays whole
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.dismiss_button = named(QPushButton("Dismiss"), "dismissMessageButton",
                                    "Dismiss message")
        self.dismiss_button.clicked.connect(self.clear)
        # What to do about the message, when there is one thing to do (e.g. Manage…).
        self.action_button = named(QPushButton(""), "messageActionButton", "Act on the message")
        self.action_button.clicked.connect(self._act)
        self.action_button.hide()
        self._action = None
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button, 0, Qt.AlignTop)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignTop)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error", action=None) -> None:
        """Show ``text``; ``kind`` is ``'error'`` or ``'info'``; ``action`` an optional
        (button text, callable) offered beside it."""
        self._action = action[1] if action else None
        self.action_button.setText(action[0] if action else "")
        self.action_button.setAccessibleName(action[0] if action else "Act on the message")
        self.action_button.setVisible(action is not None)
        self.kind = kind
        prefix = "Error: " if kind == "error" else ""
        self.label.setText(prefix + text)
        self.setStyleSheet(f"MessageBanner {{{BANNER_STYLES[kind]}}}")
        self.setAttribute(Qt.WA_StyledBackground, True)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.kind else ""

    def _act(self) -> None:
        action = self._action
        self.clear()
        if action is not None:
            action()

    def clear(self) -> None:
        self._action = None
        self.action_button.hide()
        self.kind = ""
        self.label.clear()
        self.hide()
