"""Autoencoder Studio.

``python main.py`` opens the window; ``python main.py SESSION.h5`` opens a
session in it; ``python main.py COMMAND ...`` runs headless (see ``--help``).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (len(argv) == 1 and argv[0].endswith((".h5", ".hdf5"))):
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
