"""The window with a GAN, an RBM and 2-D points: each place shows what the family has, or why
not; the settings form has their fields; the Generative models tab puts runs side by side."""

from __future__ import annotations

import numpy as np
import pytest

from engine.models import GAN, RBM
from engine.presets import load_preset
from tests.gui.conftest import train_and_wait

SMALL = {"data.limit": 300, "data.n_probe": 16, "optim.batch_size": 64, "optim.epochs": 2}


def config(preset: str, **over):
    return load_preset(preset).with_overrides({**SMALL, **over})


def gan_images():
    return config("gan", **{"model.hidden": [32]})


def rbm_images():
    return config("rbm", **{"model.latent_dim": 16})


def points(preset: str, **over):
    return config(preset, **{"data.limit": None, "data.n_points": 400, "data.n_probe": 64,
                             **over})


def test_a_gan_on_images_says_it_has_no_reconstructions(qtbot, window):
    train_and_wait(qtbot, window, gan_images())
    views = window.views
    d = views.generative.families[GAN].discriminator
    assert views.reconstructions_switch.currentWidget() is d
    frame = window.frames["reconstructions"]
    assert "reconstructs nothing" in frame.title()
    assert "no encoder" in d.note.text() and "mean D(x) =" in d.summary.text()
    # The latent explorer shows prior samples, coloured by the discriminator, and says why.
    ex = window.explorer_panel
    assert ex.colour_combo.currentText() == "D(g(z))"
    assert "no encoder" in ex.legend_label.text()
    assert ex.manifold_check.isEnabled() and ex.decoder is not None
    ex.move_marker(1.0, -1.0)
    assert ex.decoded_image.shape == (28, 28)
    # Samples from the prior: a GAN has them.
    assert window.samples_panel.variational and "N(0, I)" in window.samples_panel.caption.text()
    assert {"total", "generator", "d_real", "d_fake"} <= set(window.loss_panel.curves)


def test_an_rbm_shows_its_stochastic_encoder_decoder_and_gibbs_chains(qtbot, window):
    train_and_wait(qtbot, window, rbm_images())
    g = window.views.generative.families[RBM]
    assert window.views.bottom_switch.currentWidget() is g.bottom_page
    assert "exact" in g.likelihood_label.text() and "log Z =" in g.likelihood_label.text()
    assert not window.loss_panel.log_check.isChecked()   # free energies are negative
    codes = g.codes
    p = codes.panes["p"].image_item.image
    assert p.shape == (4, 4) and 0.0 <= p.min() and p.max() <= 1.0
    first = codes.panes["h"].image_item.image.copy()
    draws = [first]
    for _ in range(5):   # another draw of h ~ p(h|v): the binary state changes
        codes.draw_button.click()
        draws.append(codes.panes["h"].image_item.image.copy())
    assert any(not np.array_equal(first, d) for d in draws[1:])
    assert set(np.unique(first)) <= {0.0, 1.0}
    chains = g.chains
    before = chains.state.clone()
    chains.step()
    assert chains.sweeps == 1 and not np.array_equal(before.numpy(), chains.state.numpy())
    assert g.features.features.shape == (16, 1, 28, 28)
    # The reconstructions are the RBM's one Gibbs step.
    assert window.views.reconstructions_switch.currentWidget() is window.recon_panel


@pytest.mark.parametrize("preset", ["gan-toy", "rbm-toy", "vae-toy"])
def test_two_d_points_draw_data_space(qtbot, window, preset):
    train_and_wait(qtbot, window, points(preset))
    g = window.views.generative
    ds = g.data_space
    rbm = g.families[RBM]
    assert window.views.reconstructions_switch.currentWidget() is ds
    assert window.frames["reconstructions"].title() == "Data space"
    assert ds.shown["real"].shape == (40, 2)      # the 10 % validation points
    assert np.all((0 <= ds.shown["real"]) & (ds.shown["real"] <= 1))
    assert ds.items["generated"].data.size > 0
    has_map = preset != "vae-toy"
    assert (ds.map_item.image is not None) == has_map
    if preset == "gan-toy":
        assert "D(x)" in ds.caption.text()
        ex = window.explorer_panel
        ex.move_marker(0.5, 0.5)
        marker = ds.items["marker"].data
        assert len(marker) == 1 and 0 <= marker["x"][0] <= 1 and 0 <= marker["y"][0] <= 1
        assert not ex.manifold_check.isEnabled()   # decoded points are no pictures
    if preset == "rbm-toy":
        assert "log p(x)" in ds.caption.text()
        rbm.chains.play_button.setChecked(True)
        qtbot.waitUntil(lambda: rbm.chains.sweeps >= 2, timeout=5000)
        rbm.chains.play_button.setChecked(False)
        assert len(ds.items["chains"].data) == 200
    if preset == "vae-toy":
        assert "ELBO only bounds it" in ds.caption.text()
    assert "orange points" in window.samples_panel.caption.text()


def test_the_form_shows_the_family_fields_and_marks_their_errors(qtbot, window):
    s = window.settings_panel
    s.load_preset("gan")
    assert s.family_group.isVisible() and not s.kind_box.isEnabled()
    assert not s.pretrain_group.isEnabled()     # greedy stacking is an autoencoder's
    assert s.family_group.edits["gan"]["d_dropout"].text() == "0.5"
    s.family_group.edits["gan"]["d_steps"].setText("0")
    assert s.config() is None and "gan.d_steps" in s.errors
    s.family_group.edits["gan"]["d_steps"].setText("3")
    assert s.config().gan.d_steps == 3
    s.load_preset("rbm")
    assert s.family_group.title().startswith("RBM")
    s.family_group.edits["rbm"]["persistent"].setChecked(True)
    s.family_group.edits["rbm"]["cd_k"].setText("two")
    assert "rbm.cd_k" in s.errors and s.error_labels["rbm.cd_k"].isVisibleTo(s)
    s.family_group.edits["rbm"]["cd_k"].setText("5")
    cfg = s.config()
    assert cfg.rbm.cd_k == 5 and cfg.rbm.persistent and cfg.model.family == "rbm"
    s.widgets["model.hidden"].setText("32")        # an RBM has one layer: said at the field
    assert "model.hidden" in s.errors
    s.load_preset("vae-2d")
    assert not s.family_group.isVisible() and s.kind_box.isEnabled()
    assert s.pretrain_group.isEnabled()           # vae-2d: an MLP autoencoder
    i = s.source_combo.findData("moons")
    assert i >= 0
    s.source_combo.setCurrentIndex(i)
    assert s.config().data.source == "moons"


def test_the_generative_models_tab_puts_runs_side_by_side(qtbot, window, tmp_path):
    paths = []
    for preset in ("vae-toy", "gan-toy", "rbm-toy"):
        window.new_run()
        train_and_wait(qtbot, window, points(preset))
        paths.append(window.model.session_path)
    tab = window.generative_panel
    assert tab.add_shown()
    for p in paths[:2]:
        assert tab.add_session(p)
    assert [s.title.split(" (")[1].split(")")[0] for _, s in tab.summaries] == [
        "rbm-toy", "vae-toy", "gan-toy"]
    words = {s.title.split(" (")[1].split(")")[0]: s for _, s in tab.summaries}
    assert words["vae-toy"].likelihood.startswith("log p(x) ≥ ELBO")
    assert words["rbm-toy"].likelihood.startswith("log p(x) =") and "exact" in \
        words["rbm-toy"].likelihood
    assert words["gan-toy"].likelihood.startswith("None.")
    assert "no encoder" in words["gan-toy"].reconstructions_note
    assert all(s.points is not None for s in words.values())
    assert not tab.add_session(tmp_path / "missing.h5")
    assert "missing.h5" in window.banner.text()


def test_a_deep_belief_network_from_the_window(qtbot, window):
    """The pretraining group with RBM stages trains a DBN: its stages are RBM runs, the
    stack their unrolled layers; the stage views and features show as for any stack."""
    s = window.settings_panel
    s.load_preset("dbn-pretraining")
    group = s.pretrain_group
    assert [c.currentData() for c in group.kind_combos] == ["rbm", "rbm"]
    assert "deep belief network" in s.kind_label.text()
    cfg = s.config().with_overrides({"data.limit": 300, "model.hidden": [32],
                                     "model.latent_dim": 16, "optim.epochs": 1,
                                     "rbm.ais_steps": 20})
    train_and_wait(qtbot, window, cfg)
    assert "completed" in window.banner.text(), window.banner.text()
    runs = {r.run_id: r for r in window.model.training_runs()}
    assert list(runs) == ["stage-1", "stage-2", "stack"]
    assert runs["stage-1"].config.model.family == "rbm"
    assert runs["stack"].config.model.family == "autoencoder"
    assert window.views.showing_stages
    assert window.views.features.features.shape == (32, 1, 28, 28)
    # Stage units that are no sigmoid do not fit an RBM: said at the field.
    group.units_combo.setCurrentIndex(group.units_combo.findData("tanh"))
    assert s.config() is None and "sigmoid" in " ".join(s.errors.values())
