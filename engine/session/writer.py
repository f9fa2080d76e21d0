""":class:`SessionWriter`: a trainer listener that records a run into a session file.

The writer keeps what arrives between checkpoints in memory — history rows,
epoch means, snapshots — and commits it in one atomic step
(:class:`~engine.session.atomic.AtomicH5File`) when the trainer saves a
checkpoint: at every epoch end and when a run stops or fails. A commit is
published (fsync, rename) on a background thread, and the next epoch's end
waits for it. So a killed process loses at most the last completed epoch
(if its commit was still in flight) and the one in progress: once epoch k
has ended, epochs 1..k-1 are on disk. The file on disk always opens. The
published file is never open for writing, so other processes (and the
GUI's replay) can read it at any time."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import engine
from engine.errors import SessionError
from engine.events import (CheckpointSaved, EpochEnded, EpochSnapshot, Event, RunFailed,
                           RunFinished, RunStarted, StepMetrics)
from engine.session.atomic import AtomicH5File
from engine.session.batch import Batch
from engine.session.tables import RowBuffer
from engine.session.pacing import CheckpointPacer
from engine.session.schema import FORMAT_VERSION, fail

FLUSH_ROWS = 8192  # history rows held in memory before a commit mid-epoch


class SessionWriter:
    """Writes the events of one run into an HDF5 session file.

    Use it as (or inside) the ``emit`` callable passed to ``Trainer.run``::

        with SessionWriter("run.h5") as writer:
            trainer.run(writer)

    Parameters
    ----------
    path : the session file to create (or, with ``append``, to continue).
    force : replace an existing file; without it an existing file is an error
        and is never touched.
    snapshot_every : keep the snapshot of every k-th epoch (and of the run's
        last epoch); None keeps every snapshot the trainer sends.
    append : continue an existing session (a resumed run). When the run starts,
        history, epochs and snapshots after its starting point are dropped,
        then the new ones follow on.
    flush_rows : commit once this many history rows wait, even mid-epoch.
    checkpoint_share : most of the training time to spend writing intermediate
        checkpoints (see ``pacing.py``); None writes one at every epoch end. The
        last checkpoint of a run is always written.
    durable : fsync every commit (survives a power cut, not only a crash).
    background : publish commits on a background thread (see ``atomic.py``);
        False publishes before the listener call returns.

    Raises
    ------
    SessionError
        When the file exists (without ``force``), is missing or not a session
        (with ``append``), or its folder does not exist. Writing errors later
        (a full disk) are raised from the call that commits, as SessionError.
    """

    def __init__(self, path: str | Path, force: bool = False,
                 snapshot_every: int | None = None, *, append: bool = False,
                 flush_rows: int = FLUSH_ROWS, checkpoint_share: float | None = 0.005,
                 durable: bool = True, background: bool = True):
        self.path = Path(path)
        if snapshot_every is not None and snapshot_every < 1:
            raise SessionError(f"snapshot_every must be >= 1 (got {snapshot_every})")
        self.snapshot_every = snapshot_every
        self.flush_rows = max(1, int(flush_rows))
        self._file = AtomicH5File(self.path, durable=durable, background=background)
        self._pacer = CheckpointPacer(checkpoint_share)
        self._check_target(force, append)
        self._force = force
        self._append = append
        self._started = False      # has this writer committed a run's start?
        self._pending_header: RunStarted | None = None
        self._pending_restart: RunStarted | None = None
        self._history = RowBuffer()
        self._epochs = RowBuffer()
        self._snapshots: list[tuple[EpochSnapshot, int | None]] = []
        self._checkpoint: CheckpointSaved | None = None
        self._status: tuple[str, str | None] | None = None
        self._last_inputs: tuple[np.ndarray, int] | None = None
        self._last_epoch: int | None = None
        self._error: SessionError | None = None
        self._closed = False

    # -- setup -------------------------------------------------------------------
    def _check_target(self, force: bool, append: bool) -> None:
        p = self.path
        if not p.parent.is_dir():
            raise fail(p, f"cannot write here: the folder {p.parent} does not exist")
        if p.is_dir():
            raise fail(p, "is a folder, not a file")
        if append:
            from engine.session.reader import Session
            with Session.open(p) as s:  # a clear error for anything that is not ours
                if s.format_version != FORMAT_VERSION:
                    raise fail(p, f"has format version {s.format_version}; this version "
                                  f"can only continue version {FORMAT_VERSION} sessions")
        elif p.exists() and not force:
            raise fail(p, "already exists; choose another name or pass --force to replace it")

    # -- the listener --------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        """Record one trainer event; commits at run start, checkpoints and run end."""
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
            if self._keep_snapshot(event.epoch):
                self._snapshots.append((event, self._link_inputs(event)))
        elif isinstance(event, CheckpointSaved):
            # Every epoch end: the epoch's rows and snapshot are committed now; the
            # checkpoint too unless the pacer says it is too soon (then it waits).
            self._checkpoint = event
            ck = event.checkpoint
            final = ck.position == 0 and ck.epoch == self._last_epoch
            self._commit(with_checkpoint=final or self._pacer.due(ck.wall_time))
        elif isinstance(event, RunStarted):
            self._start(event)
            self.flush()
        elif isinstance(event, RunFinished):
            self._status = (event.reason, None)
            self.flush()
        elif isinstance(event, RunFailed):
            self._status = ("failed", event.message)
            self.flush()

    def _start(self, event: RunStarted) -> None:
        self._last_epoch = event.total_epochs
        if self._append or self._started:
            self._pending_restart = event  # a resume (or a second run() of the same trainer)
            self._last_inputs = None       # its snapshot may be among those dropped
        else:
            self._pending_header = event

    def _keep_snapshot(self, epoch: int) -> bool:
        k = self.snapshot_every
        return k is None or epoch % k == 0 or epoch == self._last_epoch

    def _link_inputs(self, snap: EpochSnapshot) -> int | None:
        """The epoch of an already stored, identical probe_inputs array, or None."""
        last = self._last_inputs
        if last is not None and np.array_equal(last[0], snap.probe_inputs):
            return last[1]
        self._last_inputs = (snap.probe_inputs, snap.epoch)
        return None

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
        batch = self._take_batch(with_checkpoint)
        if not batch:
            return
        fresh = batch.header is not None
        if fresh and self.path.exists() and not self._force:
            # Created by someone else since this writer was made: still never overwrite.
            self._error = fail(self.path, "already exists; pass --force to replace it")
            raise self._error
        self._started = True
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
        except Exception as e:  # noqa: BLE001 - disk full, permissions, HDF5: one error here
            self._error = fail(self.path, f"cannot write the session: {e}")
        if self._error is not None:
            self._file.discard()
            raise self._error

    def _take_batch(self, with_checkpoint: bool) -> Batch:
        ck = self._checkpoint if with_checkpoint else None
        batch = Batch(header=self._pending_header, restart=self._pending_restart,
                      created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      app_version=engine.__version__,
                      history=self._history.take(), epochs=self._epochs.take(),
                      snapshots=self._snapshots, checkpoint=ck, status=self._status)
        if ck is not None:
            self._pacer.written(batch, ck.checkpoint.wall_time)
            self._checkpoint = None
        self._pending_header = self._pending_restart = None
        self._snapshots, self._status = [], None
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

    def __enter__(self) -> "SessionWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
