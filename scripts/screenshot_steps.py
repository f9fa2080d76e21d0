"""Steps of the screenshot scripts: wait for the window, train from it, grab a panel.

Shared by ``scripts/make_screenshots.py`` and its scenes; they drive the real window the
way a user does (the form, Train, Stop) and wait on its state, not on time.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QApplication


def wait_until(app: QApplication, condition, timeout: float = 300.0) -> None:
    """Process events until ``condition()`` holds (or ``timeout`` seconds pass)."""
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)
    if not condition():
        raise TimeoutError("the window did not reach the expected state in time")


def settle(app: QApplication, seconds: float = 0.3) -> None:
    """Let pending updates and paints happen before a grab."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def train_until(app, window, config, epochs_seen: int) -> None:
    """Start ``config`` and return while it trains, once ``epochs_seen`` epochs are shown."""
    window.settings_panel.set_config(config)
    window.train()
    # The model is cleared when the run starts: its runs are this run's.
    wait_until(app, lambda: bool(window.model.training_runs())
               and (len(window.timeline_panel.epochs) >= epochs_seen
                    or not window.controller.is_running()))
    if not window.controller.is_running():
        raise RuntimeError(f"the run ended early: {window.banner.text()}")


def panel_png(window, key: str, path: Path) -> None:
    """Panel ``key`` as it is on screen (its tab brought forward), controls and all."""
    from gui.views.figure_export import bring_forward
    bring_forward(window, window.frames[key])
    settle(QApplication.instance(), 0.2)
    window.code_views.flush()
    window.frames[key].grab().save(str(path))


def stop(app, window) -> None:
    window.controller.stop()
    wait_until(app, lambda: not window.controller.is_running())


def train_to_end(app, window, config) -> None:
    """Train ``config`` from the window until it completes."""
    window.settings_panel.set_config(config)
    window.train()
    wait_until(app, lambda: window.controller.is_running())
    wait_until(app, lambda: not window.controller.is_running(), timeout=900)
    if "completed" not in window.banner.text():
        raise RuntimeError(f"{config.name} did not complete: {window.banner.text()}")
    settle(app, 0.5)
