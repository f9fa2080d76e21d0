"""Test-wide settings. Qt must run headless: set the platform before any Qt import."""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if os.environ["QT_QPA_PLATFORM"] == "offscreen":
    # The offscreen screen is 800x800 unless told otherwise: give the window tests the
    # laptop screen the app is laid out for (the window fits whatever screen it opens on).
    os.environ["QT_QPA_PLATFORM"] = ("offscreen:configfile="
                                     + str(Path(__file__).parent / "fixtures" / "laptop-screen.json"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

# Two cores: keep torch from oversubscribing when pytest and Qt threads share them.
torch.set_num_threads(2)
