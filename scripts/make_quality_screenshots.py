"""Screenshots of sample quality, the drawn distribution and slow motion (issue 20), at 1366x768.

    for p in vae-toy gan-toy rbm-toy; do
        python main.py train --preset $p --epochs 40 --out quality/$p.h5; done
    python scripts/make_quality_screenshots.py quality/vae-toy.h5 quality/gan-toy.h5 \\
        quality/rbm-toy.h5

writes to ``docs/screenshots/``:

- ``sample-quality.png``: the Generative models tab with the sessions given side by side,
  the last one on display, and their FID, precision and recall over the epochs below;
- ``draw-distribution.png``: the run settings' plane with a distribution drawn on it
  (two strokes, sprayed by dragging the mouse, as a user does);
- ``slow-motion.png``: a GAN on that drawing, stepped one batch at a time (Step), then
  in slow motion, every view showing the model after the last step.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sessions", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent
                    / "docs" / "screenshots")
    args = ap.parse_args()
    import pyqtgraph as pg
    from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from gui.windows.main_window import MainWindow
    from gui.preferences import Preferences

    def settle(seconds: float = 0.5) -> None:
        end = time.time() + seconds
        while time.time() < end:
            app.processEvents()
            time.sleep(0.01)

    def wait(condition, timeout=600.0) -> None:
        end = time.time() + timeout
        while not condition():
            if time.time() > end:
                raise TimeoutError("the window did not get there in time")
            app.processEvents()
            time.sleep(0.01)

    def drag(panel, path) -> None:
        view = panel.plot_widget.viewport()
        at = [panel.plot_widget.mapFromScene(panel.box.mapViewToScene(pg.Point(*p)))
              for p in path]

        def send(kind, p, buttons):
            app.sendEvent(view, QMouseEvent(kind, QPointF(p), QPointF(view.mapToGlobal(p)),
                                            Qt.LeftButton, buttons, Qt.NoModifier))
        send(QEvent.MouseButtonPress, at[0], Qt.LeftButton)
        for p in at[1:]:
            time.sleep(0.02)
            send(QEvent.MouseMove, p, Qt.LeftButton)
            app.processEvents()
        send(QEvent.MouseButtonRelease, at[-1], Qt.NoButton)
        settle(0.1)

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        prefs = Preferences(QSettings(str(Path(tmp) / "settings.ini"), QSettings.IniFormat))
        prefs.session_folder = Path(tmp) / "sessions"
        win = MainWindow(prefs)
        win.resize(1366, 768)
        win.show()
        settle()

        # Sample quality: the sessions side by side, the last one on display.
        win.open_session(args.sessions[-1])
        win.tabs.setCurrentWidget(win.generative_panel)
        for path in args.sessions:
            win.generative_panel.add_session(path)
        settle(1.5)
        win.grab().save(str(args.out / "sample-quality.png"))

        # Draw your own distribution: two strokes, as a mouse sprays them.
        settings = win.settings_panel
        settings.load_preset("gan-toy")
        settings.source_combo.setCurrentIndex(settings.source_combo.findData("drawn"))
        settings.widgets["optim.epochs"].setText("300")
        settle()
        t = np.linspace(0.0, 1.0, 40)
        drag(settings.draw_panel, list(zip(0.15 + 0.7 * t, 0.35 + 0.3 * np.sin(np.pi * t))))
        drag(settings.draw_panel, list(zip(0.5 + 0.25 * np.cos(2 * np.pi * t),
                                           0.3 + 0.12 * np.sin(2 * np.pi * t))))
        settle()
        win.grab(settings.geometry().translated(settings.mapTo(win, settings.rect().topLeft())
                                                - settings.geometry().topLeft())).save(
            str(args.out / "draw-distribution.png"))

        # Slow motion: train on the drawing, pause, step one batch at a time.
        win.train()
        wait(lambda: len(win.timeline_panel.epochs) >= 30)
        win.controller.pause()
        for _ in range(3):
            win.controller.step()
            settle(1.2)
        win.controls_panel.slow_check.setChecked(True)     # then on, four steps a second
        win.controller.resume()
        settle(2.2)
        win.grab().save(str(args.out / "slow-motion.png"))
        win.controller.shutdown(20_000)
        win.close()
    for name in ("sample-quality.png", "draw-distribution.png", "slow-motion.png"):
        print(args.out / name)


if __name__ == "__main__":
    main()
