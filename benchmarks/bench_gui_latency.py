"""GUI responsiveness while training: marker latency, GUI-thread stalls, throughput.

Opens the real window (offscreen), trains a preset from it and, while the
run goes on,

- drags the latent explorer's marker programmatically along a path at
  ``--move-hz`` and times each move from ``move_marker`` to the decoded
  image's paint (p50 / p95 / max; target p95 <= 8 ms);
- runs a heartbeat QTimer every 5 ms and reports the longest gap beyond
  that (the worst GUI-thread stall; target <= 50 ms);
- reports training throughput (samples/s over the run, from the session's
  epoch ends) against the same run headless — the same ``Trainer`` with the
  same ``SessionWriter``, no window (target ratio >= 0.95) — with the window
  open and updating, and again while the marker is dragged.

All three targets come from the same run of this script, and are printed
together at the end of each thread count.

Where the training thread's time goes is printed for both runs (Linux:
``/proc/self/task/<tid>/schedstat``): on the CPU, waiting in the run queue
for a core (other processes, the GUI thread), and blocked (mostly waiting for
Python's GIL, which the GUI thread holds while it paints). On a shared
machine the run-queue share moves with other people's work; the blocked
share is what the window itself costs.

Each torch thread setting in ``--threads`` is measured (default ``auto``:
the app's own choice, :mod:`engine.threads` — the free cores less one for
the GUI thread, chosen by each run and re-checked at epoch ends; a number
fixes the count); rounds alternate GUI and headless so drift in the
machine's load hits both alike. The machine's load average is printed.
``--busy N`` starts N CPU-burning processes beside it all (a busy laptop).
``--nice`` sets how much lower the training thread's priority is than the
GUI's (the app's is ``gui.run.worker.TRAINING_NICE``).

Run: ``python benchmarks/bench_gui_latency.py [--preset vae-2d] [--epochs 12]
[--threads auto,1] [--rounds 5] [--busy 2] [--nice N] [--device cpu]``. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench_threads import start_busy, stop_busy  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import engine.trainer  # noqa: E402
from engine import threads as thread_policy  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from engine.session import Session, SessionWriter  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

HEARTBEAT_MS = 5
#: The targets of issue 12, all in one run of this script.
TARGET_RATIO, TARGET_STALL_MS, TARGET_MARKER_P95_MS = 0.95, 50.0, 8.0

#: schedstat of the thread of each Trainer.run, newest last (see ``_record_thread_times``).
THREAD_TIMES: list[dict[str, float]] = []
#: The torch threads each Trainer.run ended with (its choice, under ``auto``).
THREADS_USED: list[int] = []


def _schedstat() -> tuple[float, float, float] | None:
    """(wall, on-CPU, run-queue) seconds of the calling thread so far; None off Linux."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            on_cpu, run_queue = (int(x) / 1e9 for x in f.read().split()[:2])
    except OSError:
        return None
    return time.perf_counter(), on_cpu, run_queue


def _record_thread_times() -> None:
    """Wrap Trainer.run so each run leaves its thread's times in THREAD_TIMES."""
    run = Trainer.run

    def timed(self, *args, **kwargs):
        start = _schedstat()
        try:
            return run(self, *args, **kwargs)
        finally:
            THREADS_USED.append(torch.get_num_threads())
            end = _schedstat()
            if start and end:
                wall, cpu, queue = (b - a for a, b in zip(start, end))
                THREAD_TIMES.append({"cpu": cpu / wall, "queue": queue / wall,
                                     "blocked": max(0.0, wall - cpu - queue) / wall})

    engine.trainer.Trainer.run = timed


def throughput_from_session(path: Path) -> float:
    """Training samples per second over the run, from the session's epoch ends."""
    with Session.open(path) as session:
        s = session.run()
        wall = float(s.epoch_history["wall_time"][-1])
        return s.data.n_train * len(s.epoch_history["epoch"]) / wall


def run_headless(config, folder: Path) -> float:
    path = folder / f"headless-{time.time_ns()}.h5"
    trainer = engine.trainer.Trainer(config)
    with SessionWriter(path) as writer:
        trainer.run(writer)
    return throughput_from_session(path)


def run_gui(app: QApplication, config, folder: Path, move_hz: float,
            drive_marker: bool = True, heartbeat_on: bool = True) -> dict:
    from gui.windows.main_window import MainWindow
    from gui.preferences import Preferences
    prefs = Preferences(QSettings(str(folder / "settings.ini"), QSettings.IniFormat))
    prefs.session_folder = folder
    win = MainWindow(prefs)
    win.show()
    explorer = win.explorer_panel
    latencies: list[float] = []
    pending: list[float] = []
    gaps: list[float] = []
    last_beat = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append(now - last_beat[0] - HEARTBEAT_MS / 1000)
        last_beat[0] = now

    def painted() -> None:
        if pending:
            latencies.append(time.perf_counter() - pending.pop())

    k = [0]

    def move() -> None:
        if explorer.decoder is None or explorer.projection is None:
            return
        k[0] += 1
        t = k[0] / move_hz
        pending.clear()            # a move not painted before the next one is not counted
        pending.append(time.perf_counter())
        explorer.move_marker(2.5 * math.sin(1.3 * t), 2.5 * math.cos(0.7 * t))

    explorer.decoded_pane.painted.connect(painted)
    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(beat)
    driver = QTimer()
    driver.setInterval(int(1000 / move_hz))
    driver.timeout.connect(move)
    win.settings_panel.set_config(config)
    # A real event loop, as in the app: polling processEvents() from Python would
    # itself load the GUI thread and hold the GIL a thousand times a second.
    loop = QEventLoop()
    win.controller.state_changed.connect(lambda state: state == "idle" and loop.quit())
    gui_start = _schedstat()
    win.train()
    if heartbeat_on:
        heartbeat.start()
    if drive_marker:
        driver.start()
    if win.controller.is_running():
        loop.exec()
    heartbeat.stop()
    driver.stop()
    gui_end = _schedstat()
    gui_times = None
    if gui_start and gui_end:  # the GUI thread's own: on a core, and waiting for one
        wall, cpu, queue = (b - a for a, b in zip(gui_start, gui_end))
        gui_times = {"cpu": cpu / wall, "queue": queue / wall}
    path = win.model.session_path
    win.close()
    gaps = gaps[5:]  # the first beats include the window's first layout
    return {"samples_per_sec": throughput_from_session(path), "latencies": latencies,
            "times": THREAD_TIMES[-1] if THREAD_TIMES else None, "gui_times": gui_times,
            "max_stall_ms": 1000 * max(gaps, default=0.0),
            "stalls_over_100ms": sum(g > 0.1 for g in gaps),
            "p99_stall_ms": 1000 * float(np.percentile(gaps, 99)) if gaps else 0.0}


def pct(values: list[float], q: float) -> float:
    return 1000 * float(np.percentile(values, q)) if values else float("nan")


def _times(runs: list[dict | None]) -> str:
    runs = [r for r in runs if r]
    if not runs:
        return "(no schedstat here)"
    return ", ".join(f"{k} {statistics.median(r[k] for r in runs):.3f}"
                     for k in ("cpu", "queue", "blocked"))


def main() -> None:
    from gui.app import window_thread_policy
    import gui.run.worker
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="vae-2d")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--threads", default="auto",
                    help="thread settings to compare, e.g. auto,1,2 (default: the app's, auto)")
    ap.add_argument("--busy", type=int, default=0, help="CPU-burning processes beside it")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--move-hz", type=float, default=30.0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--nice", type=int, default=gui.run.worker.TRAINING_NICE,
                    help="the training thread's priority below the GUI's (Linux nice steps)")
    args = ap.parse_args()
    gui.run.worker.TRAINING_NICE = args.nice
    _record_thread_times()
    config = load_preset(args.preset).with_overrides({"optim.epochs": args.epochs,
                                                      "device": args.device})
    app = QApplication.instance() or QApplication([])
    print(f"preset {args.preset}, {args.epochs} epochs x {args.rounds} rounds, {args.device}, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, training nice +{args.nice}, "
          f"{args.busy} busy processes beside it, "
          f"load average at start {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    busy = start_busy(args.busy)
    try:
        _measure(app, config, args, window_thread_policy())
    finally:
        stop_busy(busy)


def _measure(app, config, args, window_policy) -> None:
    """Every thread setting of ``args.threads``: headless and windowed rounds, alternating."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_headless(config.with_overrides({"optim.epochs": 1}), folder)  # warm-up
        for threads in args.threads.split(","):
            # What the window installs: each run (headless ones too) chooses its threads.
            thread_policy.installed(window_policy if threads == "auto"
                                    else thread_policy.ThreadPolicy(int(threads)))
            THREADS_USED.clear()
            head, plain, gui, head_times, plain_times = [], [], [], [], []
            for _ in range(args.rounds):
                head.append(run_headless(config, folder))
                head_times.append(THREAD_TIMES[-1] if THREAD_TIMES else None)
                run = run_gui(app, config, folder, args.move_hz, drive_marker=False,
                              heartbeat_on=False)
                plain.append(run["samples_per_sec"])
                plain_times.append(run["times"])
                gui.append(run_gui(app, config, folder, args.move_hz))
            lat = [v for g in gui for v in g["latencies"]]
            h = statistics.median(head)
            p = statistics.median(plain)
            g = statistics.median(r["samples_per_sec"] for r in gui)
            own = statistics.median(q / r for q, r in zip(plain, head))
            stall = max(r["max_stall_ms"] for r in gui)
            p95 = pct(lat, 95)
            used = ", ".join(f"{n} x{THREADS_USED.count(n)}" for n in sorted(set(THREADS_USED)))
            print(f"\ntorch threads {threads} (the runs used {used})")
            print(f"  throughput: headless {h:,.0f} samples/s; window open and updating "
                  f"{p:,.0f} (ratio {p / h:.3f}); also dragging the marker at "
                  f"{args.move_hz:g} Hz and heartbeat on {g:,.0f} (ratio {g / h:.2f})")
            print(f"  median of the rounds' own ratios (window open / headless): {own:.3f} "
                  f"[{', '.join(f'{q / r:.2f}' for q, r in zip(plain, head))}]")
            print(f"  training thread's time: headless {_times(head_times)}; "
                  f"window open {_times(plain_times)}")
            if all(head_times) and all(plain_times):
                # The run queue holds other people's work on a shared machine: without it,
                # the window's cost is its GIL time and the cores it takes from training.
                # ratio = wall(headless) / wall(window); drop each run's queued share of it.
                idle = statistics.median(q / r * (1 - a["queue"]) / (1 - b["queue"])
                                         for a, b, q, r in zip(head_times, plain_times,
                                                               plain, head))
                print(f"  ratio with each run's run-queue waits taken out (an estimate for "
                      f"an otherwise idle machine): {idle:.3f}")
            print(f"  marker -> painted: n={len(lat)} p50 {pct(lat, 50):.1f} ms, "
                  f"p95 {p95:.1f} ms, max {pct(lat, 100):.1f} ms")
            gt = [r["gui_times"] for r in gui if r["gui_times"]]
            if gt:  # a thread ready to run that waits for a core: other processes' work
                on_core = statistics.median(t["cpu"] for t in gt)
                waiting = statistics.median(t["queue"] for t in gt)
                print(f"  GUI thread while dragging: on a core {on_core:.3f}, waiting for one "
                      f"{waiting:.3f} of the time (a wait for a core is the machine's load, "
                      f"not the window's work)")
            print(f"  GUI stalls: longest {stall:.0f} ms, "
                  f"p99 {max(r['p99_stall_ms'] for r in gui):.1f} ms, "
                  f"{sum(r['stalls_over_100ms'] for r in gui)} over 100 ms; "
                  f"load average now {os.getloadavg()[0]:.1f}")
            ok = {"window/headless": (own, own >= TARGET_RATIO, f">= {TARGET_RATIO}"),
                  "longest stall": (stall, stall <= TARGET_STALL_MS, f"<= {TARGET_STALL_MS:g} ms"),
                  "marker p95": (p95, p95 <= TARGET_MARKER_P95_MS,
                                 f"<= {TARGET_MARKER_P95_MS:g} ms")}
            print("  targets: " + "; ".join(f"{k} {v:.3g} ({t}) {'met' if m else 'NOT met'}"
                                             for k, (v, m, t) in ok.items()))


if __name__ == "__main__":
    main()
