"""Starting the application: ``run_app(argv)`` is what ``python main.py`` calls."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

import torch
from PySide6.QtWidgets import QApplication

from engine import threads
from engine.errors import StudioError
from gui.platform_plugin import FatalPlatformMessage, missing_xcb_libraries, uses_xcb, xcb_advice
from gui.preferences import APPLICATION, ORGANISATION


def training_threads(others: float | None = None) -> int:
    """Torch threads a run in the window takes: the free cores but one (at least one).

    The window installs :func:`window_thread_policy` and each run chooses
    again from the cores free when it starts and at each epoch's end
    (:mod:`engine.threads`); this is what it would choose now.

    Parameters
    ----------
    others : cores' worth of CPU other processes use; None measures it.

    The GUI thread needs a core of its own. On the 2-core development machine
    two torch threads trained *slower* with the window open than one (6,700
    vs 7,400 samples/s: the thread team waits whenever the GUI thread takes
    one of its cores) and let the window stall for up to 200-330 ms; one
    thread kept stalls under 100 ms (benchmarks/bench_gui_latency.py).
    """
    return threads.choose_threads(window_thread_policy(), others)


def window_thread_policy() -> threads.ThreadPolicy:
    """The window's: ``STUDIO_THREADS`` if set, else the free cores, one kept for the GUI."""
    try:
        return threads.ThreadPolicy.from_setting(reserve=1)
    except StudioError as e:  # a bad STUDIO_THREADS: say so, and follow the load
        logging.getLogger(__name__).warning("%s", e)
        return threads.ThreadPolicy(None, reserve=1)


def warm_up_torch() -> threading.Thread:
    """Import, off the GUI thread, what torch loads lazily on the first optimiser.

    ``torch.optim`` imports ``torch._dynamo`` (800 modules, ~1.7 s with
    PySide6's import hook) the first time an optimiser is made. Doing that
    while the window waits, instead of when Train is pressed, keeps the first
    run from freezing the window.
    """
    def work() -> None:
        try:
            torch.optim.Adam([torch.zeros(1, requires_grad=True)])
        except Exception:  # a warm-up only: the real run reports real errors
            logging.getLogger(__name__).debug("warm-up failed", exc_info=True)
    thread = threading.Thread(target=work, name="torch-warm-up", daemon=True)
    thread.start()
    return thread


def open_window(argv: list[str]):
    """Create the application (if needed) and the window, open the session named in ``argv``.

    Returns
    -------
    The shown :class:`~gui.windows.main_window.MainWindow`; :func:`run_app` then runs the event loop.
    """
    global _app
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    policy = window_thread_policy()
    threads.installed(policy)   # each run in the window chooses its threads (engine.threads)
    torch.set_num_threads(threads.choose_threads(policy))  # the GUI thread's own decoding
    _app = QApplication.instance()
    if _app is None:
        with FatalPlatformMessage():  # Qt's abort when no window system starts: a message
            _app = QApplication([sys.argv[0], *argv])
    _app.setOrganizationName(ORGANISATION)
    _app.setApplicationName(APPLICATION)
    sessions = [a for a in argv if a.endswith((".h5", ".hdf5")) or Path(a).is_dir()]
    if len(sessions) > 1 or any(Path(a).is_dir() for a in sessions):
        from gui.windows.compare_window import open_comparison   # side by side
        return open_comparison(sessions)
    from gui.windows.main_window import MainWindow  # after QApplication: pyqtgraph needs it
    window = MainWindow()
    window.show()
    warm_up_torch()
    if sessions:
        window.open_session(Path(sessions[0]))
    return window


def run_app(argv: list[str]) -> int:
    """Open the window (and the session named in ``argv``, if any); run until it closes.

    Parameters
    ----------
    argv : command-line arguments after the program name: empty, one session path, or
        several sessions and sweep folders (opened side by side).

    Returns
    -------
    The exit status.
    """
    problem = missing_display()
    if problem is None and uses_xcb():
        missing = missing_xcb_libraries()
        problem = xcb_advice(missing) if missing else None
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        window = open_window(argv)  # noqa: F841 (kept alive while the loop runs)
    except StudioError as e:       # nothing of what was named could be compared
        print(f"error: {e}", file=sys.stderr)
        return 2
    return _app.exec()


def missing_display() -> str | None:
    """Why the window cannot open here, or None.

    Without a display Qt aborts the whole process with a plugin message that
    does not say what to do; on Linux we can tell beforehand.
    """
    if not sys.platform.startswith("linux"):
        return None
    if any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        return None
    return ("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset). "
            "Train headless with 'python main.py train --preset NAME' (see "
            "'python main.py --help'), or run the window under Xvfb or with "
            "QT_QPA_PLATFORM=offscreen.")


_app: QApplication | None = None
