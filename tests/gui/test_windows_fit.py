"""The lesson window and the dialogs on a 1366x768 laptop screen (issue 21 item 2): each
leaves room for a title bar, every control is on screen, nothing drawn over anything."""

from __future__ import annotations

import pytest

from gui.window_layout import ASSUMED_FRAME
from tests.engine.session_support import single_torch_thread
from tests.gui.conftest import tiny_config, train_and_wait
from tests.gui.layout_checks import outside_window, overlapping_widgets


def _fits(qtbot, w) -> None:
    qtbot.wait(30)
    area = w.screen().availableGeometry()
    assert area.contains(w.geometry()), (w.objectName(), w.geometry(), area)
    assert w.height() + ASSUMED_FRAME.height() <= area.height(), w.geometry()
    assert outside_window(w) == [], w.objectName()
    assert overlapping_widgets(w) == [], w.objectName()


@pytest.mark.parametrize("name", ["identity-risk", "explicit-vs-implicit", "vae-tension"])
def test_a_lesson_window_fits(qtbot, window, name):
    from engine.lessons import load_lessons
    from gui.lessons.lesson_windows import open_lesson_window
    lesson = next(x for x in load_lessons() if x.name == name)
    w = open_lesson_window(lesson, window.preferences, window)
    qtbot.addWidget(w)
    _fits(qtbot, w)


def test_the_dialogs_fit(qtbot, window):
    with single_torch_thread():
        train_and_wait(qtbot, window, tiny_config())
    detail = window.recon_panel.open_detail(0)
    qtbot.addWidget(detail)
    _fits(qtbot, detail)
    folder = window.manage_sessions()
    qtbot.addWidget(folder)
    _fits(qtbot, folder)
