"""``python main.py train``: train a preset or config headless."""

from __future__ import annotations

from pathlib import Path

from engine.cli.common import (INTERRUPTED, ProgressPrinter, add_config_options, add_run_options,
                               add_session_options, config_from_args, stop_on_interrupt,
                               weights_budget)
from engine.control import TrainingControl
from engine.device import resolve_device
from engine.distributed import is_main_process, torchrun_process_group
from engine.errors import ConfigError
from engine.jobs import new_job, run_job
from engine.session import SessionWriter


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train an autoencoder headless",
                       description="Train a preset (or a config file) with a progress bar "
                                   "and a summary line per epoch.")
    add_config_options(p)
    add_run_options(p)
    p.add_argument("--out", type=Path, metavar="SESSION.h5",
                   help="record the run in this session file (replay, resume, info, export)")
    p.add_argument("--force", action="store_true", help="replace --out if it already exists")
    add_session_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    cfg = config_from_args(args)
    if cfg.pretraining is not None:
        raise ConfigError(f"'{cfg.name}' is a greedy layer-wise pretraining config; "
                          f"run it with: python main.py pretrain --preset {cfg.name}")
    with torchrun_process_group(resolve_device(cfg.device)):  # nothing outside torchrun
        return _train(args, cfg, is_main_process())


def _train(args, cfg, main: bool) -> int:
    # Made before any training, so a name that is taken fails at once; only rank 0 writes.
    writer = SessionWriter(args.out, force=args.force, weights_budget=weights_budget(args)) \
        if args.out and main else None
    printer = ProgressPrinter(quiet=args.quiet)
    recording = args.out is not None   # every rank does the same work under torchrun
    control = TrainingControl()
    with stop_on_interrupt(control) as interrupt:
        result = run_job(new_job(cfg, snapshots=recording, checkpoints=recording), printer,
                         control, writer=writer)
    if main:
        if writer is None:
            print("not saved (add --out run.h5 to keep the run as a session)")
        else:
            print(f"session: {args.out}" if args.out.exists() else "no session file was written")
    if interrupt.asked:
        return INTERRUPTED
    return 1 if result.outcome == "failed" else 0
