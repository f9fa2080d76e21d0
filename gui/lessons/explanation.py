"""A lesson's explanation as the student reads it: title, the notes' claim, the text, the
formula and what to look for, and, once the runs are done, the claim's numbers.

Plain rich text in a read-only :class:`QTextBrowser` (it scrolls when a
teacher's lesson is long, and its text can be selected and copied); the
lesson's own strings are escaped, so a lesson file cannot inject markup.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTextBrowser

from gui.widgets.naming import named

HOLDS_STYLE = ("QLabel { background:#e3f4e8; color:#0c4a1e; border:1px solid #9fd3ae;"
               " border-radius:4px; padding:6px; }")
FAILS_STYLE = ("QLabel { background:#fdf0dc; color:#5c3b00; border:1px solid #e7c27d;"
               " border-radius:4px; padding:6px; }")
WAITING_STYLE = "QLabel { color:#555; padding:6px; }"


def lesson_html(lesson) -> str:
    """The explanation of ``lesson`` (an ``engine.lessons.Lesson``) as rich text."""
    def para(text: str) -> str:
        return escape(text).replace("\n\n", "</p><p>").replace("\n", "<br>")

    return (
        f"<p style='color:#555; margin:0'>Lesson {lesson.number}</p>"
        f"<h2 style='margin:2px 0 6px 0'>{escape(lesson.title)}</h2>"
        f"<p style='margin:0 0 8px 0'><i>“{para(lesson.claim)}”</i></p>"
        f"<p style='margin:0 0 8px 0'>{para(lesson.text)}</p>"
        f"<p style='margin:0 0 8px 0; font-family:monospace; font-size:11pt;"
        f" background:#f3f3f3; white-space:pre-wrap'> {escape(lesson.formula)} </p>"
        f"<p style='margin:0'><b>Look for:</b> {para(lesson.look_for)}</p>")


class LessonExplanation(QTextBrowser):
    """The lesson's explanation (see the module docstring)."""

    def __init__(self, lesson, parent=None):
        super().__init__(parent)
        named(self, "lessonExplanation", "The lesson's explanation",
              "What the lesson shows, its formula and what to look for")
        self.setOpenExternalLinks(False)
        self.setFrameShape(QTextBrowser.NoFrame)
        self.document().setDocumentMargin(4)
        self.setHtml(lesson_html(lesson))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """No taller than its text: what follows (the buttons, the numbers) sits right under
        it; a long text scrolls when the window has less room."""
        super().resizeEvent(event)
        doc = self.document()
        doc.setTextWidth(self.viewport().width())
        self.setMaximumHeight(max(80, int(doc.size().height()) + 2 * self.frameWidth() + 4))


class ClaimLabel(QLabel):
    """The claim's numbers once measured: green when it holds, amber when it did not."""

    def __init__(self, parent=None):
        super().__init__(parent)
        named(self, "lessonClaim", "The claim's numbers",
              "What the runs measured, and whether the claim holds")
        self.setWordWrap(True)
        self.setTextFormat(Qt.RichText)
        self.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.holds: bool | None = None
        self.show_waiting("The numbers behind the claim appear here when the runs are done.")

    def show_waiting(self, text: str) -> None:
        self.holds = None
        self.setToolTip("")
        self.setText(escape(text))
        self.setStyleSheet(WAITING_STYLE)

    def show_result(self, claim) -> None:
        """Show an ``engine.lessons.ClaimResult``: its sentence and its values."""
        self.holds = bool(claim.holds)
        verdict = "The claim holds" if claim.holds else "The claim did not show this time"
        # The sentence carries the numbers; every measured value is in the tooltip.
        self.setText(f"<b>{'✓' if claim.holds else '✗'} {verdict}.</b> "
                     f"{escape(claim.sentence)}")
        self.setToolTip("\n".join(f"{k} = {_number(v)}" for k, v in claim.values.items()))
        self.setStyleSheet(HOLDS_STYLE if claim.holds else FAILS_STYLE)

    def sentence(self) -> str:
        """The text shown, without markup (for tests)."""
        doc = QTextBrowser()
        doc.setHtml(self.text())
        return doc.toPlainText()


def _number(value) -> str:
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)
