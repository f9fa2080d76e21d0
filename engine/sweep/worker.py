"""The process that trains one run of a sweep: ``python -m engine.sweep.worker`` (job on stdin).

The job is JSON: ``{"config": {...}, "out": "DIR/beta=1.h5", "threads": 1,
"weights_budget": null}`` (bytes of weights the session keeps; null: the default).
A new run trains into a new session; a run whose file holds the same
config, stopped or killed before its last epoch, continues from its
checkpoint in the same file; a completed one is left as it is. The worker
holds an exclusive lock on ``DIR/.<name>.lock`` while it trains, so two
sweeps never write one file. Ctrl+C (SIGINT, which the sweep forwards)
stops after the current batch and keeps the epochs done.

Prints the trainer's epoch lines on stdout; exits 0 (completed or
stopped), 1 (the run failed), 2 (a problem to report, on stderr), 3 (the
run is locked by another process).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

BUSY = 3


def main() -> int:
    job = json.loads(sys.stdin.read())
    threads = int(job.get("threads", 1))
    import torch
    torch.set_num_threads(max(1, threads))
    from engine.cli.common import ProgressPrinter, exit_code, stop_on_interrupt
    from engine.config import RunConfig
    from engine.control import TrainingControl
    from engine.errors import StudioError
    from engine.events import RunOpened
    from engine.session import Session, SessionWriter, resume_trainer
    from engine.sweep.plan import same_run
    from engine.trainer import Trainer

    out = Path(job["out"])
    lock = _lock(out.with_name(f".{out.stem}.lock"))
    if lock is None:
        print(f"{out.name} is being trained by another process", file=sys.stderr)
        return BUSY
    try:
        config = RunConfig.from_dict(job["config"])
        printer = ProgressPrinter(quiet=True)
        control = TrainingControl()
        trainer, until, append, session = None, None, False, None
        if out.exists():
            try:
                session = Session.open(out)
            except StudioError as e:   # damaged, or cut short: this run starts again
                print(f"note: {e}; training it again", file=sys.stderr)
                session = None
        if session is not None:
            with session:
                stored = session.run()
                run_id = stored.run_id
                if not same_run(stored.config, config):
                    print(f"error: {out} holds a run of other settings; pass --force to the "
                          f"sweep to replace it", file=sys.stderr)
                    return 2
                ck = stored.checkpoint()
                more = config.optim.epochs - (ck.epoch if ck is not None else 0)
                if stored.status == "completed" and more <= 0:
                    return 0
                if ck is not None and ck.optimizers and more > 0:
                    trainer, until = resume_trainer(stored, more, config.device)
                    append = True
        budget = job.get("weights_budget")
        writer = SessionWriter(out, append=append, force=not append,
                               **({} if budget is None else {"weights_budget": int(budget)}))
        listeners = [writer, printer]

        def emit(event):
            for listener in listeners:
                listener(event)

        try:
            with stop_on_interrupt(control):
                if trainer is None:
                    Trainer(config).run(emit, control)
                else:
                    writer(RunOpened(job_id="", run_id=run_id))
                    trainer.run(emit, control, until_epoch=until)
        finally:
            writer.close()
        return exit_code(printer.outcome)
    except StudioError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        os.close(lock)


def _lock(path: Path) -> int | None:
    """An exclusive lock on ``path`` (created), or None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        import fcntl
    except ImportError:  # Windows: no flock; a sweep folder is one user's anyway
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


if __name__ == "__main__":
    sys.exit(main())
