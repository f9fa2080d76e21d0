"""File → Export figure (issue 21 item 7): only the panels that apply to the run on display,
the plot itself (no controls) at a report's resolution, and a message saying where it went."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from gui.views.figure_export import REPORT_WIDTH
from tests.engine.session_support import single_torch_thread
from tests.gui.conftest import tiny_config, train_and_wait


def _offered(window) -> set[str]:
    window.menus.export_menu.aboutToShow.emit()        # as opening the menu does
    return {a.objectName()[len("export_"):] for a in window.menus.export_menu.actions()
            if a.objectName().startswith("export_") and a.isVisible()}


def test_only_what_applies_to_the_run_on_display_is_offered(qtbot, window, tmp_path):
    assert _offered(window) == {"window"}                # nothing on display yet
    with single_torch_thread():
        train_and_wait(qtbot, window, tiny_config())
    offered = _offered(window)
    assert {"loss-curves", "reconstructions", "latent-explorer", "samples",
            "kl-per-dimension", "window"} <= offered
    # An RBM's, a stack's, a comparison's and 2-D points' views: not for a VAE on MNIST.
    assert not offered & {"gibbs-chains", "stochastic-codes", "rbm-features", "stages",
                          "first-layer-features", "fine-tuning", "generative-models",
                          "data-space"}, offered
    # Asked anyway (a script): refused, nothing written.
    target = tmp_path / "chains.png"
    assert not window.export_figure("gibbs-chains", target)
    assert not target.exists() and "Gibbs chains" in window.banner.text()


def test_the_export_is_the_plot_at_a_reports_resolution(qtbot, window, tmp_path):
    with single_torch_thread():
        train_and_wait(qtbot, window, tiny_config())
    path = tmp_path / "loss.png"
    assert window.export_figure("loss-curves", path)
    image = QImage(str(path))
    assert image.width() >= REPORT_WIDTH                 # before: 533 x 273, a screen grab
    # The plot alone: its shape is the plot's, not the panel's with its controls and readout.
    plot = window.loss_panel.plot_widget
    assert abs(image.height() / image.width() - plot.height() / plot.width()) < 0.02
    assert window.banner.kind == "info" and str(path) in window.banner.text()
    # A code view on another tab: brought forward and exported too.
    path = tmp_path / "kl.png"
    assert window.export_figure("kl-per-dimension", path)
    kl = QImage(str(path))
    assert kl.width() >= REPORT_WIDTH
    pixels = np.frombuffer(kl.convertToFormat(QImage.Format_RGB888).constBits(), np.uint8)
    assert (pixels < 200).mean() > 0.005                 # bars and text, not a blank page
