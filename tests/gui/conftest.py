"""Fixtures for the window tests: a window with its own settings and session folder."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QSettings

import gui  # noqa: F401  (first: guards CPython 3.11 against PySide6's refcount bug)
from engine.config import RunConfig
from engine.presets import load_preset

pytest.importorskip("pytestqt")


def tiny_config(**overrides) -> RunConfig:
    """A VAE small enough to train two epochs in well under a second."""
    values = {"data.limit": 300, "model.hidden": [32], "model.latent_dim": 2,
              "optim.epochs": 2, "optim.batch_size": 64}
    values.update(overrides)
    return load_preset("vae-2d").with_overrides(values)


@pytest.fixture(autouse=True, scope="session")
def _gui_thread_collection():
    """The windows collect cyclic garbage on the GUI thread; give the rest of the
    process automatic collection back once the window tests are over."""
    yield
    from gui.gui_thread_gc import restore_automatic_collection
    restore_automatic_collection()


@pytest.fixture(autouse=True)
def _collect_after_each_test():
    """Free the last test's closed windows here, on the GUI thread, before the next
    test starts training."""
    yield
    gc.collect()


@pytest.fixture
def preferences(tmp_path):
    from gui.preferences import Preferences
    prefs = Preferences(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    prefs.session_folder = tmp_path / "sessions"
    return prefs


@pytest.fixture
def window(qtbot, preferences):
    from gui.windows.main_window import MainWindow
    win = MainWindow(preferences)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.controller.shutdown(5000)


def train_and_wait(qtbot, window, config: RunConfig, timeout: int = 30_000) -> None:
    """Put ``config`` in the form, press Train, wait for the run to end."""
    window.settings_panel.set_config(config)
    assert window.settings_panel.config() is not None, window.settings_panel.errors
    qtbot.mouseClick(window.controls_panel.train_button, _left())
    qtbot.waitUntil(lambda: not window.controller.is_running(), timeout=timeout)


def _left():
    from PySide6.QtCore import Qt
    return Qt.LeftButton
