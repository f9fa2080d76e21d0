"""The lesson windows of the main window: opened from its Lessons menu, one per lesson.

A lesson's window is a child of the main window, kept when closed: opened again it
is raised (its folder read anew), not rebuilt; it closes, stopping its training,
when the main window does.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from gui.lessons.lesson_window import LessonWindow


def lesson_windows(parent: QWidget | None) -> dict[str, LessonWindow]:
    """The lesson windows of ``parent`` (the main window) by lesson name: its children,
    kept when closed (opened again, they are raised, not rebuilt)."""
    if parent is None:
        return {}
    return {w.lesson.name: w for w in parent.findChildren(LessonWindow)}


def open_lesson_window(lesson, preferences, parent: QWidget | None = None) -> LessonWindow:
    """Open the window of ``lesson``: raised when open, shown again (its folder read anew)
    when it was closed. With a ``parent`` (the main window), it closes when the parent does."""
    window = lesson_windows(parent).get(lesson.name)
    if window is not None:
        if not window.isVisible() and not window.is_running():
            window.open_saved()                 # closed earlier: read its folder again
        window.show()
        window.raise_()
        window.activateWindow()
        return window
    window = LessonWindow(lesson, preferences, parent=parent)
    if parent is not None:
        window.setWindowFlag(Qt.Window, True)   # its own window, above the main one
        if parent.findChild(_ClosesWithParent) is None:
            _ClosesWithParent(parent)
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(window.shutdown)
    window.show()
    return window


class _ClosesWithParent(QObject):
    """Closes the main window's lesson windows (stopping their training) once it has closed;
    a close it refused (it asked first, and the user said no) leaves them open."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        parent.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Close:
            QTimer.singleShot(0, self._close_if_closed)
        return False

    def _close_if_closed(self) -> None:
        parent = self.parent()
        if parent is not None and not parent.isVisible():
            for window in lesson_windows(parent).values():
                window.close()
