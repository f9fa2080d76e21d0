"""The headless command line: ``python main.py <command> ...``.

Each command lives in its own module with ``add_parser(subparsers)`` and a
``run(args) -> int``. Errors the user can fix print one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys

from engine.cli import export_cmd, info_cmd, presets_cmd, resume_cmd, train_cmd
from engine.cli import compare_cmd, finetune_cmd, pretrain_cmd, sweep_cmd
from engine.errors import StudioError

COMMANDS = [train_cmd, resume_cmd, info_cmd, export_cmd, presets_cmd, pretrain_cmd,
            finetune_cmd, sweep_cmd, compare_cmd]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python main.py",
        description="Autoencoder Studio. With no command, opens the window.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for mod in COMMANDS:
        mod.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except StudioError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
