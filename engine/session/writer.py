""":class:`SessionWriter`: a listener that records runs — one, or a job's several — into a session file.

The writer keeps what arrives between epoch ends in memory — history rows,
epoch means, snapshots — and commits it in one atomic step
(:class:`~engine.session.atomic.AtomicH5File`) at every epoch end and when
a run stops, fails or ends. A commit is published (fsync, rename) on a
background thread, and the next epoch's end waits for it: once epoch k has
ended, epochs 1..k-1 are on disk. The file on disk always opens. The
published file is never open for writing, so other processes (and the
GUI's replay) can read it at any time.

The checkpoint — the state to resume from, not history — goes into the
commit of an epoch end only when about ``checkpoint_seconds`` (30 s) would
otherwise pass without one, and always when a run stops, fails or ends: so
a kill loses at most the larger of one epoch and about 30 s of training,
and a short run writes its megabytes of model and optimiser state once.

Events of a plain run go to ``/runs/main``. A job's ``JobStarted`` is stored
under ``/jobs`` and each ``RunOpened`` switches the run the next events
belong to; a ``RunStarted`` for a run the file already has continues it
(a resume).
"""

from __future__ import annotations

import errno
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import engine
from engine.errors import SessionError
from engine.events import (CheckpointSaved, EpochEnded, EpochSnapshot, Event, JobStarted,
                           RunFailed, RunFinished, RunOpened, RunPlan, RunStarted, StepMetrics)
from engine.session.atomic import AtomicH5File
from engine.session.batch import Batch, NewRun
from engine.session.schema import FORMAT_VERSION, MAIN_RUN, fail
from engine.session.weights import DEFAULT_BUDGET
from engine.session.write_errors import disk_words, resume_words
from engine.session.tables import RowBuffer

FLUSH_ROWS = 8192  # history rows held in memory before a commit mid-epoch
CHECKPOINT_SECONDS = 30.0   # at most this much training (or one epoch) lost to a kill


class SessionWriter:
    """Writes the events of one or more runs into an HDF5 session file.

    Use it as (or inside) the ``emit`` callable passed to ``Trainer.run`` or a job::

        with SessionWriter("run.h5") as writer:
            trainer.run(writer)

    Parameters
    ----------
    path : the session file to create (or, with ``append``, to continue).
    force : replace an existing file; without it an existing file is an error
        and is never touched.
    snapshot_every : keep the snapshot of every k-th epoch (and of a run's
        last epoch); None keeps every snapshot the trainer sends.
    append : add to an existing session: continue its runs (a resume) or add
        new ones (a comparison on a trained run).
    flush_rows : commit once this many history rows wait, even mid-epoch.
    durable : fsync every commit (survives a power cut, not only a crash).
    background : publish commits on a background thread (see ``atomic.py``);
        False publishes before the listener call returns.
    weights_budget : bytes of interactive weights each run keeps, at a thinning set of
        epochs (``weights.py``); the run's last epoch is in its checkpoint besides.
    checkpoint_seconds : write the checkpoint at an epoch end once this many seconds
        would otherwise pass without one (0: at every epoch end).

    Raises
    ------
    SessionError
        When the file exists (without ``force``), is missing or not a version 2
        session (with ``append``), or its folder does not exist. Writing errors
        later (a full disk) are raised from the call that commits, as SessionError.
    """

    def __init__(self, path: str | Path, force: bool = False,
                 snapshot_every: int | None = None, *, append: bool = False,
                 flush_rows: int = FLUSH_ROWS, durable: bool = True, background: bool = True,
                 weights_budget: int = DEFAULT_BUDGET,
                 checkpoint_seconds: float = CHECKPOINT_SECONDS):
        self.path = Path(path)
        if snapshot_every is not None and snapshot_every < 1:
            raise SessionError(f"snapshot_every must be >= 1 (got {snapshot_every})")
        if not weights_budget >= 0:
            raise SessionError(f"the weights budget must be >= 0 bytes (got {weights_budget})")
        self.snapshot_every = snapshot_every
        self.weights_budget = int(weights_budget)
        self.checkpoint_seconds = float(checkpoint_seconds)
        self._upgrade = False                      # an older file: brought up to date first
        self._epoch_clock = self._written_clock = time.monotonic()
        self.flush_rows = max(1, int(flush_rows))
        self._file = AtomicH5File(self.path, durable=durable, background=background)
        self._force = force
        self._new_file = not append
        self._runs: set[str] = set()               # run groups the file has
        self._jobs: dict[str, str] = {}            # job id -> its spec, in the file
        self._job_plans: dict[str, tuple[str, ...]] = {}
        self._primary: str | None = None
        self._check_target(force, append)
        self._job_id = ""
        self._plans: dict[str, RunPlan] = {}
        self._run_id = MAIN_RUN
        self._batch = Batch(run_id="")
        self._history = RowBuffer()
        self._epochs = RowBuffer()
        self._checkpoint: CheckpointSaved | None = None
        self._last_epoch: int | None = None
        self._wrote = False
        self._error: SessionError | None = None
        self._disk_full = ""     # why the disk refused, until the file says so
        self._closed = False

    # -- setup -------------------------------------------------------------------
    def _check_target(self, force: bool, append: bool) -> None:
        p = self.path
        if not p.parent.is_dir():
            raise fail(p, f"cannot write here: the folder {p.parent} does not exist")
        if p.is_dir():
            raise fail(p, "is a folder, not a file")
        _check_writable(p)
        if append:
            from engine.session.reader import Session
            with Session.open(p) as s:  # a clear error for anything that is not ours
                if s.format_version < 2:
                    raise fail(p, f"has session format {s.format_version}, from an earlier "
                                  "Autoencoder Studio: it opens, replays and exports, but new "
                                  "training cannot be added to it. Train a new run instead")
                self._upgrade = s.format_version < FORMAT_VERSION
                self._runs = set(s.runs)
                self._jobs = {j.job_id: j.spec_json for j in s.jobs.values()}
                self._job_plans = {j.job_id: tuple(p.run_id for p in j.plan)
                                   for j in s.jobs.values()}
                self._primary = s.primary
        elif p.exists() and not force:
            raise fail(p, "already exists; choose another name or pass --force to replace it")

    # -- the listener --------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        """Record one event; commits at run start, checkpoints, run ends and job steps."""
        if self._error is not None or self._closed:
            return  # a failed writer stays quiet so the trainer can report the first error
        if isinstance(event, StepMetrics):
            self._history.add({"step": event.step, "epoch": event.epoch,
                               "wall_time": event.wall_time, **event.terms})
            if len(self._history) >= self.flush_rows:
                self._commit(with_checkpoint=False)
        elif isinstance(event, EpochEnded):
            # The previous epoch's commit has had a whole epoch to finish: make sure it
            # has, so that once an epoch is reported every earlier one is on disk.
            self.wait()
            row = {"epoch": event.epoch, "step": event.step, "wall_time": event.wall_time}
            row.update({f"train/{k}": v for k, v in event.train.items()})
            row.update({f"val/{k}": v for k, v in event.val.items()})
            self._epochs.add(row)
        elif isinstance(event, EpochSnapshot):
            if event.preview:   # slow motion's mid-epoch view: for the screen, not the file
                return
            k = self.snapshot_every
            if k is None or event.epoch % k == 0 or event.epoch == self._last_epoch:
                self._batch.snapshots.append(event)
        elif isinstance(event, CheckpointSaved):
            # Every epoch end (and a stop): the epoch's rows and snapshot, and the
            # checkpoint when it is due (kept in memory until then).
            self._checkpoint = event
            self._commit(with_checkpoint=self._checkpoint_due(event))
        elif isinstance(event, RunStarted):
            self._start_run(event)
            self._epoch_clock = self._written_clock = time.monotonic()
            self.flush()
        elif isinstance(event, RunFinished):
            self._batch.status = (event.reason, None)
            self.flush()
        elif isinstance(event, RunFailed):
            self._batch.status = ("failed", event.message)
            self.flush()
        elif isinstance(event, JobStarted):
            self.flush()
            self._start_job(event)
        elif isinstance(event, RunOpened):
            self.flush()
            self._run_id = event.run_id

    def _start_job(self, job: JobStarted) -> None:
        self._job_id = job.job_id
        self._plans = {p.run_id: p for p in job.runs}
        if self._jobs.get(job.job_id) == job.spec_json:
            return  # the same job continued (a resume): its runs stay
        dropped = self._job_plans.get(job.job_id, ())
        self._batch.drop_runs = tuple(r for r in dropped if r in self._runs)
        self._runs -= set(dropped)
        self._batch.job = job
        self._jobs[job.job_id] = job.spec_json
        self._job_plans[job.job_id] = tuple(self._plans)
        if self._primary is None:
            stacks = [p.run_id for p in job.runs if p.role == "stack"]
            self._primary = self._batch.primary = (stacks or [job.runs[0].run_id])[0]

    def _start_run(self, event: RunStarted) -> None:
        self._last_epoch = event.total_epochs
        run_id = self._run_id
        if run_id in self._runs:
            self._batch.restart = event  # a resume (or a second run() of the same trainer)
            return
        plan = self._plans.get(run_id) or RunPlan(run_id=run_id, title=event.config.name,
                                                  role="run")
        self._batch.new_run = NewRun(started=event, plan=plan, job_id=self._job_id,
                                     order=len(self._runs))
        self._runs.add(run_id)
        if self._primary is None:
            self._primary = self._batch.primary = run_id

    def _checkpoint_due(self, event: CheckpointSaved) -> bool:
        """Write this checkpoint now? Yes when waiting for the next epoch's end would let
        more than ``checkpoint_seconds`` pass without one (that epoch is assumed to last
        as long as this one), so a kill loses at most max(one epoch, ~30 s). Measured on
        the clock, not on training time: a pause or slow data only brings it forward."""
        now = time.monotonic()
        epoch_seconds, self._epoch_clock = now - self._epoch_clock, now
        if event.checkpoint.position:   # a stop or failure mid-epoch: the run ends here
            return True
        return (now - self._written_clock) + epoch_seconds >= self.checkpoint_seconds

    # -- committing ------------------------------------------------------------------
    def flush(self) -> None:
        """Commit everything received so far (atomically).

        Returns once the new version is built; :meth:`wait` waits until it is
        published on disk.
        """
        self._commit(with_checkpoint=True)

    def _commit(self, with_checkpoint: bool) -> None:
        if self._error is not None:
            raise self._error
        if self._new_file and not self._wrote and self._batch.new_run is None:
            # A session opens only once it holds a run: a job's header waits for its
            # first run, so a crash before that leaves no file rather than one that
            # cannot be opened or resumed.
            return
        batch = self._take_batch(with_checkpoint)
        if not batch:
            return
        fresh = batch.new_file
        if fresh and self.path.exists() and not self._force:
            # Created by someone else since this writer was made: still never overwrite.
            self._error = fail(self.path, "already exists; pass --force to replace it")
            raise self._error
        self._wrote = True
        self._guard(lambda: self._file.commit(batch, fresh))

    def wait(self) -> None:
        """Wait until every commit so far is on disk."""
        if self._error is not None:
            raise self._error
        self._guard(self._file.wait)

    def _guard(self, call) -> None:
        try:
            call()
        except SessionError as e:
            self._error = e
        except OSError as e:
            self._error = fail(self.path, disk_words(e, self.path, self._kept_words()))
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                self._disk_full = "disk full" if e.errno == errno.ENOSPC else "disk quota used up"
        except Exception as e:  # noqa: BLE001 - HDF5's own failures: one error here
            self._error = fail(self.path, f"cannot write the session: {e}")
        if self._error is not None:
            self._file.discard()   # frees the spare version: room to say what happened
            self._mark_stopped()
            raise self._error

    def _mark_stopped(self) -> None:
        """After a full disk: mark the run 'stopped' with the reason, if the file can be
        written again (discarding the spare freed about a file's size). Otherwise it says
        'running' as after a crash, and this is tried again on :meth:`close`."""
        if not self._disk_full or self._run_id not in self._runs or not self.path.exists():
            return
        status = Batch(run_id=self._run_id, status=("stopped", f"{self._disk_full}: "
                       f"{resume_words(self.path)}"))
        try:
            self._file.commit(status)
            self._file.wait()
        except Exception:  # noqa: BLE001 - still no room: the first error is the one to tell
            self._file.discard()
            return
        self._disk_full = ""

    def _kept_words(self) -> str:
        """What the file on disk still holds, after a failed commit (read back from it)."""
        if not self.path.exists():
            return "nothing was saved (the session file could not be created)"
        run_id = self._run_id
        try:
            from engine.session.reader import open_h5_for_reading
            with open_h5_for_reading(self.path) as f:
                table = f["runs"][run_id]["epochs"]
                epoch = int(table["epoch"][-1]) if table.shape[0] else 0
        except Exception:  # noqa: BLE001 - an error message must not fail in turn
            return "the session file keeps what was saved before this epoch"
        run = f" of run '{run_id}'" if run_id != MAIN_RUN else ""
        if epoch <= 0:
            return f"the session file holds the settings{run} but no epoch yet"
        return f"the session file keeps epochs 1-{epoch}{run}"

    def _take_batch(self, with_checkpoint: bool) -> Batch:
        batch, self._batch = self._batch, Batch(run_id="")
        batch.run_id = self._run_id if (batch.new_run or self._run_id in self._runs) else ""
        if self._new_file and not self._wrote:
            batch.new_file = True
            batch.created = datetime.now(timezone.utc).isoformat(timespec="seconds")
            batch.app_version = engine.__version__
        batch.history, batch.epochs = self._history.take(), self._epochs.take()
        ck = self._checkpoint if with_checkpoint else None
        if ck is not None:
            batch.checkpoint = ck
            self._checkpoint = None
            self._written_clock = time.monotonic()
        batch.weights_budget = self.weights_budget
        if self._upgrade and batch.run_id:
            batch.upgrade, self._upgrade = True, False
        return batch

    @property
    def publish_cpu_seconds(self) -> float:
        """CPU time spent publishing on the background thread (for benchmarks)."""
        return self._file.publisher.cpu_seconds

    @property
    def copies(self) -> int:
        """Whole-file copies made so far: 1 for a new session, more only while a
        reader kept an old version of the file open (see ``atomic.py``)."""
        return self._file.copies

    # -- closing ------------------------------------------------------------------------
    def close(self) -> None:
        """Commit whatever is still pending and remove the temporary file."""
        if self._closed:
            return
        try:
            if self._error is None:
                self.flush()
                self.wait()
        finally:
            self._closed = True
            try:
                self._file.wait()
            except Exception:  # noqa: BLE001 - already reported (or raised above)
                pass
            self._file.discard()
            self._mark_stopped()

    def __enter__(self) -> "SessionWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _check_writable(path: Path) -> None:
    """Raise SessionError now, before any training, if ``path``'s folder takes no new file.

    Creating (and removing) a small file is the only test that holds on every
    file system: permission bits say nothing of a read-only mount, nor of root.
    """
    probe = path.with_name(f".{path.name}.{os.getpid()}.probe")
    try:
        with open(probe, "xb") as f:
            f.write(b"autoencoder studio")
        probe.unlink()
    except FileExistsError:
        pass  # a probe of another writer of this process: the folder takes files
    except OSError as e:
        raise fail(path, disk_words(e, path, "nothing was written")) from None
