"""The Code views tab: each view, found by its objectName, draws a tiny run trained through
the window, follows the replay slider, and computes what it shows with the epoch's CPU copy
of the model (never the training model); a view that does not apply says why."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QWidget

from engine.analysis.identity_probe import identity_ratio
from engine.analysis.latent_usage import active_units
from engine.analysis.noise_probe import corrupt_at
from engine.analysis.recon_field import recon_field
from engine.analysis.trails import latent_trails
from engine.presets import load_preset
from engine.session import Session
from tests.gui.conftest import tiny_config, train_and_wait

VIEWS = {"klPerDimension", "activationHistogram", "jacobianSpectrum", "identityProbe",
         "noiseLevel", "drawingPad", "latentTrails", "dataSpace"}


def vae(**over):
    return tiny_config(**{"model.latent_dim": 4, "optim.epochs": 3, "data.n_probe": 16,
                          **over})


def show_code_views(qtbot, window):
    """The Code views tab on screen, every view drawn at the shown epoch."""
    views = window.code_views
    window.tabs.setCurrentWidget(views.page)
    qtbot.waitUntil(lambda: views.page.isVisible())
    views.flush(everything=True)
    return views


def find(window, name):
    panel = window.code_views.page.findChild(QWidget, name)
    assert panel is not None, name
    return panel


@pytest.fixture
def trained(qtbot, window):
    train_and_wait(qtbot, window, vae())
    return window, window.model.shown_run


def test_every_view_is_found_by_name_and_draws_the_run(qtbot, trained):
    window, run = trained
    views = show_code_views(qtbot, window)
    epoch = run.epochs[-1]
    a = run.snapshot(epoch).arrays
    for name in VIEWS - {"dataSpace"}:
        assert find(window, name).showing, (name, find(window, name).reason.text())
    kl = find(window, "klPerDimension")
    np.testing.assert_allclose(kl.values, a["kl_per_dim"], rtol=1e-6)
    assert np.all(np.diff(kl.values[kl.order]) <= 0)          # sorted, largest first
    direct = np.var(np.asarray(a["map_latents"], np.float64), axis=0) > 0.01
    assert kl.active_count == int(direct.sum())
    np.testing.assert_array_equal(kl.active, active_units(a["map_latents"]))
    assert f"{int(direct.sum())} of 4 dimensions active" in kl.caption.text()
    hist = find(window, "activationHistogram")
    assert hist.histogram[0].sum() == a["map_latents"].size
    assert len(hist.fractions) == len(a["map_latents"])
    jac = find(window, "jacobianSpectrum")
    np.testing.assert_array_equal(jac.norm_epochs, run.epochs)
    np.testing.assert_allclose(jac.norm_median[-1], np.median(a["jacobian_frobenius"]),
                               rtol=1e-6)
    assert jac.spectrum.shape == a["jacobian_singular_values"].shape
    identity = find(window, "identityProbe")
    assert identity.ratio == pytest.approx(identity_ratio(a))
    assert "of the noise" in identity.caption.text()
    trails = find(window, "latentTrails")
    expected = latent_trails([run.snapshot(e).arrays["probe_latent_mean"] for e in run.epochs])
    np.testing.assert_allclose(trails.trails, expected, rtol=1e-6)
    assert trails.points.shape == (len(run.epochs), expected.shape[1], 2)
    space = find(window, "dataSpace")
    assert not space.showing and "2-D point data" in space.caption.text()
    assert views.frames.keys() <= window.frames.keys()


def test_the_replay_slider_moves_the_views(qtbot, trained):
    window, run = trained
    views = show_code_views(qtbot, window)
    window.timeline_panel.select_epoch(run.epoch_offset + 1)
    qtbot.waitUntil(lambda: find(window, "klPerDimension").epoch == 1)   # coalesced: next pass
    views.flush(everything=True)
    first = run.snapshot(1).arrays
    for name in VIEWS - {"dataSpace"}:
        assert find(window, name).epoch == 1, name
    np.testing.assert_allclose(find(window, "klPerDimension").values, first["kl_per_dim"])
    assert find(window, "jacobianSpectrum").epoch_line.value() == 1
    trails = find(window, "latentTrails")
    np.testing.assert_allclose(trails.now.data["x"], trails.points[0, :, 0])


def test_the_noise_slider_reconstructs_corrupt_at_with_the_cpu_copy(qtbot, trained):
    window, run = trained
    show_code_views(qtbot, window)
    noise = find(window, "noiseLevel")
    noise.set_corruption("masking", 0.5)
    qtbot.waitUntil(lambda: noise.noisy is not None and noise.kind == "masking"
                    and noise.caption.text().count("0.50"))
    clean = run.data.probe_images[:len(noise.clean)]
    expected = corrupt_at(clean, "masking", 0.5, seed=0)
    np.testing.assert_array_equal(noise.noisy, expected)
    model = run.cpu_model(run.epochs[-1])
    with torch.inference_mode():
        recon = model.reconstruct(torch.from_numpy(expected)).numpy()
    np.testing.assert_allclose(noise.recon, recon, atol=1e-6)
    assert 0.4 < float((noise.noisy != clean).mean() / (clean != 0).mean()) < 0.6


def test_the_drawing_pad_encodes_the_drawing_and_marks_it_on_the_maps(qtbot, trained):
    window, run = trained
    show_code_views(qtbot, window)
    window.code_views.pages.setCurrentIndex(3)      # Draw a digit
    pad = find(window, "drawingPad")
    canvas = pad.canvas
    qtbot.mousePress(canvas, Qt.LeftButton, pos=QPoint(canvas.width() // 2,
                                                        canvas.height() // 2))
    qtbot.mouseRelease(canvas, Qt.LeftButton)
    assert canvas.image.max() > 0.5 and 0 < (canvas.image > 0).sum() < 30   # one dab
    canvas.stroke([(5.0, 14.0), (14.0, 10.0), (23.0, 14.0)])
    qtbot.waitUntil(lambda: pad.code is not None and pad.cost_s > 0)
    pad.encode()
    model = run.cpu_model(run.epochs[-1])
    x = torch.from_numpy(pad.drawing())
    with torch.inference_mode():
        code = model.encode_mean(x).numpy()[0]
        recon = model.reconstruct(x).numpy()
    np.testing.assert_allclose(pad.code, code, atol=1e-6)
    np.testing.assert_allclose(pad.recon, recon, atol=1e-6)
    for explorer in (window.code_views.panels["latent_explorer"].explorer,
                     window.explorer_panel):
        at = explorer.extra_marker_position()
        np.testing.assert_allclose(at, explorer.projection.project(code[None])[0], atol=1e-5)
    pad.clear_button.click()
    qtbot.waitUntil(lambda: pad.code is None)
    assert window.explorer_panel.extra_marker_position() is None


def test_a_stored_session_replays_in_the_views_and_writes_the_gif(qtbot, trained, tmp_path):
    window, run = trained
    path = window.model.session_path
    assert window.open_session(path)
    views = show_code_views(qtbot, window)
    stored = window.model.shown_run
    assert stored.stored is not None
    for name in VIEWS - {"dataSpace"}:
        assert find(window, name).showing, (name, find(window, name).reason.text())
    with Session.open(path) as s:
        a = s.run().snapshot(s.run().snapshot_epochs[-1]).arrays
    assert find(window, "identityProbe").ratio == pytest.approx(identity_ratio(a))
    hist = find(window, "activationHistogram")
    assert hist.load_reference(path) == ""                 # overlay a session (itself here)
    np.testing.assert_allclose(hist.reference[0], a["map_latents"])
    assert hist.caption.text().count("near zero per image") == 2   # this run and the overlay
    gif = tmp_path / "map.gif"
    assert views.panels["latent_trails"].write_gif(gif) == ""
    assert gif.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    for key in ("kl-per-dimension", "identity-probe", "noise-level"):
        assert window.export_figure(key, tmp_path / f"{key}.png")
        assert (tmp_path / f"{key}.png").stat().st_size > 1000


def test_a_sparse_run_plots_its_weighted_penalty(qtbot, window):
    cfg = tiny_config(**{"model.variational": False, "objective.sparsity": 0.05,
                         "model.code_activation": "relu"})
    train_and_wait(qtbot, window, cfg)
    loss = window.loss_panel
    assert loss.label_of("sparsity") == "0.05·sparsity"
    loss.redraw()
    labels = [label.text for _, label in loss.legend.items]
    assert "0.05·sparsity" in labels
    with Session.open(window.model.session_path) as s:
        stored = s.run().history["sparsity"]
    np.testing.assert_allclose(loss.curves["sparsity"].raw.y, 0.05 * stored, rtol=1e-3)


def test_samples_show_the_mean_or_a_sample_of_p_x_given_z(qtbot, trained):
    window, run = trained
    samples = window.samples_panel
    mean = samples.images.copy()
    assert len(np.unique(mean)) > 2
    samples.set_drawing_samples(True)
    drawn = samples.images
    assert set(np.unique(drawn)) <= {0.0, 1.0}           # Bernoulli pixels
    assert "p(x|z)" in samples.caption.text()
    samples.set_drawing_samples(False)
    np.testing.assert_array_equal(samples.images, mean)


def test_views_that_do_not_apply_say_why(qtbot, window):
    train_and_wait(qtbot, window, tiny_config(**{"model.variational": False}))
    show_code_views(qtbot, window)
    kl = find(window, "klPerDimension")
    assert not kl.showing and "deterministic code has no prior" in kl.reason.text()
    assert find(window, "identityProbe").showing
    gan = load_preset("gan").with_overrides({"data.limit": 300, "data.n_probe": 16,
                                             "optim.batch_size": 64, "optim.epochs": 2,
                                             "model.hidden": [32]})
    train_and_wait(qtbot, window, gan)
    show_code_views(qtbot, window)
    for name in VIEWS - {"dataSpace"}:
        panel = find(window, name)
        assert not panel.showing and "GAN" in panel.reason.text(), name


def test_two_d_points_draw_the_reconstruction_field(qtbot, window):
    cfg = load_preset("vae-toy").with_overrides({
        "data.source": "moons", "data.n_points": 400, "data.n_probe": 64, "optim.epochs": 2,
        "model.hidden": [32], "model.latent_dim": 1, "model.variational": False})
    train_and_wait(qtbot, window, cfg)
    show_code_views(qtbot, window)
    run = window.model.shown_run
    a = run.snapshot(run.epochs[-1]).arrays
    space = find(window, "dataSpace")
    assert space.showing
    grid, arrows = recon_field(a)
    np.testing.assert_allclose(space.field[0], grid)
    np.testing.assert_allclose(space.field[1], arrows)
    x, y = space.field_item.getData()
    assert len(x) == 6 * len(grid)              # a shaft and two head strokes per arrow
    assert 0 < space.field_scale <= 1
    np.testing.assert_allclose(np.column_stack([x[1::6], y[1::6]]),
                               grid + space.field_scale * arrows, atol=1e-5)
    cx, _ = space.curve_item.getData()
    assert len(cx) == len(a["code_curve"])       # a 1-D code draws its learned curve
    assert "arrows: r(x) − x" in space.caption.text()
    identity = find(window, "identityProbe")
    assert not identity.showing and "2-D points" in identity.reason.text()
    assert find(window, "jacobianSpectrum").showing      # points have a Jacobian too


def test_views_off_screen_do_no_work_and_slider_moves_are_coalesced(qtbot, trained):
    window, run = trained
    views = window.code_views
    assert window.tabs.currentIndex() == 0            # the Training tab: nothing computed
    assert all(p.epoch is None for p in views.panels.values())
    window.tabs.setCurrentWidget(views.page)
    views.pages.setCurrentIndex(2)                    # Denoising
    noise = find(window, "noiseLevel")
    qtbot.waitUntil(lambda: noise.epoch == run.epochs[-1])
    assert find(window, "klPerDimension").epoch is None   # another page: not yet
    before = noise.applied
    for value in (10, 20, 30, 40, 50):                # a fast drag: one reconstruction
        noise.slider.setValue(value)
    qtbot.waitUntil(lambda: noise.applied > before)
    qtbot.wait(20)
    assert noise.applied == before + 1 and noise.level == 0.5
    views.pages.setCurrentIndex(0)
    qtbot.waitUntil(lambda: find(window, "klPerDimension").epoch == run.epochs[-1])
