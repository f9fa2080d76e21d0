"""The window's size and splitters: fitted to the screen at start, remembered between runs.

A laptop's 1366×768 screen leaves about 1366×700 for a window once the
desktop's bar and the title bar are drawn. :func:`fit_to_screen` sizes the
window to what the screen offers (never more than :data:`PREFERRED_SIZE`)
and centres it; every panel has a minimum size (:data:`MINIMUM_SIZES`) that
keeps it usable, small enough that all of them fit at once. The user's own
arrangement — window geometry, every named splitter, the tab shown — is
saved in the preferences when the window closes and restored when it opens
(clamped to the screen it opens on, which may be smaller than the last one).
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, QSize, Qt
from PySide6.QtWidgets import QMainWindow, QSplitter, QTabWidget, QWidget

from gui.preferences import Preferences

#: The size the window asks for on a screen that has room for it.
PREFERRED_SIZE = QSize(1400, 900)

#: Object name -> (width, height): the least room each panel stays usable in. Their sum,
#: with the settings column and the window's bars, fits a 1366×768 laptop screen.
MINIMUM_SIZES = {
    "runSettingsFrame": (300, 200),
    "lossCurvesFrame": (280, 150),
    "reconstructionsFrame": (240, 150),
    "latentExplorerFrame": (380, 230),
    "samplesFrame": (160, 160),
    "pretrainFeaturesFrame": (240, 160),
    "stagesFrame": (240, 160),
}

#: Bumped when the splitters change, so a layout saved by an older version is not applied
#: to widgets it was not made for.
LAYOUT_VERSION = 2   # 2: the Code views tab and its splitters


def apply_minimum_sizes(window: QWidget) -> None:
    """Give each panel of :data:`MINIMUM_SIZES` its minimum, and keep splitters from
    collapsing a panel to nothing (a collapsed panel looks like a missing one)."""
    for name, (w, h) in MINIMUM_SIZES.items():
        widget = window.findChild(QWidget, name)
        if widget is not None:
            widget.setMinimumSize(w, h)
    for splitter in window.findChildren(QSplitter):
        splitter.setChildrenCollapsible(False)


def fit_to_screen(window: QWidget, preferred: QSize = PREFERRED_SIZE) -> QRect:
    """Size ``window`` to its screen's available area (at most ``preferred``), centred.

    Returns
    -------
    The geometry given to the window (its frame, title bar included, fits the area).
    """
    area = available_area(window)
    frame = _frame_margins(window)
    width = min(preferred.width(), area.width() - frame.width())
    height = min(preferred.height(), area.height() - frame.height())
    size = QSize(width, height).expandedTo(window.minimumSizeHint().boundedTo(area.size()))
    rect = QRect(0, 0, size.width(), size.height())
    rect.moveCenter(area.center())
    rect.moveTop(max(area.top(), rect.top()))
    rect.moveLeft(max(area.left(), rect.left()))
    window.setGeometry(rect)
    return rect


def available_area(window: QWidget) -> QRect:
    """The part of the window's screen that windows may use (without panels and docks)."""
    screen = window.screen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1366, 768)


#: What a title bar and borders usually add, assumed until the window system says.
ASSUMED_FRAME = QSize(8, 40)


def _frame_margins(window: QWidget) -> QSize:
    """How much the title bar and borders add: as measured once the window is shown,
    :data:`ASSUMED_FRAME` before (the window manager draws them only then)."""
    if not window.isVisible() or not window.testAttribute(Qt.WA_WState_Created):
        return ASSUMED_FRAME
    frame, inner = window.frameGeometry(), window.geometry()
    return QSize(max(0, frame.width() - inner.width()), max(0, frame.height() - inner.height()))


def named_splitters(window: QWidget) -> dict[str, QSplitter]:
    """The window's splitters that have an object name (those are remembered)."""
    return {s.objectName(): s for s in window.findChildren(QSplitter) if s.objectName()}


def save_layout(window: QMainWindow, preferences: Preferences) -> None:
    """Remember the window's geometry, its splitters and the tab shown."""
    state = {"geometry": bytes(window.saveGeometry().data())}
    for name, splitter in named_splitters(window).items():
        state[f"splitter/{name}"] = bytes(splitter.saveState().data())
    tabs = window.findChild(QTabWidget, "viewTabs")
    if tabs is not None:
        state["tab"] = tabs.currentIndex()
    preferences.set_window_layout(LAYOUT_VERSION, state)


def restore_layout(window: QMainWindow, preferences: Preferences) -> bool:
    """Put back the layout :func:`save_layout` remembered, within the current screen.

    Returns
    -------
    False when there was none (or one of another layout version): the window is then
    fitted to the screen instead.
    """
    state = preferences.window_layout(LAYOUT_VERSION)
    if not state:
        fit_to_screen(window)
        return False
    if not window.restoreGeometry(QByteArray(state.get("geometry", b""))):
        fit_to_screen(window)
    else:
        clamp_to_screen(window)
    for name, splitter in named_splitters(window).items():
        saved = state.get(f"splitter/{name}")
        if saved:
            splitter.restoreState(QByteArray(saved))
    tabs = window.findChild(QTabWidget, "viewTabs")
    tab = state.get("tab")
    if tabs is not None and isinstance(tab, int) and 0 <= tab < tabs.count():
        tabs.setCurrentIndex(tab)
    return True


def clamp_to_screen(window: QWidget) -> None:
    """Move and shrink ``window`` so that it lies inside its screen's available area
    (a layout saved on a larger monitor, opened on a laptop)."""
    area = available_area(window)
    if window.isMaximized() or window.isFullScreen():
        return
    rect = window.geometry()
    frame = _frame_margins(window)
    rect.setWidth(min(rect.width(), area.width() - frame.width()))
    rect.setHeight(min(rect.height(), area.height() - frame.height()))
    rect.moveLeft(min(max(rect.left(), area.left()), area.right() - rect.width() + 1))
    rect.moveTop(min(max(rect.top(), area.top()), area.bottom() - rect.height() + 1))
    window.setGeometry(rect)
