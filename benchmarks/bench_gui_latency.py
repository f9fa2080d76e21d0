"""GUI responsiveness while training: marker latency, GUI-thread stalls, throughput.

Opens the real window (offscreen), trains a preset from it and, while the
run goes on,

- drags the latent explorer's marker programmatically along a path at
  ``--move-hz`` and times each move from ``move_marker`` to the decoded
  image's paint (p50 / p95 / max; target p95 < 16 ms);
- runs a heartbeat QTimer every 5 ms and reports the longest gap beyond
  that (the worst GUI-thread stall; target: none over 100 ms);
- reports training throughput (samples/s over the run, from the session's
  epoch ends) against the same run headless — the same ``Trainer`` with the
  same ``SessionWriter``, no window (target ratio >= 0.9) — with the window
  open and updating, and again while the marker is dragged.

Each torch thread count in ``--threads`` is measured (the app uses
``gui.app.training_threads()``: one on a 2-core machine); rounds alternate
GUI and headless so drift in the machine's load hits both alike. The
machine's load average is printed: on a shared machine other processes'
load shows up as stalls and as throughput noise.

Run: ``python benchmarks/bench_gui_latency.py [--preset vae-2d] [--epochs 4]
[--threads 2,1] [--rounds 1]``. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.presets import load_preset  # noqa: E402
from engine.session import Session, SessionWriter  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

HEARTBEAT_MS = 5


def throughput_from_session(path: Path) -> float:
    """Training samples per second over the run, from the session's epoch ends."""
    with Session.open(path) as session:
        s = session.run()
        wall = float(s.epoch_history["wall_time"][-1])
        return s.data.n_train * len(s.epoch_history["epoch"]) / wall


def run_headless(config, folder: Path) -> float:
    path = folder / f"headless-{time.time_ns()}.h5"
    trainer = Trainer(config)
    with SessionWriter(path) as writer:
        trainer.run(writer)
    return throughput_from_session(path)


def run_gui(app: QApplication, config, folder: Path, move_hz: float,
            drive_marker: bool = True, heartbeat_on: bool = True) -> dict:
    from gui.main_window import MainWindow
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
    win.train()
    if heartbeat_on:
        heartbeat.start()
    if drive_marker:
        driver.start()
    if win.controller.is_running():
        loop.exec()
    heartbeat.stop()
    driver.stop()
    path = win.model.session_path
    win.close()
    gaps = gaps[5:]  # the first beats include the window's first layout
    return {"samples_per_sec": throughput_from_session(path), "latencies": latencies,
            "max_stall_ms": 1000 * max(gaps, default=0.0),
            "stalls_over_100ms": sum(g > 0.1 for g in gaps),
            "p99_stall_ms": 1000 * float(np.percentile(gaps, 99)) if gaps else 0.0}


def pct(values: list[float], q: float) -> float:
    return 1000 * float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="vae-2d")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--threads", default="2,1", help="torch thread counts to compare")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--move-hz", type=float, default=30.0)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    config = load_preset(args.preset).with_overrides({"optim.epochs": args.epochs,
                                                      "device": args.device})
    app = QApplication.instance() or QApplication([])
    print(f"preset {args.preset}, {args.epochs} epochs, {args.device}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, load average at start "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_headless(config.with_overrides({"optim.epochs": 1}), folder)  # warm-up
        for threads in [int(t) for t in args.threads.split(",")]:
            torch.set_num_threads(threads)
            head, plain, gui = [], [], []
            for _ in range(args.rounds):
                head.append(run_headless(config, folder))
                plain.append(run_gui(app, config, folder, args.move_hz, drive_marker=False,
                                     heartbeat_on=False)["samples_per_sec"])
                gui.append(run_gui(app, config, folder, args.move_hz))
            lat = [v for g in gui for v in g["latencies"]]
            h = statistics.median(head)
            p = statistics.median(plain)
            g = statistics.median(r["samples_per_sec"] for r in gui)
            print(f"\ntorch threads {threads}")
            print(f"  throughput: headless {h:,.0f} samples/s; window open and updating "
                  f"{p:,.0f} (ratio {p / h:.2f}, target >= 0.9); also dragging the marker "
                  f"at {args.move_hz:g} Hz and heartbeat on {g:,.0f} (ratio {g / h:.2f})")
            own = statistics.median(q / r for q, r in zip(plain, head))
            print(f"  median of the rounds' own ratios (window open / headless): {own:.2f}")
            print(f"  marker -> painted: n={len(lat)} p50 {pct(lat, 50):.1f} ms, "
                  f"p95 {pct(lat, 95):.1f} ms, max {pct(lat, 100):.1f} ms (target p95 < 16 ms)")
            print(f"  load average now {os.getloadavg()[0]:.1f}")
            print(f"  GUI stalls: longest {max(r['max_stall_ms'] for r in gui):.0f} ms, "
                  f"p99 {max(r['p99_stall_ms'] for r in gui):.1f} ms, "
                  f"{sum(r['stalls_over_100ms'] for r in gui)} over 100 ms (target 0)")


if __name__ == "__main__":
    main()
