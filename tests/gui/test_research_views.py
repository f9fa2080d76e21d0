"""The research-measure views (issue 20): latent traversals, interpolation, disentanglement
scores and I(x; z), found by objectName, drawing a sprites VAE trained through the window,
following the replay slider, decoding with the epoch's CPU copy, and saying why when they
do not apply."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtWidgets import QWidget

from engine.analysis.epoch_measures import SCORES
from engine.analysis.traversal import slerp, sweep_values, traversal_codes
from engine.presets import load_preset
from tests.gui.conftest import tiny_config, train_and_wait

VIEWS = ("latentTraversals", "latentInterpolation", "disentanglementScores",
         "mutualInformation")


def sprites_vae(**over):
    return load_preset("sprites-vae-2d").with_overrides({
        "data.n_sprites": 600, "data.n_probe": 8, "model.hidden": [32],
        "model.latent_dim": 4, "optim.epochs": 3, "optim.batch_size": 64, **over})


def show(qtbot, window):
    views = window.code_views
    window.tabs.setCurrentWidget(views.page)
    qtbot.waitUntil(lambda: views.page.isVisible())
    views.flush(everything=True)
    return views


def find(window, name):
    panel = window.code_views.page.findChild(QWidget, name)
    assert panel is not None, name
    return panel


def decode(run, epoch, codes):
    model = run.cpu_model(epoch)
    with torch.inference_mode():
        return model.decode_mean(torch.from_numpy(np.asarray(codes, np.float32))).numpy()


@pytest.fixture
def sprites(qtbot, window):
    train_and_wait(qtbot, window, sprites_vae(), timeout=60_000)
    return window, window.model.shown_run


def test_the_views_draw_a_sprites_vae(qtbot, sprites):
    window, run = sprites
    show(qtbot, window)
    epoch = run.epochs[-1]
    a = run.snapshot(epoch).arrays
    for name in VIEWS:
        assert find(window, name).showing, (name, find(window, name).reason.text())
    # traversals: rows by KL, each decoded by the epoch's CPU copy of the model
    trav = find(window, "latentTraversals")
    order = np.argsort(-a["kl_per_dim"].astype(np.float64), kind="stable")
    np.testing.assert_array_equal(trav.grid.order, order)
    codes = traversal_codes(a["probe_latent_mean"][0], sweep_values(np.zeros(4), np.ones(4)),
                            order)
    expected = decode(run, epoch, codes.reshape(-1, 4)).reshape(trav.grid.images.shape)
    np.testing.assert_allclose(trav.grid.images, expected, atol=1e-6)
    # the scores: the snapshot's, over the scored epochs, and MIG's matrix at this epoch
    scores = find(window, "disentanglementScores")
    assert scores.scores == pytest.approx(dict(zip(SCORES, a["disentanglement"].astype(float))))
    np.testing.assert_allclose(scores.matrix, a["factor_code_mi"])
    xs, _ = scores.curves["mig"].getData()
    assert list(xs) == [1, 3]                        # epoch 2 is not scored (NaN)
    assert "MIG" in scores.caption.text() and "600" not in scores.caption.text()
    # I(x; z) beside the KL, every epoch
    mi = find(window, "mutualInformation")
    assert mi.values == pytest.approx({e: float(run.snapshot(e).arrays["mutual_information"])
                                       for e in run.epochs})
    assert "I(x; z) = " in mi.caption.text() and "dimensions active" in mi.caption.text()


def test_interpolation_decodes_the_path_and_draws_it_on_both_maps(qtbot, sprites):
    window, run = sprites
    views = show(qtbot, window)
    epoch = run.epochs[-1]
    a = run.snapshot(epoch).arrays
    interp = find(window, "latentInterpolation")
    interp.b_box.setValue(5)
    views.flush(everything=True)
    np.testing.assert_allclose(interp.path[0], a["probe_latent_mean"][0], atol=1e-6)
    np.testing.assert_allclose(interp.path[-1], a["probe_latent_mean"][5], atol=1e-6)
    np.testing.assert_allclose(interp.images, decode(run, epoch, interp.path), atol=1e-6)
    main_map = window.code_views.main_explorer
    assert main_map is not None and main_map.path_codes is not None
    np.testing.assert_allclose(main_map.path_codes, interp.path)
    xs, ys = main_map.extra_path.getData()
    assert len(xs) == len(interp.path)
    # spherical: the same ends, on the great circle between them
    interp.how_box.setCurrentIndex(1)
    np.testing.assert_allclose(interp.path, slerp(a["probe_latent_mean"][0],
                                                  a["probe_latent_mean"][5]), atol=1e-5)
    # a click on the map places A at that point's code
    px, py = interp.projection.project(a["map_latents"][3:4])[0]
    interp.place(0, px, py)
    np.testing.assert_allclose(interp.projection.project(interp.path[:1])[0], [px, py],
                               atol=1e-5)
    assert "a point of the map" in interp.caption.text()


def test_the_replay_slider_moves_the_views_back(qtbot, sprites, tmp_path):
    window, run = sprites
    views = show(qtbot, window)
    window.timeline_panel.select_epoch(run.epoch_offset + 2)
    pending = views.panels["latent_traversals"]
    qtbot.waitUntil(lambda: pending.pending is not None and pending.pending[1] == 2)
    views.flush(everything=True)
    assert find(window, "latentTraversals").epoch == 2
    trav = find(window, "latentTraversals")
    a = run.snapshot(2).arrays
    codes = traversal_codes(a["probe_latent_mean"][0], sweep_values(np.zeros(4), np.ones(4)),
                            trav.grid.order)
    np.testing.assert_allclose(trav.grid.images.reshape(-1, *trav.grid.images.shape[2:]),
                               decode(run, 2, codes.reshape(-1, 4)), atol=1e-6)
    scores = find(window, "disentanglementScores")
    assert scores.epoch == 2 and "scores of epoch 1" in scores.caption.text()
    assert find(window, "mutualInformation").epoch_line.value() == 2
    png, gif = trav._save("png", str(tmp_path / "t.png")), trav._save("gif", str(tmp_path / "t.gif"))
    assert Image.open(png).height > 4 * 64 and Image.open(gif).n_frames == 16


def test_views_that_do_not_apply_say_why(qtbot, window):
    train_and_wait(qtbot, window, tiny_config(**{"model.latent_dim": 3}))     # digits
    show(qtbot, window)
    assert find(window, "latentTraversals").showing
    assert find(window, "mutualInformation").showing
    scores = find(window, "disentanglementScores")
    assert not scores.showing and "known factors" in scores.reason.text()
    train_and_wait(qtbot, window, sprites_vae(**{"model.variational": False,
                                                 "optim.epochs": 1}), timeout=60_000)
    show(qtbot, window)
    mi = find(window, "mutualInformation")
    assert not mi.showing and "deterministic" in mi.reason.text()
    assert find(window, "disentanglementScores").showing
    interp = find(window, "latentInterpolation")
    assert interp.showing and not interp.how_box.model().item(1).isEnabled()
    gan = load_preset("gan").with_overrides({"data.limit": 300, "data.n_probe": 16,
                                             "optim.batch_size": 64, "optim.epochs": 1,
                                             "model.hidden": [32]})
    train_and_wait(qtbot, window, gan)
    show(qtbot, window)
    for name in VIEWS:
        panel = find(window, name)
        assert not panel.showing and "GAN has no encoder" in panel.reason.text(), name
