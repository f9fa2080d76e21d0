"""Screenshots of the comparison window for the README: ``docs/screenshots/compare-*.png``.

Trains a small sweep of beta with ``python main.py sweep`` (real worker processes), opens the
folder in the comparison window offscreen, moves the shared replay slider, and grabs each tab:

- ``compare-curves.png``: the loss curves per term, one colour per run;
- ``compare-reconstructions.png``: the same probe images reconstructed by each run;
- ``compare-latent.png``: the latent explorers and KL per dimension side by side;
- ``compare-sweep.png``: each final term against beta.

Run: ``python scripts/make_compare_screenshots.py [--out docs/screenshots] [--epochs 15]``
(about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402


def settle(app: QApplication, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    p.add_argument("--epochs", type=int, default=15)
    a = p.parse_args()
    from engine.cli import main as cli
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "beta"
        code = cli(["sweep", "--preset", "vae-2d", "--set", "objective.beta=0.5,1,4",
                    "--set", "data.limit=2000", "--epochs", str(a.epochs), "--device", "cpu",
                    "--out", str(sweep), "--jobs", "2", "--quiet"])
        if code != 0:
            raise SystemExit(f"the sweep failed (exit code {code})")
        app = QApplication.instance() or QApplication([])
        from gui.windows.compare_window import open_comparison
        window = open_comparison([sweep])
        window.resize(1366, 768)
        settle(app)
        window.timeline.select_epoch(max(1, a.epochs * 2 // 3))
        a.out.mkdir(parents=True, exist_ok=True)
        for index, name in enumerate(("curves", "reconstructions", "latent", "sweep")):
            window.tabs.setCurrentIndex(index)
            settle(app)
            path = a.out / f"compare-{name}.png"
            window.grab().save(str(path))
            print(path)
        window.close()


if __name__ == "__main__":
    main()
