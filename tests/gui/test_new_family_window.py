"""A family defined in a test module (:mod:`tests.engine.test_new_family`: a linear
autoencoder, registered only while the test runs) trains in the window and reopens in it
with the generic views, chosen by its traits: its loss terms, its reconstructions, the
latent explorer decoding with its decoder, and where a view does not apply, the reason
in its own words. No line of the GUI names it.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.test_new_family import FAMILY, linear_config, registered


@pytest.fixture
def family():
    with registered() as cls:
        yield cls


def check_generic_views(window, qtbot) -> None:
    views = window.views
    assert views.reconstructions_switch.currentWidget() is window.recon_panel
    assert views.bottom_switch.currentIndex() == 0            # explorer and samples
    assert views.generative.views_of(window.model.training_runs()[0]) is None
    assert {"total", "recon", "orthogonality"} <= set(window.loss_panel.curves)
    assert window.loss_panel.log_check.isChecked()
    # The reconstructions are the snapshot's, beside the probe images.
    run = window.model.training_runs()[0]
    snap = run.snapshot(run.epochs[-1])
    assert snap.images["probe_recon"].shape[1:] == (1, 28, 28)
    assert window.recon_panel.isVisible()
    # The explorer decodes the marker with the family's decoder (decode_mean).
    ex = window.explorer_panel
    qtbot.waitUntil(lambda: ex.decoder is not None, timeout=10_000)
    ex.move_marker(0.5, -0.5)
    image = ex.decoded_image
    w = snap.weights
    z = np.array([0.5, -0.5], np.float32)
    want = np.clip(w["decoder.weight"] @ z + w["decoder.bias"], 0, 1).reshape(28, 28)
    np.testing.assert_allclose(image, want, atol=2e-3)
    # The samples panel and the Code views say why they have nothing, in its words.
    assert not window.samples_panel.variational
    assert "no prior to sample" in window.samples_panel.caption.text()
    code_views = window.code_views
    window.tabs.setCurrentWidget(code_views.page)
    code_views.flush()
    kl = code_views.panels["kl_per_dimension"]
    assert "linear autoencoder (its snapshots carry no code views) has none" in \
        kl.reason.text()
    window.tabs.setCurrentIndex(0)


def test_a_new_family_trains_and_reopens_in_the_window_with_the_generic_views(
        qtbot, window, family):
    cfg = linear_config(epochs=2).validate()
    assert window.controller.start_new(cfg)
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=60_000)
    assert "completed" in window.banner.text(), window.banner.text()
    path = window.model.session_path
    check_generic_views(window, qtbot)
    window.model.clear()
    assert window.open_session(path), window.banner.text()
    run = window.model.training_runs()[0]
    assert run.config.model.family == FAMILY and run.stored is not None
    check_generic_views(window, qtbot)
    # The Generative models tab puts it beside the others: no density, its code in words.
    tab = window.generative_panel
    assert tab.add_session(path)
    summary = tab.summaries[-1][1]
    assert summary.code == "z = E x ∈ R^2, linear"
    assert summary.kind.startswith("not a generative model")
    assert summary.likelihood == "none: squared error defines no density"
