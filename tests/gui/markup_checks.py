"""Labels whose markup ate part of their text: what the user reads against what was meant."""

from __future__ import annotations

import html
import re

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget


def _meant(markup: str) -> str:
    """The text a piece of label markup was meant to show (tags dropped, entities read)."""
    text = re.sub(r"<br\s*/?>", " ", markup)
    text = re.sub(r"</?[a-zA-Z][^<>]*>", "", text)
    return " ".join(html.unescape(text).split())


def _shown(text: str) -> str:
    return " ".join(text.replace("\u2029", " ").replace("\u2028", " ").split())


def cut_plot_labels(root: QWidget) -> list[tuple[str, str]]:
    """(meant, shown) for every pyqtgraph axis label, title and legend entry under ``root``
    whose shown text lost part of what it was meant to say."""
    views = [w for w in root.findChildren(pg.GraphicsView)]
    if isinstance(root, pg.GraphicsView):
        views.append(root)
    bad = []
    for view in views:
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem) and item.labelText:
                meant, shown = _meant(item.labelText), _shown(item.label.toPlainText())
            elif isinstance(item, pg.LabelItem) and item.text:
                meant, shown = _meant(item.text), _shown(item.item.toPlainText())
            else:
                continue
            if meant not in shown:
                bad.append((meant, shown))
    return bad


def shown_label_texts(root: QWidget) -> list[str]:
    """What each QLabel under ``root`` shows, as plain text (rich text rendered)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import Qt as GuiQt, QTextDocument
    from PySide6.QtWidgets import QLabel
    texts = []
    for label in root.findChildren(QLabel):
        text = label.text()
        rich = (label.textFormat() == Qt.RichText or
                (label.textFormat() == Qt.AutoText and GuiQt.mightBeRichText(text)))
        if rich:
            doc = QTextDocument()
            doc.setHtml(text)
            text = doc.toPlainText()
        texts.append(_shown(text))
    return texts
