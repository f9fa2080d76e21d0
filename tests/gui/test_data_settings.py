"""The data part of the settings form: the image size and the named data sets."""

from __future__ import annotations


def test_the_image_size_field_round_trips_and_explains_bad_values(window):
    panel = window.settings_panel
    panel.load_preset("conv-vae-64")
    size = panel.widgets["data.image_size"]
    assert size.text() == "64" and size.isVisible()
    assert panel.config().data.image_size == 64
    for bad in ("3", "5000"):
        size.setText(bad)
        label = panel.error_labels["data.image_size"]
        assert not label.isHidden() and label.text().startswith("Image size must be an integer "
                                                                "from 8 to 1024"), label.text()
        assert not window.controls_panel.train_button.isEnabled()
    size.setText("32")
    assert panel.config().data.image_size == 32
    size.setText("")
    assert panel.config().data.image_size is None
    panel.load_preset("vae-toy")                     # 2-D points: no image size to set
    assert not size.isVisible()


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


def test_every_described_field_is_a_named_row_of_the_form(window):
    """The form is generated from the fields' descriptions: one row each, named by them."""
    from PySide6.QtWidgets import QComboBox

    from gui.forms.config_form import form_fields
    panel = window.settings_panel
    panel.load_preset("plain")
    shown = {key for key, fi in form_fields() if not fi.get("kind") or fi.kind is not bool}
    assert shown == set(panel.widgets)
    for key, fi in form_fields():
        w = panel.widgets.get(key)
        if w is None or w is panel.draw_panel:
            continue
        assert w.objectName() and w.accessibleName() == fi.label, key
        assert panel.field_labels[key] == fi.label
        if isinstance(w, QComboBox) and key != "device":   # each choice in its own words
            texts = {w.itemData(i): w.itemText(i) for i in range(w.count())}
            assert all(texts[c] == fi.choice_text(c) for c in texts), key
    assert set(panel.kind_checks) == {"sparse", "contractive", "denoising", "variational"}
