"""``python main.py resume SESSION.h5``: continue a run, or the job of several runs, in the same file."""

from __future__ import annotations

from pathlib import Path

from engine.cli.common import (JobProgress, add_session_options, exit_code, stop_on_interrupt,
                               weights_budget)
from engine.control import TrainingControl
from engine.device import resolve_device
from engine.distributed import is_main_process, launched_by_torchrun, torchrun_process_group
from engine.errors import ConfigError
from engine.jobs import continue_job, run_job, unfinished_job
from engine.session import Session, SessionWriter


def add_parser(sub) -> None:
    p = sub.add_parser("resume", help="continue training a session",
                       description="Continue a recorded run from its checkpoint; history and "
                                   "snapshots continue in the same file. An interrupted "
                                   "pretraining or fine-tuning job continues where it stopped.")
    p.add_argument("session", type=Path, metavar="SESSION.h5")
    p.add_argument("--epochs", type=int,
                   help="epochs to train after the last completed one (default: finish the "
                        "epochs the run was started with)")
    p.add_argument("--run", dest="run_id", metavar="ID", help="which run of the file (default: its main run)")
    p.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the run's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only epoch lines")
    add_session_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    with Session.open(args.session) as session:
        job_id = unfinished_job(session) if args.run_id is None and args.epochs is None else None
        device = args.device or ("cpu" if job_id else session.run(args.run_id).config.device)
    if job_id is not None and launched_by_torchrun():
        raise ConfigError("an interrupted pretraining or fine-tuning job does not resume under "
                          f"torchrun: continue it with python main.py resume {args.session}")
    with torchrun_process_group(resolve_device(device)):  # nothing outside torchrun
        return _resume(args, is_main_process())


def _resume(args, main: bool) -> int:
    with Session.open(args.session) as session:
        job_id = unfinished_job(session) if args.run_id is None and args.epochs is None else None
        if job_id is None:   # a run, not a job, continues: say what it continues from
            target = session.run(args.run_id)
            if args.epochs is None and target.status == "completed":
                n = target.epochs_trained
                run_opt = f" --run {target.run_id}" if args.run_id is not None else ""
                raise ConfigError(f"run '{target.run_id}' is complete ({n} "
                                  f"epoch{'s' if n != 1 else ''}): python main.py resume "
                                  f"{args.session}{run_opt} --epochs N adds N more")
            ck = target.checkpoint()
            done = ck.epoch if ck is not None else 0
            if main and done < target.epochs_trained:
                # The checkpoint is written every ~30 s: a killed run retrains what followed.
                since = (f"from its checkpoint at epoch {done}" if done else "from the start "
                         "(it was stopped before its first checkpoint)")
                print(f"note: {args.session.name} holds {target.epochs_trained} epochs; "
                      f"training continues {since}")
    # Under torchrun rank 0 alone writes; the others' trainers report nothing.
    writer = SessionWriter(args.session, append=True, weights_budget=weights_budget(args)) \
        if main else None
    progress = JobProgress(quiet=args.quiet)
    control = TrainingControl()
    job = continue_job(args.session, epochs=args.epochs, run_id=args.run_id, device=args.device)
    with stop_on_interrupt(control) as interrupt:
        result = run_job(job, progress, control, writer=writer)
    if not main:
        return 1 if result.outcome == "failed" else 0
    print(f"session: {args.session}")
    return exit_code(progress.outcome, interrupt)
