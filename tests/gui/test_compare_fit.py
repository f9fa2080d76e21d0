"""The comparison window on a 1366x768 laptop screen (issue 21 item 2): it leaves room for
the title bar, every control is on screen, the latent maps are filled (no empty-state text
over them), tall enough to read, and four runs sit side by side without scrolling."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWidget

from engine.sweep.index import IndexedRun, SweepIndex
from gui.window_layout import ASSUMED_FRAME
from tests.engine.session_support import record_run, single_torch_thread, tiny_config
from tests.gui.layout_checks import outside_window, overlapping_widgets

BETAS = (0.5, 1.0, 4.0, 8.0)
MIN_MAP_HEIGHT = 220       # pixels: before, about 150, with the note drawn over it


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    """A sweep of four betas, as ``python main.py sweep`` leaves it."""
    folder = tmp_path_factory.mktemp("sweep")
    runs = []
    with single_torch_thread():
        for beta in BETAS:
            name = f"beta={beta:g}"
            record_run(folder / f"{name}.h5", tiny_config("vae-2d", epochs=2,
                                                          objective__beta=beta))
            runs.append(IndexedRun(name, f"{name}.h5", {"objective.beta": beta}, "completed"))
    SweepIndex(base={}, axes=[{"field": "objective.beta", "values": list(BETAS)}],
               runs=runs).write(folder)
    return folder


def test_the_compare_window_fits_a_laptop_screen(qtbot, sweep_folder):
    from gui.app import open_window
    w = open_window([str(sweep_folder)])          # python main.py beta/
    qtbot.addWidget(w)
    qtbot.wait(50)
    area = w.screen().availableGeometry()
    # The offscreen screen draws no title bar: the window must leave room for one.
    assert area.contains(w.geometry()), (w.geometry(), area)
    assert w.height() + ASSUMED_FRAME.height() <= area.height(), w.geometry()
    for index in range(w.tabs.count()):
        if not w.tabs.isTabVisible(index):
            continue
        w.tabs.setCurrentIndex(index)
        qtbot.wait(30)
        assert outside_window(w) == [], w.tabs.tabText(index)
        assert overlapping_widgets(w) == [], w.tabs.tabText(index)
    status = w.findChild(QWidget, "compareStatus")
    assert status.isVisible() and outside_window(w, ["compareStatus", "replayTimelinePanel"]) \
        == []


def test_four_latent_maps_fit_side_by_side_filled(qtbot, sweep_folder):
    from gui.app import open_window
    w = open_window([str(sweep_folder)])
    qtbot.addWidget(w)
    w.tabs.setCurrentIndex(2)
    qtbot.wait(50)
    assert len(w.explorers) == 4
    for explorer in w.explorers:
        assert explorer.snapshot is not None
        assert not explorer.placeholder.isVisible(), explorer.placeholder.text()
        assert explorer.map_widget.height() >= MIN_MAP_HEIGHT, explorer.map_widget.height()
        assert explorer.plot.getAxis("left").isVisible()
    assert not w.latent_scroll.horizontalScrollBar().isVisible()
    # The last run's column ends inside the window.
    last = w.explorers[-1]
    right = last.mapTo(w, last.rect().topRight()).x()
    assert right <= w.width(), right
    # One set of map controls for every run: changing it changes every map.
    w.latent.colour_combo.setCurrentText("none")
    assert all(e.colour_combo.currentText() == "none" for e in w.explorers)
    w.latent.prior_check.setChecked(False)
    assert all(not e.prior_check.isChecked() for e in w.explorers)
