"""The data part of the settings form: the image size and the named data sets."""

from __future__ import annotations


def test_the_image_size_field_round_trips_and_explains_bad_values(window):
    panel = window.settings_panel
    panel.load_preset("conv-vae-64")
    assert panel.widgets["data.image_size"].text() == "64" and panel.widgets["data.image_size"].isVisible()
    assert panel.config().data.image_size == 64
    for bad in ("3", "5000"):
        panel.widgets["data.image_size"].setText(bad)
        label = panel.error_labels["data.image_size"]
        assert not label.isHidden() and label.text().startswith("Image size must be an integer "
                                                                "from 8 to 1024"), label.text()
        assert not window.controls_panel.train_button.isEnabled()
    panel.widgets["data.image_size"].setText("32")
    assert panel.config().data.image_size == 32
    panel.widgets["data.image_size"].setText("")
    assert panel.config().data.image_size is None
    panel.load_preset("vae-toy")                     # 2-D points: no image size to set
    assert not panel.widgets["data.image_size"].isVisible()


def test_named_sets_and_folders_are_offered(window):
    panel = window.settings_panel
    sources = [panel.source_combo.itemData(i) for i in range(panel.source_combo.count())]
    assert {"mnist-full", "fashion-mnist", "cifar10", "file"} <= set(sources)
    panel.source_combo.setCurrentIndex(sources.index("cifar10"))
    assert panel.config().data.source == "cifar10"
    assert panel.folder_button.accessibleName() and panel.folder_button.objectName()


def test_the_data_rows_fit_the_narrow_settings_panel(qtbot, window):
    panel = window.settings_panel
    window.resize(1366, 768)
    panel.load_preset("conv-vae-64")
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("file"))
    qtbot.wait(50)
    # Nothing is cut at the right edge: the form's narrowest layout fits the viewport.
    assert panel.widget().minimumSizeHint().width() <= panel.viewport().width()
    assert panel.folder_button.isVisible() and panel.browse_button.isVisible()
