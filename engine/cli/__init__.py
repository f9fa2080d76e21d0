"""The headless command line: ``python main.py <command> ...``.

Each command lives in its own module with ``add_parser(subparsers)`` and a
``run(args) -> int``. Errors the user can fix print one line and exit 2.
``train`` and ``resume`` also run as the processes of a torchrun job
(:mod:`engine.distributed`); the other commands refuse to. The commands
that train take ``--threads N`` (default: follow the free cores,
:mod:`engine.threads`).
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

from engine.cli import config_cmd, export_cmd, info_cmd, presets_cmd, resume_cmd, train_cmd
from engine.cli import compare_cmd, finetune_cmd, lesson_cmd, pretrain_cmd, sweep_cmd
from engine import threads
from engine.distributed import is_main_process, launched_by_torchrun
from engine.errors import ConfigError, StudioError

COMMANDS = [train_cmd, resume_cmd, info_cmd, export_cmd, presets_cmd, config_cmd, pretrain_cmd,
            finetune_cmd, sweep_cmd, compare_cmd, lesson_cmd]
#: The commands that run as the processes of a torchrun job.
TORCHRUN_COMMANDS = ("train", "resume")
#: The commands that train, and so take --threads (a sweep gives each run its share).
TRAINING_COMMANDS = ("train", "resume", "pretrain", "finetune", "lesson")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python main.py",
        description="Autoencoder Studio. With no command, opens the window.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for mod in COMMANDS:
        mod.add_parser(sub)
    for name in TRAINING_COMMANDS:
        sub.choices[name].add_argument(
            "--threads", metavar="N", default=None,
            help=f"torch threads: a count, or auto to follow the cores other work leaves "
                 f"free, re-checked every epoch (default: ${threads.ENV} or auto)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if launched_by_torchrun() and args.command not in TORCHRUN_COMMANDS:
            raise ConfigError(f"'{args.command}' does not run under torchrun; run it as "
                              f"python main.py {args.command} ... (only "
                              f"{' and '.join(TORCHRUN_COMMANDS)} train with several processes)")
        policy = threads.ThreadPolicy.from_setting(getattr(args, "threads", None))
        with threads.using(policy):  # each run sets its threads; the command's work before too
            torch.set_num_threads(threads.choose_threads(policy))
            return args.run(args)
    except StudioError as e:
        if is_main_process():  # under torchrun every rank fails alike: say it once
            print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The output went to a pipe that closed (``| head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
