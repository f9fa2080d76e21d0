"""Loss curves with a million logged steps: load, live append, pan/zoom, controls.

Fills the real :class:`~gui.panels.loss_curves.LossCurvesPanel` (offscreen,
700x400) with ``--points`` steps of four terms (one of them negative, like
``elbo``) and times, in milliseconds:

- loading the whole history at once (opening a session);
- appending a live batch of 30 steps and redrawing (what training does);
- repainting the plot zoomed out (all points) and zoomed in (1% of them),
  i.e. what panning and zooming cost per frame;
- moving the smoothing slider and toggling the log axis.

Run: ``python benchmarks/bench_gui_loss_curves.py [--points 1000000]``. Figures are
printed, never asserted; a frame under ~30 ms pans smoothly.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def ms(f, repeat: int = 7) -> float:
    """Median milliseconds of ``f()``."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    from gui.panels.loss_curves import LossCurvesPanel
    panel = LossCurvesPanel()
    panel.resize(700, 400)
    panel.show()
    app.processEvents()
    n = args.points
    rng = np.random.default_rng(0)
    steps = np.arange(1, n + 1)
    decay = 150 * np.exp(-steps / (n / 5))
    recon = 100 + decay + rng.normal(0, 3, n)
    kl = 5 + 0.5 * rng.random(n)
    terms = {"total": recon + kl, "recon": recon, "kl": kl, "elbo": -(recon + kl)}
    panel.reset(tuple(terms))
    plot = panel.plot_widget.viewport()

    t = time.perf_counter()
    panel.append_rows(steps, steps // 1000 + 1, terms)
    panel.redraw()
    plot.repaint()
    load = 1000 * (time.perf_counter() - t)

    k = [n]

    def live_batch() -> None:
        s = np.arange(k[0] + 1, k[0] + 31)
        k[0] += 30
        panel.append_rows(s, s // 1000 + 1, {name: v[:30] for name, v in terms.items()})
        panel.redraw(full=False)
        plot.repaint()

    live = ms(live_batch)
    full_view = ms(plot.repaint)
    vb = panel.plot.getViewBox()
    vb.setXRange(0.40 * n, 0.41 * n, padding=0)
    app.processEvents()
    zoomed = ms(plot.repaint)

    def pan() -> None:
        lo, hi = vb.viewRange()[0]
        vb.setXRange(lo + 0.001 * n, hi + 0.001 * n, padding=0)
        plot.repaint()

    panning = ms(pan)
    vb.enableAutoRange()
    app.processEvents()
    smooth = ms(lambda: panel.smooth_slider.setValue(
        30 if panel.smooth_slider.value() != 30 else 80), repeat=3)
    log_toggle = ms(lambda: (panel.log_check.toggle(), plot.repaint()), repeat=3)
    print(f"{n:,} steps x {len(terms)} terms (raw + smoothed + validation curves)")
    print(f"  load whole history (session open): {load:8.1f} ms")
    print(f"  live batch of 30 steps + redraw:   {live:8.1f} ms  (at most 8 redraws/s while training)")
    print(f"  repaint, zoomed out (all points):  {full_view:8.1f} ms")
    print(f"  repaint, zoomed in to 1%:          {zoomed:8.1f} ms")
    print(f"  pan by 0.1% + repaint:             {panning:8.1f} ms")
    print(f"  smoothing slider change:           {smooth:8.1f} ms")
    print(f"  log axis toggle + repaint:         {log_toggle:8.1f} ms")


if __name__ == "__main__":
    main()
