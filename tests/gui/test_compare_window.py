"""The comparison window (pytest-qt): two tiny sessions side by side, one slider moving both;
runs that differ in data and latent size; a sweep folder with its swept values as labels."""

from __future__ import annotations


import numpy as np
import pytest

from engine.export.compared import ComparedRuns
from engine.sweep.index import IndexedRun, SweepIndex
from tests.engine.session_support import record_run, single_torch_thread, tiny_config


@pytest.fixture(scope="module")
def two_sessions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    with single_torch_thread():
        record_run(folder / "beta1.h5", tiny_config("vae-2d", epochs=3))
        record_run(folder / "one.h5", tiny_config("vae-2d", epochs=1, seed=5))
        record_run(folder / "beta4.h5", tiny_config("vae-2d", epochs=2, objective__beta=4.0))
        record_run(folder / "wide.h5", tiny_config("variational", epochs=2,
                                                   model__latent_dim=5, seed=3))
    return folder


def _window(qtbot, paths):
    from gui.windows.compare_window import open_comparison
    w = open_comparison(paths)
    qtbot.addWidget(w)
    return w


def test_the_shared_slider_moves_every_run(qtbot, two_sessions):
    w = _window(qtbot, [two_sessions / "beta1.h5", two_sessions / "beta4.h5"])
    assert [r.label for r in w.compared.runs] == ["beta1", "beta4"]
    assert w.timeline.epochs == [1, 2, 3]
    assert w.shown == {"beta1": 3, "beta4": 2}          # opened at the end of each
    assert "beta4 at 2" in w.timeline.label.text()
    w.timeline.select_epoch(1)
    assert w.shown == {"beta1": 1, "beta4": 1}
    for i, state in enumerate(w.states):
        assert w.explorers[i].snapshot.epoch == 1
        np.testing.assert_array_equal(w.explorers[i].snapshot.arrays["map_latents"],
                                      state.stored.snapshot(1).arrays["map_latents"])
        np.testing.assert_allclose(w.kl_panels[i].values,
                                   state.stored.snapshot(1).arrays["kl_per_dim"], rtol=1e-6)
    assert w.recons.row_titles == ["original", "beta1 · epoch 1", "beta4 · epoch 1"]
    assert all(line.value() == 1 for line in w.curves.lines.values())
    # The curves: one per run and part in each term's plot, in the runs' colours.
    total = w.curves.plots["total"]
    pens = {item.opts["pen"].color().name() for item in total.listDataItems()}
    assert pens == {r.colour.lower() for r in w.compared.runs}
    assert len(total.listDataItems()) == 4
    assert not w.tabs.isTabVisible(w.sweep_index)
    w.tabs.setCurrentIndex(2)
    w.save_png(two_sessions / "compare.png")
    assert (two_sessions / "compare.png").stat().st_size > 10_000


def test_runs_of_other_data_and_latent_sizes_say_what_does_not_compare(qtbot, two_sessions):
    w = _window(qtbot, [two_sessions / "beta1.h5", two_sessions / "wide.h5"])
    notes = w.notes.text().lower()
    assert "latent sizes differ (2, 5)" in notes and "different probe images" in notes
    assert w.recons.row_titles[0] == "beta1: original"
    assert "wide: original" in w.recons.row_titles
    assert len(w.kl_panels[1].values) == 5 and len(w.kl_panels[0].values) == 2
    assert w.explorers[1].projection_combo.currentText() == "PCA"


def test_a_sweep_folder_opens_with_its_values_as_labels(qtbot, two_sessions, tmp_path):
    import shutil
    for name in ("beta1", "beta4"):
        shutil.copy(two_sessions / f"{name}.h5", tmp_path / f"beta={name[4:]}.h5")
    SweepIndex(base={}, axes=[{"field": "objective.beta", "values": [1.0, 4.0]}],
               runs=[IndexedRun("beta=1", "beta=1.h5", {"objective.beta": 1.0}, "completed"),
                     IndexedRun("beta=4", "beta=4.h5", {"objective.beta": 4.0}, "completed")]
               ).write(tmp_path)
    w = _window(qtbot, [tmp_path])
    assert [r.label for r in w.compared.runs] == ["beta=1", "beta=4"]
    assert w.tabs.isTabVisible(w.sweep_index)
    plot = w.sweep_plot.plots["kl"]
    val = plot.listDataItems()[0]
    xs, ys = val.getData()
    assert list(xs) == [1.0, 4.0]
    with ComparedRuns.open([tmp_path]) as c:
        assert list(ys) == [r.final("val")["kl"] for r in c.runs]


def test_main_with_two_sessions_opens_the_comparison(qtbot, two_sessions):
    from gui.app import open_window
    from gui.windows.compare_window import CompareWindow
    w = open_window([str(two_sessions / "beta1.h5"), str(two_sessions / "beta4.h5")])
    qtbot.addWidget(w)
    assert isinstance(w, CompareWindow) and len(w.compared.runs) == 2


def test_compare_from_the_main_window_menu(qtbot, window, two_sessions, monkeypatch):
    from PySide6.QtWidgets import QFileDialog
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(
        lambda *a, **k: ([str(two_sessions / "beta1.h5"), str(two_sessions / "nope.h5")], "")))
    window.menus.compare_action.trigger()
    from gui.windows.compare_window import compare_windows
    (w,) = compare_windows(window)
    qtbot.addWidget(w)
    assert [r.label for r in w.compared.runs] == ["beta1"]
    assert "nope.h5" in w.notes.text() and "does not exist" in w.notes.text()
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(
        lambda *a, **k: ([str(two_sessions / "nope.h5")], "")))
    window.menus.compare_action.trigger()
    assert "nothing to compare" in window.banner.text()


def test_a_run_of_one_epoch_is_drawn_as_a_point(qtbot, two_sessions):
    """A one-epoch run's curves are single points: drawn as lines only, they showed nothing
    (an empty plot beside the other runs' curves)."""
    w = _window(qtbot, [two_sessions / "beta1.h5", two_sessions / "one.h5"])
    one = next(r for r in w.compared.runs if r.label == "one")
    items = [i for i in w.curves.plots["total"].listDataItems()
             if i.opts["pen"].color().name() == one.colour.lower()]
    assert items and all(i.opts["symbol"] is not None and len(i.xData) == 1 for i in items)
    many = [i for i in w.curves.plots["total"].listDataItems() if i not in items]
    assert all(i.opts["symbol"] is None for i in many)      # longer runs stay lines
