"""``python main.py resume SESSION.h5 --epochs N``: train N more epochs into the same file."""

from __future__ import annotations

from pathlib import Path

from engine.cli.common import ProgressPrinter, exit_code, stop_on_interrupt
from engine.control import TrainingControl
from engine.events import Event
from engine.session import Session, SessionWriter, resume_trainer


def add_parser(sub) -> None:
    p = sub.add_parser("resume", help="continue training a session",
                       description="Continue a recorded run from its checkpoint for more "
                                   "epochs; history and snapshots continue in the same file.")
    p.add_argument("session", type=Path, metavar="SESSION.h5")
    p.add_argument("--epochs", type=int, required=True,
                   help="epochs to train after the last completed one")
    p.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the run's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only epoch lines")
    p.set_defaults(run=run)


def run(args) -> int:
    with Session.open(args.session) as session:
        trainer, until = resume_trainer(session, args.epochs, args.device)
    writer = SessionWriter(args.session, append=True)
    printer = ProgressPrinter(quiet=args.quiet)

    def emit(event: Event) -> None:
        writer(event)  # first: when an epoch's line is printed, the ones before are on disk
        printer(event)

    control = TrainingControl()
    try:
        with stop_on_interrupt(control):
            trainer.run(emit, control, until_epoch=until)
    finally:
        writer.close()
    print(f"session: {args.session}")
    return exit_code(printer.outcome)
