"""The Generative models tab's words and pictures (issue 21 item 9): 2-D points are counted
per point, the reconstructions it names are drawn on the tab, and the empty tab says how to
fill it instead of row titles at the far right of a blank area."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel

from engine.export.data_space import GENERATED, RECON
from engine.presets import load_preset
from tests.engine.session_support import single_torch_thread
from tests.gui.conftest import train_and_wait

TOY = {"data.limit": None, "data.n_points": 400, "data.n_probe": 64, "optim.batch_size": 64,
       "optim.epochs": 2}


def _count(picture: np.ndarray, colour) -> int:
    return int((picture[..., :3] == np.asarray(colour)).all(-1).sum())


def test_the_empty_tab_says_how_to_fill_it(qtbot, window):
    tab = window.generative_panel
    window.tabs.setCurrentWidget(tab)
    qtbot.wait(30)
    heads = [w for w in tab.body.findChildren(QLabel) if w.objectName() == "comparisonRowTitle"]
    assert heads and not any(h.isVisible() for h in heads)
    assert tab.empty_note.isVisible() and "Add" in tab.empty_note.text()


def test_point_runs_are_counted_per_point_and_their_reconstructions_shown(qtbot, window):
    with single_torch_thread():
        train_and_wait(qtbot, window, load_preset("vae-toy").with_overrides(TOY))
    tab = window.generative_panel
    window.tabs.setCurrentWidget(tab)
    assert tab.add_shown()
    (_, s), = tab.summaries
    assert "per point" in s.likelihood and "per image" not in s.likelihood
    assert window.loss_panel.plot.getAxis("left").labelText == "loss per point (nats)"
    # The blue points the tab names are on the tab: a picture of the data and their
    # reconstructions; the samples' picture shows samples (orange), not the reconstructions.
    assert s.recon_picture is not None and _count(s.recon_picture, RECON) >= 9   # a dot, 3x3
    assert _count(s.recon_picture, GENERATED) == 0
    assert _count(s.points, RECON) == 0 and _count(s.points, GENERATED) > 50
    assert "blue" in s.reconstructions_note and "data space" not in s.reconstructions_note
    qtbot.wait(30)
    heads = [w for w in tab.body.findChildren(QLabel) if w.objectName() == "comparisonRowTitle"]
    assert all(h.isVisible() for h in heads)
    assert not tab.empty_note.isVisible()
