"""A QStackedWidget whose size is its current page's, not its largest page's.

Qt's stack asks for room for every page at once, so a page that is hidden
(the RBM's three views, say) would widen the window even while an
autoencoder is shown. The Training tab's switches use this one instead.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QStackedWidget


class PageStack(QStackedWidget):
    """Sizes itself to the page on show; tells its layout again whenever the page changes."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.currentChanged.connect(lambda _index: self.updateGeometry())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        page = self.currentWidget()
        return page.minimumSizeHint() if page is not None else super().minimumSizeHint()
