"""Autoencoder Studio's window: PySide6 + pyqtgraph views that drive the engine."""

import sys

from PySide6 import __version__ as _pyside_version

# PySide6 6.12.0 (an abi3 wheel) returns None and True without taking a
# reference; on CPython < 3.12, where those objects are not immortal, a few
# minutes of a live window drive their counts to zero and the interpreter
# aborts ("Fatal Python error: none_dealloc"). pyproject.toml keeps such
# installs below 6.12; refuse clearly if one slipped through.
if sys.version_info < (3, 12) and _pyside_version.startswith("6.12."):
    raise ImportError(
        f"PySide6 {_pyside_version} crashes on Python {sys.version_info.major}."
        f"{sys.version_info.minor}; install an earlier one: pip install 'PySide6-Essentials<6.12'")
