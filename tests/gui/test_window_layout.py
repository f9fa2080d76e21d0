"""The window on small and large screens: it fits, every panel keeps its room, and the
layout the user made comes back next time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The window as ``python main.py`` opens it, on an offscreen screen of a given size; it
# prints where each part ended up (a fresh process: the screen is chosen at start).
PROBE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QWidget
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(fmt, QSettings.UserScope, sys.argv[1])
    from gui.app import open_window
    win = open_window([])
    app = QApplication.instance()
    for _ in range(20):
        app.processEvents()
    from gui.window_layout import MINIMUM_SIZES
    def rect(w):
        top_left = w.mapTo(win, w.rect().topLeft())
        return [top_left.x(), top_left.y(), w.width(), w.height()]
    parts = {name: rect(win.findChild(QWidget, name)) for name in
             ["trainButton", "stopButton", "trainingProgress", "continueButton",
              "replayTimelinePanel", "sessionLabel", *MINIMUM_SIZES]
             if win.findChild(QWidget, name) is not None
             and win.findChild(QWidget, name).isVisibleTo(win)}
    area = win.screen().availableGeometry()
    print(json.dumps({"window": [win.x(), win.y(), win.width(), win.height()],
                      "area": [area.x(), area.y(), area.width(), area.height()],
                      "parts": parts, "minimums": MINIMUM_SIZES}))
    win.close()
""")


def open_on_screen(tmp_path, width: int, height: int) -> dict:
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "test", "x": 0, "y": 0, "width": width,
                                               "height": height, "logicalDpi": 96,
                                               "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
           "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "settings")], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("width,height", [(1366, 768), (1366, 700), (1920, 1080)])
def test_the_window_fits_the_screen_and_every_panel_keeps_its_room(tmp_path, width, height):
    """1366x700 is what a 1366x768 laptop leaves once its desktop bar is drawn."""
    got = open_on_screen(tmp_path, width, height)
    x, y, w, h = got["window"]
    ax, ay, aw, ah = got["area"]
    assert ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah, got
    if width >= 1920:
        assert (w, h) == (1400, 900)               # a large screen: the preferred size
    for name, (px, py, pw, ph) in got["parts"].items():
        assert px >= 0 and py >= 0 and px + pw <= w and py + ph <= h, (name, got)
        if name in got["minimums"]:
            mw, mh = got["minimums"][name]
            assert pw >= mw and ph >= mh, (name, got["parts"][name])
    for name in ("trainButton", "stopButton", "trainingProgress", "sessionLabel"):
        assert name in got["parts"], name          # on screen, not cut off below it


def test_the_layout_is_remembered_between_runs(qtbot, preferences):
    from gui.windows.main_window import MainWindow
    from gui.window_layout import named_splitters
    first = MainWindow(preferences)
    qtbot.addWidget(first)
    first.resize(1200, 700)
    first.show()
    splitters = named_splitters(first)
    assert {"mainSplitter", "viewsSplitter", "topViewsSplitter", "bottomViewsSplitter",
            "explorerSplitter"} <= set(splitters)
    splitters["viewsSplitter"].setSizes([250, 400])
    splitters["mainSplitter"].setSizes([290, 900])
    qtbot.wait(10)
    wanted = {name: splitters[name].sizes() for name in ("viewsSplitter", "mainSplitter")}
    first.tabs.setCurrentIndex(1)
    first.close()

    again = MainWindow(preferences)
    qtbot.addWidget(again)
    again.show()
    assert (again.width(), again.height()) == (1200, 700)
    assert again.tabs.currentIndex() == 1
    again.tabs.setCurrentIndex(0)
    qtbot.wait(10)
    for name, sizes in wanted.items():
        assert named_splitters(again)[name].sizes() == sizes, name


def test_a_layout_saved_on_a_larger_screen_is_fitted_to_this_one(qtbot, preferences):
    from gui.windows.main_window import MainWindow
    big = MainWindow(preferences)
    qtbot.addWidget(big)
    big.setGeometry(3000, 2000, 2400, 1500)   # a second monitor, no longer attached
    big.close()
    again = MainWindow(preferences)
    qtbot.addWidget(again)
    again.show()
    area = again.screen().availableGeometry()
    assert area.contains(again.geometry()), (again.geometry(), area)


def test_a_layout_of_an_older_version_is_not_applied(qtbot, preferences):
    from gui.window_layout import LAYOUT_VERSION
    preferences.set_window_layout(LAYOUT_VERSION - 1, {"geometry": b"not a geometry"})
    assert preferences.window_layout(LAYOUT_VERSION) == {}
    from gui.windows.main_window import MainWindow
    win = MainWindow(preferences)
    qtbot.addWidget(win)
    area = win.screen().availableGeometry()
    assert area.contains(win.geometry())


def test_every_preset_s_settings_fit_the_settings_column(qtbot, window):
    """At 1366x768 the stage rows of pretraining mode made the form wider than its column
    (the horizontal scroll bar is off, so the combos lost their right edge): every preset's
    form fits the column it is shown in."""
    from PySide6.QtWidgets import QApplication
    from engine.presets import preset_names
    s = window.settings_panel
    for preset in preset_names():
        s.load_preset(preset)
        QApplication.processEvents()
        need, room = s.widget().minimumSizeHint().width(), s.viewport().width()
        assert need <= room, (preset, need, room)
