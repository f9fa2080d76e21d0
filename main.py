"""Autoencoder Studio.

``python main.py`` opens the window; ``python main.py SESSION.h5`` opens a
session in it; ``python main.py A.h5 B.h5 ...`` (or a sweep folder) opens
them side by side; ``python main.py COMMAND ...`` runs headless (see ``--help``).
"""

from __future__ import annotations

import sys
from pathlib import Path


def opens_in_window(arg: str) -> bool:
    """A session file, or a folder made by ``sweep`` (it has a sweep.json)."""
    return arg.endswith((".h5", ".hdf5")) or (Path(arg).is_dir()
                                              and (Path(arg) / "sweep.json").is_file())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or all(opens_in_window(a) for a in argv):
        try:
            from gui.app import run_app
        except ImportError as e:
            print(f"error: the window cannot start ({e}); install the app with "
                  f"'pip install -e .' or use a headless command (python main.py --help)",
                  file=sys.stderr)
            return 2
        return run_app(argv)
    from engine.cli import main as cli_main
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
