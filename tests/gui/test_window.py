"""The window: builds, names its controls, refuses bad settings, exports figures."""

from __future__ import annotations

from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit,
                               QProgressBar, QSlider, QWidget)


def test_window_builds_with_no_arguments(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from gui.windows.main_window import MainWindow
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):   # not the user's settings
        QSettings.setPath(fmt, QSettings.UserScope, str(tmp_path / "user-settings"))
    monkeypatch.setenv("HOME", str(tmp_path))
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.controls_panel.train_button.isEnabled()
    assert win.settings_panel.config() is not None
    area = win.screen().availableGeometry()
    assert 0 < win.width() <= area.width() and 0 < win.height() <= area.height()


def test_every_control_has_an_object_and_accessible_name(window):
    controls = (QAbstractButton, QComboBox, QLineEdit, QAbstractSpinBox, QSlider, QProgressBar)
    unnamed = []
    for w in window.findChildren(QWidget):
        if not isinstance(w, controls) or w.objectName().startswith("qt_"):
            continue  # Qt's own parts (e.g. the menu bar's overflow button) are Qt's to name
        if isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox)):  # their line edits
            continue
        if not w.objectName() or not w.accessibleName():
            unnamed.append(f"{type(w).__name__} {w.objectName()!r} {getattr(w, 'text', str)()!r}")
    assert not unnamed, unnamed


def test_invalid_value_is_refused_at_the_field(qtbot, window):
    panel = window.settings_panel
    train = window.controls_panel.train_button
    panel.widgets["optim.lr"].setText("fast")
    label = panel.error_labels["optim.lr"]
    # The field's own label, not the config's internal name.
    assert not label.isHidden() and label.text().startswith("Learning rate ")
    assert "optim.lr" not in label.text()
    assert not train.isEnabled()
    panel.widgets["model.latent_dim"].setText("0")
    text = panel.error_labels["model.latent_dim"].text()
    assert text.startswith("Latent size must be") and "model.latent_dim" not in text
    panel.widgets["model.hidden"].setText("512, 0")
    text = panel.error_labels["model.hidden"].text()
    assert text.startswith("Hidden (layer 2) "), text
    panel.widgets["model.hidden"].setText("400")
    panel.widgets["optim.lr"].setText("1e-3")
    panel.widgets["model.latent_dim"].setText("2")
    assert label.isHidden() and train.isEnabled()


def test_kind_checkboxes_change_the_config(window):
    panel = window.settings_panel
    panel.load_preset("plain")
    panel.kind_checks["denoising"].setChecked(True)
    panel.kind_checks["sparse"].setChecked(True)
    cfg = panel.config()
    assert cfg.kinds() == ["sparse", "denoising"]
    w = panel.widgets
    assert w["objective.corruption_level"].isEnabled() and not w["objective.beta"].isEnabled()


def test_export_figure_writes_png(window, tmp_path):
    out = tmp_path / "window.png"
    assert window.export_figure("window", out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Nothing on display: a panel has nothing to export (tests/gui/test_export_figure.py).
    assert not window.export_figure("loss-curves", tmp_path / "loss.png")
    assert not (tmp_path / "loss.png").exists()


def test_showing_a_config_selects_its_preset_and_description(window):
    from engine.presets import load_preset
    cfg = load_preset("sprites-vae-2d")
    window.settings_panel.set_config(cfg)
    assert window.settings_panel.preset_combo.currentData() == "sprites-vae-2d"
    assert window.settings_panel.preset_description.text() == cfg.description
    assert window.settings_panel.config().data.source == "sprites"


def test_the_data_path_in_the_form_is_checked_and_never_ignored(window, tmp_path):
    """Issue 21, item 1, in the window: a path that does not exist is marked at its field
    and nothing can train; a path left in the (hidden) field after choosing another source
    is not in the config the run records."""
    import numpy as np
    panel = window.settings_panel
    train = window.controls_panel.train_button
    panel.load_preset("plain")
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("file"))
    panel.path_edit.setText(str(tmp_path / "nofile.npy"))
    label = panel.error_labels["data.path"]
    assert not label.isHidden() and "no such file or folder" in label.text()
    assert panel.config() is None and not train.isEnabled()
    mine = tmp_path / "mine.npy"
    np.save(mine, np.zeros((40, 12, 12), np.uint8))
    panel.path_edit.setText(str(mine))
    assert label.isHidden() and train.isEnabled()
    assert panel.config().data.source == "file" and panel.config().data.path == str(mine)
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("mnist"))
    cfg = panel.config()
    assert cfg.data.source == "mnist" and cfg.data.path is None
    assert panel.path_edit.text() == str(mine)     # kept for when the file is chosen again


def test_the_preset_text_follows_the_data_chosen(window):
    """Issue 21, item 8: a preset's text still said 'on MNIST' after the data changed, on
    screen and in the config a run records."""
    panel = window.settings_panel
    panel.load_preset("plain")
    assert "on MNIST" in panel.preset_description.text()
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("sprites"))
    assert "MNIST" not in panel.preset_description.text()
    assert "on procedural sprites" in panel.preset_description.text()
    assert panel.config().description == panel.preset_description.text()
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("mnist"))
    assert "on MNIST" in panel.preset_description.text()
