"""``python main.py train``: train a preset or config headless."""

from __future__ import annotations

from pathlib import Path

from engine.cli.common import (ProgressPrinter, add_config_options, add_run_options,
                               config_from_args, exit_code, stop_on_interrupt)
from engine.control import TrainingControl
from engine.errors import ConfigError
from engine.events import Event
from engine.session import SessionWriter
from engine.trainer import Trainer


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train an autoencoder headless",
                       description="Train a preset (or a config file) with a progress bar "
                                   "and a summary line per epoch.")
    add_config_options(p)
    add_run_options(p)
    p.add_argument("--out", type=Path, metavar="SESSION.h5",
                   help="record the run in this session file (replay, resume, info, export)")
    p.add_argument("--force", action="store_true", help="replace --out if it already exists")
    p.set_defaults(run=run)


def run(args) -> int:
    cfg = config_from_args(args)
    if cfg.pretraining is not None:
        raise ConfigError(f"'{cfg.name}' is a greedy layer-wise pretraining config; "
                          f"run it with: python main.py pretrain --preset {cfg.name}")
    # Made before any training, so a name that is taken fails at once.
    writer = SessionWriter(args.out, force=args.force) if args.out else None
    printer = ProgressPrinter(quiet=args.quiet)
    # The writer first: when an epoch's line is printed, the epochs before it are on disk.
    listeners = ([writer] if writer else []) + [printer]

    def emit(event: Event) -> None:
        for listener in listeners:
            listener(event)

    try:
        trainer = Trainer(cfg)
        control = TrainingControl()
        with stop_on_interrupt(control) as interrupt:
            trainer.run(emit, control, snapshots=writer is not None,
                        checkpoints=writer is not None)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        print("not saved (add --out run.h5 to keep the run as a session)")
    else:
        print(f"session: {args.out}" if args.out.exists() else "no session file was written")
    return exit_code(printer.outcome, interrupt)
