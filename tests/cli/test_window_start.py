"""Starting the window where there is no display gives a message, not a Qt abort."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_display_is_a_clear_error_with_exit_2():
    if not sys.platform.startswith("linux"):
        return
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert "no display" in r.stderr and "python main.py train" in r.stderr
