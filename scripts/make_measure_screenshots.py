"""Screenshots of the research-measure views (issue 20) from a trained session, at 1366x768.

    python main.py lesson disentanglement --out lessons/disentanglement
    python scripts/make_measure_screenshots.py lessons/disentanglement/beta-1.h5

writes ``docs/screenshots/measures-*.png``: the traversals with the disentanglement scores,
the interpolation, and I(x; z) beside the KL (the Code usage page), each grabbed from the
window's Code views tab.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHOTS = {"latent_traversals": "measures-traversals-and-scores.png",
         "latent_interpolation": "measures-interpolation.png",
         "mutual_information": "measures-mutual-information.png"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("session", type=Path)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent
                    / "docs" / "screenshots")
    args = ap.parse_args()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from gui.views.code_views import PAGES
    from gui.windows.main_window import MainWindow
    from gui.preferences import Preferences

    def settle(seconds: float = 0.5) -> None:
        end = time.time() + seconds
        while time.time() < end:
            app.processEvents()
            time.sleep(0.01)

    with tempfile.TemporaryDirectory() as tmp:
        prefs = Preferences(QSettings(str(Path(tmp) / "settings.ini"), QSettings.IniFormat))
        prefs.session_folder = Path(tmp) / "sessions"
        win = MainWindow(prefs)
        win.resize(1366, 768)
        win.show()
        settle()
        win.open_session(args.session)
        settle(1.0)
        views = win.code_views
        win.tabs.setCurrentWidget(views.page)
        for view, name in SHOTS.items():
            views.pages.setCurrentIndex(next(i for i, (_, _, keys) in enumerate(PAGES)
                                             if view in keys))
            settle(0.3)
            views.flush()
            settle(0.8)
            if view == "latent_interpolation":
                views.panels[view].b_box.setValue(5)
                settle(0.5)
            views.pages.currentWidget().grab().save(str(args.out / name))
            print(args.out / name)
        win.close()


if __name__ == "__main__":
    main()
