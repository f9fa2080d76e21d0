"""``python main.py train``: train a preset or config headless."""

from __future__ import annotations

from engine.cli.common import (ProgressPrinter, add_config_options, add_run_options,
                               config_from_args, exit_code, stop_on_interrupt)
from engine.control import TrainingControl
from engine.events import Event
from engine.trainer import Trainer


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train an autoencoder headless",
                       description="Train a preset (or a config file) with a progress bar "
                                   "and a summary line per epoch.")
    add_config_options(p)
    add_run_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    cfg = config_from_args(args)
    printer = ProgressPrinter(quiet=args.quiet)
    listeners = [printer]

    def emit(event: Event) -> None:
        for listener in listeners:
            listener(event)

    trainer = Trainer(cfg)
    control = TrainingControl()
    with stop_on_interrupt(control):
        trainer.run(emit, control)
    return exit_code(printer.outcome)
