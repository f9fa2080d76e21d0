"""What the panels show a new user: before the first run, the legend of each kind of run,
pinning anywhere on the map, readouts that never wrap."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from engine.presets import load_preset
from tests.gui.conftest import tiny_config, train_and_wait


def legend_labels(loss) -> list[str]:
    loss.redraw()   # the last redraw of a run may still wait on its timer (they are throttled)
    return [label.text for _sample, label in loss.legend.items]


def test_before_the_first_run_each_view_says_what_will_appear(window):
    loss, recon, explorer, samples = (window.loss_panel, window.recon_panel,
                                      window.explorer_panel, window.samples_panel)
    assert "appear here when training starts" in loss.placeholder.text()
    assert loss.placeholder.isVisible()
    assert not loss.plot.getAxis("left").isVisible()   # no axes of nothing (0 … 1)
    assert recon.placeholder.isVisible() and not recon.axis.isVisible()
    assert explorer.placeholder.isVisible() and not explorer.plot.getAxis("bottom").isVisible()
    # The default preset is variational: no "tick 'variational'" while it is ticked.
    assert window.settings_panel.config().model.variational
    assert "tick" not in samples.caption.text() and "first epoch" in samples.caption.text()
    assert "press Train" in window.controls_panel.progress.format()


def test_once_trained_the_views_draw_and_new_run_brings_the_notes_back(qtbot, window):
    train_and_wait(qtbot, window, tiny_config())
    loss, recon, explorer = window.loss_panel, window.recon_panel, window.explorer_panel
    assert not loss.placeholder.isVisible() and loss.plot.getAxis("left").isVisible()
    assert not recon.placeholder.isVisible() and recon.axis.isVisible()
    assert not explorer.placeholder.isVisible() and explorer.plot.getAxis("left").isVisible()
    window.new_run()
    assert loss.placeholder.isVisible() and recon.placeholder.isVisible()
    assert explorer.placeholder.isVisible()


def test_a_non_variational_run_says_why_there_are_no_samples(qtbot, window):
    train_and_wait(qtbot, window, tiny_config(**{"model.variational": False}))
    text = window.samples_panel.caption.text()
    assert "not variational" in text and window.samples_panel.pane.image_item.image is None


def test_a_plain_run_draws_total_once_and_says_it_is_the_reconstruction(qtbot, window):
    cfg = load_preset("denoising").with_overrides(
        {"data.limit": 300, "model.hidden": [32], "optim.epochs": 2, "optim.batch_size": 64})
    train_and_wait(qtbot, window, cfg)
    loss = window.loss_panel
    assert loss.same_as_total == "recon"
    assert legend_labels(loss) == ["total = recon", "validation"]
    assert loss.curves["total"].smooth_item.isVisible()
    assert not loss.curves["recon"].smooth_item.isVisible()
    # Validation markers: one per epoch, drawn above the training line.
    total = loss.curves["total"]
    assert total.val.n == 2 and total.val_item.zValue() > total.smooth_item.zValue()


def test_a_vae_legend_leaves_out_what_the_log_axis_cannot_show(qtbot, window):
    train_and_wait(qtbot, window, tiny_config())
    loss = window.loss_panel
    assert loss.same_as_total is None                       # total = recon + kl: both drawn
    assert legend_labels(loss) == ["total", "recon", "kl", "validation"]   # elbo < 0
    assert "elbo" in loss.note_label.text()
    loss.log_check.setChecked(False)
    assert legend_labels(loss) == ["total", "recon", "kl", "elbo", "validation"]
    assert loss.note_label.text() == ""


def double_click(widget, at: QPoint) -> None:
    """Press, release, double-click, release, as a mouse sends them (QTest's own double
    click does not reach pyqtgraph's scene offscreen)."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication
    for kind, buttons in ((QEvent.MouseButtonPress, Qt.LeftButton),
                          (QEvent.MouseButtonRelease, Qt.NoButton),
                          (QEvent.MouseButtonDblClick, Qt.LeftButton),
                          (QEvent.MouseButtonRelease, Qt.NoButton)):
        QApplication.sendEvent(widget, QMouseEvent(kind, QPointF(at),
                                                   QPointF(widget.mapToGlobal(at)),
                                                   Qt.LeftButton, buttons, Qt.NoModifier))


def test_double_click_on_empty_map_space_pins_the_image_decoded_there(qtbot, window):
    train_and_wait(qtbot, window, tiny_config())
    explorer = window.explorer_panel
    view = explorer.plot.getViewBox()
    codes = explorer.snapshot.arrays["map_latents"]
    # A map place far from every code: the corner of the view.
    (x0, x1), (y0, y1) = view.viewRange()
    at = (x0 + 0.03 * (x1 - x0), y1 - 0.03 * (y1 - y0))
    assert np.hypot(*(codes - at).T).min() > 0.05 * (x1 - x0)
    scene = view.mapViewToScene(__import__("pyqtgraph").Point(*at))
    pixel = explorer.map_widget.mapFromScene(scene)
    double_click(explorer.map_widget.viewport(), QPoint(pixel.x(), pixel.y()))
    assert len(explorer.pins) == 1, "a double-click on empty map space pins"
    pin = explorer.pins[0]
    assert pin.index is None and np.allclose(pin.code, at, atol=0.05 * (x1 - x0))
    # Visible: a star at that place and the pinned image beside the map.
    assert np.allclose(explorer.pin_markers.data["x"][0], pin.code[0])
    assert explorer.pins_pane.image_item.image is not None
    expected = explorer.decoder.decode(pin.code[None])
    assert expected.shape[0] == 1
    # A few pixels off a point: the nearest point is pinned, not the place.
    pg = __import__("pyqtgraph")
    on_screen = np.array([[q.x(), q.y()] for q in (view.mapViewToScene(pg.Point(*xy)) for xy
                                                  in explorer.projection.project(codes))])
    near = pg.Point(on_screen[0][0] + 3, on_screen[0][1])
    nearest = int(np.argmin(np.hypot(*(on_screen - [near.x(), near.y()]).T)))
    pinned = explorer.pin_near(view.mapSceneToView(near), near)
    assert pinned is not None and pinned.index == nearest and len(explorer.pins) == 2


def test_the_code_readout_stays_on_one_line_and_says_the_size_first():
    from gui.panels.map_markers import code_words
    assert code_words(np.array([0.5, -1.25])) == "z = [0.50, -1.25]"
    long = code_words(np.arange(20) / 10)
    assert long.startswith("z (20-d) = [0.00, 0.10, 0.20, 0.30, …]")


def test_an_elided_label_cuts_to_its_width_and_keeps_the_whole_text_as_tooltip(qtbot):
    from gui.widgets.elided_label import ElidedLabel
    label = ElidedLabel("Sessions saved in: /home/student/a/very/long/path/sessions",
                        Qt.ElideMiddle)
    qtbot.addWidget(label)
    label.resize(120, 20)
    label.show()
    shown = label.shown_text()
    assert "…" in shown and len(shown) < len(label.text())
    assert label.toolTip() == label.text()
    assert label.minimumSizeHint().width() < label.sizeHint().width()


def test_field_errors_in_words():
    from gui.forms.config_form import in_words
    labels = {"model.latent_dim": "Latent size", "model.hidden": "Hidden", "seed": "Seed",
              "device": "Device"}
    assert in_words("model.latent_dim must be an integer from 1 to 8192 (got 0)", labels) == \
        "Latent size must be an integer from 1 to 8192 (got 0)"
    assert in_words("model.hidden[1] must be positive", labels) == \
        "Hidden (layer 2) must be positive"
    assert in_words("seed must be an integer", labels) == "Seed must be an integer"
    # A plain word inside a sentence is left alone; unknown fields keep their names.
    assert in_words("the device cuda:7 is missing", labels) == "The device cuda:7 is missing"
    assert in_words("model.activation must be one of relu, tanh", labels).startswith(
        "model.activation must")


def test_the_two_empty_accuracy_plots_number_the_same_epochs(qtbot):
    from gui.panels.accuracy_curves import AccuracyCurvesPanel
    panel = AccuracyCurvesPanel()
    qtbot.addWidget(panel)
    for width in (560, 700, 900):
        panel.resize(width, 260)
        panel.show()
        qtbot.wait(10)
        axes = [panel.plots[k].getAxis("bottom") for k in ("pretrained", "random")]
        numbered = [ax.tickValues(*ax.range, ax.geometry().width())[:ax.style["maxTextLevel"] + 1]
                    for ax in axes]
        assert numbered[0] == numbered[1], width
        assert axes[0].range == axes[1].range == [axes[0].range[0], axes[0].range[1]]
