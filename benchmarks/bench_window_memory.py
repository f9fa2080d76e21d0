"""The window's memory over many train/stop cycles: flat, or growing per run?

Opens the real window (offscreen) and, ``--cycles`` times, does what the
controls stress test did: puts a tiny preset in the form, presses Train,
waits for the first logged steps, presses Stop and waits until the window is
idle again (each run is its own session file in a temporary session folder).
It prints the process's resident memory (RSS, from ``/proc/self/statm``)
every ``--every`` cycles and, at the end, the change from the first
measurement after ``--warmup`` cycles to the last, in MB and in percent of
the first, with the MB per cycle. Memory is measured after the GUI thread's
own collection (``gc.collect``) and ``malloc_trim``, so what is counted is
what is still referenced (or fragmented), not garbage waiting to be freed.

``--census`` also prints, for the same points, the Python objects by type and
the QObjects under the window whose counts grew most since the warm-up: what
a leak keeps per run shows up there as a count that grows with the cycles.

Run: ``python benchmarks/bench_window_memory.py [--cycles 300] [--every 25]
[--warmup 20] [--preset vae-2d] [--census]``. Figures are printed, never
asserted (the machine's load average is printed beside them).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from PySide6.QtCore import QEventLoop, QObject, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.presets import load_preset  # noqa: E402

TINY = {"data.limit": 300, "data.n_probe": 16, "model.hidden": [32], "optim.batch_size": 32,
        "optim.epochs": 50}


def rss_mb() -> float:
    """Resident memory of this process, in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def settled_rss(app: QApplication) -> float:
    """RSS once the event loop has run, garbage is collected and malloc gave back pages."""
    pause = time.monotonic() + 0.05
    wait_until(app, lambda: time.monotonic() > pause)   # pending deletions happen
    gc.collect()
    wait_until(app, lambda: time.monotonic() > pause + 0.05)
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    return rss_mb()


def wait_until(app: QApplication, condition, timeout: float = 60.0) -> None:
    """Run the event loop until ``condition()`` holds. A real loop, not ``processEvents``:
    objects given to ``deleteLater`` are deleted only when a loop runs (as in the app)."""
    if condition():
        return
    loop = QEventLoop()
    end = time.monotonic() + timeout

    def check():
        if condition() or time.monotonic() > end:
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(2)
    loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError("the window did not get there in time")


def one_cycle(app: QApplication, window, config) -> None:
    """Train pressed, the first steps logged, Stop pressed, idle again."""
    window.settings_panel.set_config(config)
    window.controls_panel.train_button.click()
    wait_until(app, window.controller.is_running)
    wait_until(app, lambda: window.model.live_run is not None
               and window.model.live_run.last_step >= 2)
    window.controls_panel.stop_button.click()
    wait_until(app, lambda: not window.controller.is_running())


def census(window) -> tuple[Counter, Counter]:
    """(Python objects by type, QObjects under the window by class)."""
    objects = Counter(type(o).__name__ for o in gc.get_objects())
    qt = Counter(type(o).__name__ for o in window.findChildren(QObject))
    return objects, qt


def grown(now: Counter, before: Counter, top: int = 8) -> str:
    rows = sorted(((now[k] - before.get(k, 0), k) for k in now), reverse=True)[:top]
    return ", ".join(f"{k} +{d}" for d, k in rows if d > 0) or "nothing grew"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=300)
    ap.add_argument("--every", type=int, default=25)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--preset", default="vae-2d")
    ap.add_argument("--census", action="store_true")
    ap.add_argument("--arenas-free", action="store_true",
                    help="do not cap glibc's malloc arenas (gui/native_memory.py): the growth "
                         "the cap removes")
    args = ap.parse_args()
    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication([])
    if args.arenas_free:   # the window caps them; this shows what it grows without the cap
        import gui.native_memory as native
        native._limited = True
    from gui.windows.main_window import MainWindow
    from gui.preferences import Preferences
    config = load_preset(args.preset).with_overrides(TINY)
    print(f"{args.cycles} train/stop cycles of {args.preset} (tiny), load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        prefs = Preferences(QSettings(str(Path(tmp) / "settings.ini"), QSettings.IniFormat))
        prefs.session_folder = Path(tmp) / "sessions"
        window = MainWindow(prefs)
        window.show()
        start = time.perf_counter()
        base = base_census = None
        print(f"{'cycle':>6} {'RSS MB':>8} {'vs warm':>8}")
        for cycle in range(1, args.cycles + 1):
            one_cycle(app, window, config)
            if cycle == args.warmup:
                base = settled_rss(app)
                base_census = census(window) if args.census else None
                print(f"{cycle:>6} {base:8.1f} {'(base)':>8}")
            elif cycle % args.every == 0 or cycle == args.cycles:
                mb = settled_rss(app)
                change = "" if base is None else f"{100 * (mb - base) / base:+7.2f}%"
                print(f"{cycle:>6} {mb:8.1f} {change:>8}", flush=True)
                if base_census is not None and cycle > args.warmup:
                    now = census(window)
                    print(f"         python: {grown(now[0], base_census[0])}")
                    print(f"         qt:     {grown(now[1], base_census[1])}")
        last = settled_rss(app)
        n = args.cycles - args.warmup
        print(f"\nafter {args.warmup} warm-up cycles: {base:.1f} MB -> {last:.1f} MB over {n} "
              f"cycles: {last - base:+.1f} MB ({100 * (last - base) / base:+.2f} %), "
              f"{1000 * (last - base) / max(1, n):+.0f} kB per cycle; "
              f"{(time.perf_counter() - start) / args.cycles:.2f} s a cycle; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        window.close()


if __name__ == "__main__":
    main()
