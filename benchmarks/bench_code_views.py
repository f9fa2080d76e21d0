"""What the Code views cost the GUI thread: a noise-slider move, a drawing stroke, an epoch.

Trains a preset headless into a session (the same ``Trainer`` and
``SessionWriter`` as the window), opens it in a :class:`~gui.run.model.RunModel`
as the window does, makes every view of :data:`gui.views.code_views.VIEW_PANELS` and
times, on the GUI thread with the app's torch thread count:

- a noise-slider move: corrupt the probe images and reconstruct them with the
  epoch's CPU copy, and draw the result (``NoiseLevelPanel.apply``);
- a drawing stroke: paint, encode, reconstruct and mark the code
  (``DrawingPadPanel.encode`` after ``DrawingCanvas.stroke``);
- a new epoch in each view (``show_epoch``; the noise view then also redraws
  its error-against-level curve), and in all of them together.

Painting happens later, in the event loop, and is not in these figures.
Medians over ``--repeats``; printed, never asserted.

Run: ``python benchmarks/bench_code_views.py [--preset denoising] [--epochs 3]
[--limit 2000] [--repeats 30]``.
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
import torch  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="denoising")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    import gui  # noqa: F401
    from PySide6.QtWidgets import QApplication
    from engine.control import TrainingControl
    from engine.presets import load_preset
    from engine.session import Session, SessionWriter
    from engine.trainer import Trainer
    from gui.app import training_threads
    from gui.views.code_views import VIEW_PANELS, make_view
    from gui.run.model import RunModel
    torch.set_num_threads(training_threads())
    app = QApplication.instance() or QApplication(sys.argv[:1])
    cfg = load_preset(args.preset).with_overrides({"optim.epochs": args.epochs,
                                                   "data.limit": args.limit})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.h5"
        with SessionWriter(path) as writer:
            Trainer(cfg).run(writer, TrainingControl())
        model = RunModel()
        model.load_session(Session.open(path))
        run = model.shown_run
        epoch = run.epochs[-1]
        print(f"{args.preset}: latent {cfg.model.latent_dim}, hidden {list(cfg.model.hidden)}, "
              f"{torch.get_num_threads()} torch thread(s), load average "
              f"{os.getloadavg()[0]:.1f}")
        views = {name: make_view(name) for name in VIEW_PANELS}
        for v in views.values():
            v.resize(700, 400)
            v.show()
        app.processEvents()
        total = 0.0
        for name, view in views.items():
            view.set_run(run)
            run.cpu_model(epoch)   # built once per epoch, timed apart below

            def show(view=view):
                view.run = None    # as a new epoch: nothing kept from the last call
                view.show_epoch(run, epoch)
            ms = median_ms(show, max(3, args.repeats // 10))
            total += ms
            print(f"  new epoch in {name:22s} {ms:7.2f} ms")
        print(f"  new epoch in every view  {total:7.2f} ms")
        run._models.clear()
        t0 = time.perf_counter()
        run.cpu_model(epoch)
        print(f"  CPU copy of the epoch's model (once per epoch) "
              f"{1000 * (time.perf_counter() - t0):.2f} ms")
        noise = views["noise_level"]
        if noise.showing:
            levels = iter(np.tile(np.arange(5, 95), 100))

            def move():
                noise.slider.setValue(int(next(levels)))
                noise.apply()
            print(f"  noise-slider move        {median_ms(move, args.repeats):7.2f} ms")
        pad = views["drawing_pad"]
        if pad.showing:
            k = iter(range(10_000))

            def stroke():
                i = next(k) % 20
                pad.canvas.stroke([(4.0 + i, 10.0), (5.0 + i, 12.0)])
                pad.encode()
            print(f"  drawing stroke (paint, encode, reconstruct) "
                  f"{median_ms(stroke, args.repeats):7.2f} ms")
        for run_ in model.runs.values():
            if run_.stored is not None:
                run_.stored.session.close()


if __name__ == "__main__":
    main()
