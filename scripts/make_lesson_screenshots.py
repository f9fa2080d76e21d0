"""Screenshots of the lesson window for the README: ``docs/screenshots/lesson-<name>.png``.

Opens each lesson's window offscreen at 1366×768 (a laptop's screen) the way
a student does: from the lesson's folder, training it first when it has not
been run there (its full configuration, about two minutes a lesson on two
cores), then grabs the window with its runs side by side and the claim's
numbers.

Run: ``python scripts/make_lesson_screenshots.py [--out docs/screenshots]
[--folder DIR] [NAME ...]`` (default: the identity risk, explicit versus
implicit and the VAE's tension; ``--folder`` keeps the trained sessions for
next time, default a temporary folder). ``--tiny`` takes the tests'
seconds-long configuration instead (to check the layout, not for the README).
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

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

DEFAULT_LESSONS = ("identity-risk", "explicit-vs-implicit", "vae-tension")
SIZE = (1366, 768)


def wait_until(app: QApplication, condition, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    if not condition():
        raise TimeoutError("the lesson did not finish in time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=list(DEFAULT_LESSONS))
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--folder", type=Path, default=None,
                        help="where the lessons' sessions are kept (default: a temporary one)")
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny configuration")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per lesson")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication([])
    import gui  # noqa: F401  (PySide6 guard first)
    from engine.lessons import find_lesson
    from gui.lessons.lesson_window import LessonWindow
    from gui.preferences import Preferences
    scratch = tempfile.TemporaryDirectory()
    folder = args.folder or Path(scratch.name) / "lessons"
    prefs = Preferences(QSettings(str(Path(scratch.name) / "settings.ini"),
                                  QSettings.IniFormat))
    prefs.session_folder = folder.parent
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names:
        lesson = find_lesson(name)
        window = LessonWindow(lesson, prefs, out_dir=folder / name, tiny=args.tiny)
        window.resize(*SIZE)
        window.show()
        t0 = time.perf_counter()
        if not window.is_done():
            print(f"training lesson {lesson.number} ({name}) into {folder / name} …",
                  flush=True)
            window.run()
            wait_until(app, lambda: not window.is_running(), args.timeout)
        trained = time.perf_counter() - t0
        window.open_saved()             # as reopening it does: read and measure, no training
        window.resize(*SIZE)
        for _ in range(20):             # let the views lay out and draw
            app.processEvents()
            time.sleep(0.02)
        path = args.out / f"lesson-{name}.png"
        window.save_png(path)
        claim = window.claim_result
        print(f"{path}: {trained:.0f} s; opened in {window.open_seconds * 1000:.0f} ms; "
              + (claim.sentence if claim is not None else window.banner.text() or "no claim"),
              flush=True)
        window.close()
    scratch.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
