"""The process that trains one run of a sweep: ``python -m engine.sweep.worker`` (job on stdin).

The job is one line of JSON on stdin: ``{"config": {...}, "out": "DIR/beta=1.h5",
"threads": 1, "weights_budget": null}`` (bytes of weights the session keeps; null: the
default). A new run trains into a new session; a run whose file holds
the same config, stopped or killed before its last epoch, continues from its
checkpoint in the same file (one killed before its first checkpoint trains
anew); a completed one is left as it is. The worker holds an exclusive lock
on ``DIR/.<name>.lock`` while it trains, so two sweeps never write one file;
it waits a little for a lock held by a worker that is stopping. Ctrl+C
(SIGINT, which the sweep forwards) stops after the current batch and keeps
the epochs done.

The worker dies with its sweep: the sweep keeps its end of stdin open, and
the kernel closes it when the sweep ends, however it ends (``kill -9`` of
its process group included) and on every platform. The worker then stops
after its batch, as after Ctrl+C, so its file says ``stopped`` and the same
sweep command continues it.

Prints the trainer's epoch lines on stdout; exits 0 (completed or
stopped), 1 (the run failed), 2 (a problem to report, on stderr), 3 (the
run is locked by another process), 130 (the sweep was gone before training).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from engine.control import TrainingControl

BUSY = 3
SWEEP_GONE = 130
#: How long a worker waits for the lock of a run another worker holds (one stopping
#: after its sweep was killed releases it within a batch and a commit).
LOCK_WAIT_S = 30.0
#: How long a worker whose sweep is gone may take to stop cleanly before it just exits
#: (its file is crash-safe either way; it loses at most the epoch in progress).
STOP_GRACE_S = 60.0


def main() -> int:
    job = json.loads(_first_line(sys.stdin.fileno()))
    control = TrainingControl()
    stop_with_sweep(control, sys.stdin.fileno())
    threads = int(job.get("threads", 1))
    import torch
    torch.set_num_threads(max(1, threads))
    from engine.cli.common import ProgressPrinter, exit_code, stop_on_interrupt
    from engine.config import RunConfig
    from engine.errors import StudioError
    from engine.jobs.folder import COMPLETE, OTHER, RunFolder, same_run

    out = Path(job["out"])
    lock = _lock(out.with_name(f".{out.stem}.lock"), control,
                 float(job.get("lock_wait_s", LOCK_WAIT_S)))
    if lock is None:
        if control.stop_requested:
            return SWEEP_GONE
        print(f"{out.name} is being trained by another process", file=sys.stderr)
        return BUSY
    try:
        config = RunConfig.from_dict(job["config"])
        folder = RunFolder(out.parent)
        stored = folder.stored(out.name, config, same=same_run)
        if stored.note:   # damaged, or cut short: this run starts again
            print(f"note: {stored.note}; training it again", file=sys.stderr)
        if stored.state == OTHER:
            print(f"error: {out} holds a run of other settings; pass --force to the "
                  f"sweep to replace it", file=sys.stderr)
            return 2
        if stored.state == COMPLETE:
            return 0
        if control.stop_requested:   # the sweep is gone: leave the file as it is
            return SWEEP_GONE
        printer = ProgressPrinter(quiet=True)
        with stop_on_interrupt(control):
            folder.train(out.name, config, stored, printer, control,
                         weights_budget=job.get("weights_budget"))
        return exit_code(printer.outcome)
    except StudioError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        os.close(lock)


def _first_line(fd: int) -> str:
    """The job: stdin up to its first newline (or its end), read from the file descriptor
    itself (sys.stdin's buffer would read ahead, and its lock, held by a thread blocked in
    a read, would hang the interpreter's exit)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8")


def stop_with_sweep(control: TrainingControl, fd: int) -> threading.Thread:
    """Stop ``control`` when the sweep's pipe (file descriptor ``fd``) reaches its end.

    The sweep writes nothing after the job line and never closes the pipe while the
    worker runs, so its end means the sweep is gone. Nobody reads this process's output
    any more then: it goes to the null device (a write would raise BrokenPipeError).
    """
    def watch() -> None:
        try:
            while os.read(fd, 4096):
                pass
        except OSError:
            pass
        null = os.open(os.devnull, os.O_WRONLY)
        for out in (1, 2):
            os.dup2(null, out)
        control.stop()
        # The run stops after its batch; should it not (stuck in a long evaluation), go.
        timer = threading.Timer(STOP_GRACE_S, os._exit, (SWEEP_GONE,))
        timer.daemon = True
        timer.start()

    thread = threading.Thread(target=watch, name="sweep-watch", daemon=True)
    thread.start()
    return thread


def _lock(path: Path, control: TrainingControl, wait_s: float) -> int | None:
    """An exclusive lock on ``path`` (created), or None when another process holds it
    for ``wait_s`` seconds (or the sweep is gone meanwhile)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        import fcntl
    except ImportError:  # Windows: no flock; a sweep folder is one user's anyway
        return fd
    start, told = time.monotonic(), False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError:
            pass
        waited = time.monotonic() - start
        if waited >= wait_s or control.stop_requested:
            os.close(fd)
            return None
        if waited > 1.0 and not told:
            print(f"note: another process holds {path.stem.lstrip('.')}; waiting up to "
                  f"{wait_s:.0f} s for it to stop", file=sys.stderr, flush=True)
            told = True
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
