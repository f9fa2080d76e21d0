""":class:`Session`: a session file opened for replay, inspection and resume.

A session holds one or more runs (:class:`SessionRun`): a plain run has one
(``main``), a greedy stack its stages and the stack, a comparison its
classifier runs. Opening reads the small parts at once — format, every
run's config, data description, loss history and per-epoch means — and
checks them. Snapshots, decoders and checkpoints are read (and checked)
when asked for, so opening a long run and jumping to any epoch stays fast.

Version 1 files (written before runs had groups of their own) open through
:mod:`engine.session.version1` into the same objects.

The file is opened read-only and never changed. A damaged file can make
HDF5 fail in many ways (OSError, KeyError, ValueError, ...); every public
method turns whatever happens into one :class:`~engine.errors.SessionError`
that names the file and the problem, so callers catch a single type.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import h5py

from engine.errors import SessionError
from engine.events import Checkpoint, EpochSnapshot, RunPlan
from engine.models import family_class
from engine.session import loaders, version1, weights
from engine.session.runs import SessionJob, SessionRun, reading
from engine.session.schema import (FORMAT_NAME, PRETRAINING_FORMAT_V1, STATUSES, fail, plain,
                                   require_attr, require_group)


class Session:
    """A session file. Open with :meth:`Session.open`.

    Attributes
    ----------
    path : the file.
    format_version : the session format the file uses (1, 2 or 3).
    app_version : the Autoencoder Studio version that created it.
    created : creation time (timezone-aware).
    runs : run id -> :class:`SessionRun`, in the order they were trained.
    jobs : job id -> :class:`SessionJob`.
    primary : the id of the run to show first (the result of the file).
    problems : run id -> why that run could not be read; the file opens with the
        others (but not when the primary run is damaged).
    """

    def __init__(self, path: Path, file: h5py.File):
        self.path = path
        self._f = file
        self.runs: dict[str, SessionRun] = {}
        self.jobs: dict[str, SessionJob] = {}
        self.primary = ""
        #: run id -> why that run could not be read (the others are)
        self.problems: dict[str, str] = {}
        self._released = False
        fmt, self.format_version, self.app_version, self.created = loaders.load_format(
            path, file, (FORMAT_NAME, PRETRAINING_FORMAT_V1))
        if fmt == PRETRAINING_FORMAT_V1 or self.format_version == 1:
            version1.load(self, file, fmt)
        else:
            self._load_v2(file)
        if self.primary in self.problems or (not self.runs and self.problems):
            raise SessionError(self.problems.get(self.primary) or next(iter(self.problems.values())))
        if not self.runs:
            raise fail(path, "holds no run yet (it was created but nothing was recorded)")
        if self.primary not in self.runs:
            self.primary = next(iter(self.runs))

    def _load_v2(self, root: h5py.File) -> None:
        path = self.path
        primary = plain(root.attrs.get("primary", ""))
        self.primary = primary if isinstance(primary, str) else ""
        for job_id, g in require_group(path, root, "jobs").items():
            plan = loaders._json(path, g, "plan", require_attr(path, g, "plan", str))
            self.jobs[job_id] = SessionJob(
                job_id=job_id, kind=require_attr(path, g, "kind", str),
                title=require_attr(path, g, "title", str),
                spec_json=require_attr(path, g, "spec", str),
                plan=[RunPlan(run_id=str(p["run_id"]), title=str(p["title"]),
                              role=str(p["role"]), meta=dict(p.get("meta", {})))
                      for p in plan])
        groups = require_group(path, root, "runs")
        order = sorted(groups.items(), key=lambda kv: (plain(kv[1].attrs.get("order", 0)), kv[0]))
        for run_id, g in order:
            try:
                with reading(path, f"run '{run_id}'"):
                    self.runs[run_id] = self._load_run_v2(run_id, g)
            except SessionError as e:
                # One damaged run need not hide the others: open what is readable, and
                # say what is not (the primary run must be readable, see __init__).
                self.problems[run_id] = str(e)

    def _load_run_v2(self, run_id: str, g: h5py.Group) -> SessionRun:
        path = self.path
        config = loaders.load_config(path, g)
        data = loaders.load_data(path, g)
        history = loaders.load_history(path, g)
        epochs = loaders.load_epochs(path, g, list(history))
        snaps = require_group(path, g, "snapshots")
        index, steps = loaders.load_snapshot_index(path, snaps)
        rows = {int(e): (i, int(s)) for i, (e, s) in enumerate(zip(index, steps))}
        name = g.name
        # Weights are kept at some epochs only (weights.py): in the pool, and the run's
        # last epoch in its checkpoint. Which, is read again with them: a writer that
        # continues the file meanwhile (the window's Continue) reuses the pool's slots.
        parts = family_class(config).interactive_parts

        def kept_weights(run: h5py.Group) -> tuple[dict[int, int], list[int]]:
            slots = weights.load_index(path, run["snapshots"], sorted(rows))
            at_checkpoint = weights.checkpoint_epoch(run)
            return slots, sorted(set(slots) | ({at_checkpoint} if at_checkpoint in rows
                                               else set()))

        def read_snapshot(f: h5py.File, epoch: int) -> EpochSnapshot:
            row, step = rows[epoch]
            return loaders.load_snapshot(path, f[name]["snapshots"], row, epoch, step, data)

        def read_kept(f: h5py.File) -> list[int]:
            return kept_weights(f[name])[1]

        def read_weights(f: h5py.File, epoch: int) -> dict:
            slots, kept = kept_weights(f[name])
            if epoch in slots:
                return weights.load_slot(path, f[name]["snapshots"], slots[epoch])
            if epoch not in kept:
                raise fail(path, f"the weights of epoch {epoch} are no longer in the file")
            return weights.load_from_checkpoint(path, f[name], parts)

        def read_checkpoint(f: h5py.File) -> Checkpoint | None:
            ck = f[name].get("checkpoint")
            if ck is None:
                return None
            if not isinstance(ck, h5py.Group):
                raise fail(path, f"{name}/checkpoint should be a group")
            return loaders.load_checkpoint(path, ck, config, data)

        status = plain(g.attrs.get("status", "running"))
        message = plain(g.attrs.get("status_message"))
        meta = loaders._json(path, g, "meta", plain(g.attrs.get("meta", "{}")))
        return SessionRun(
            session=self, run_id=run_id, title=str(plain(g.attrs.get("title", run_id))),
            role=str(plain(g.attrs.get("role", "run"))), job_id=str(plain(g.attrs.get("job", ""))),
            meta=meta if isinstance(meta, dict) else {}, config=config, data=data,
            history=history, epoch_history=epochs, snapshot_epochs=sorted(rows),
            weight_epochs=kept_weights(g)[1], _read_weights=read_weights,
            _read_kept=read_kept,
            status=status if status in STATUSES else "running",
            status_message=message if isinstance(message, str) else None,
            steps_per_epoch=int(plain(g.attrs.get("steps_per_epoch", 0)) or 0),
            _read_snapshot=read_snapshot, _read_checkpoint=read_checkpoint)

    # -- opening and closing ---------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> "Session":
        """Open and check a session file.

        Raises
        ------
        SessionError
            When the file is missing, not HDF5, cut short, from another
            program, incomplete, of a newer format version, or damaged.
        """
        path = Path(path)
        if not path.exists():
            raise fail(path, "does not exist")
        if path.is_dir():
            raise fail(path, "is a folder, not a session file")
        f = _open_locked(path)
        try:
            with reading(path, "the session header"):
                return cls(path, f)
        except BaseException:
            f.close()
            raise

    @contextmanager
    def file(self):
        """The open file; after :meth:`release`, the newest version, opened for the read."""
        if self._f is not None:
            yield self._f
            return
        if not self._released:
            raise fail(self.path, "the session is closed")
        f = _open_locked(self.path)
        try:
            yield f
        finally:
            f.close()

    def close(self) -> None:
        """Close the file; the values already read stay usable."""
        if self._f is not None:
            try:
                self._f.close()
            except Exception:  # noqa: BLE001 - closing a damaged file must not raise
                pass
            self._f = None

    def release(self) -> None:
        """Close the file but keep reading on demand (a writer may replace the file: a
        handle kept across its commits would pin an old version)."""
        self.close()
        self._released = True

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- runs --------------------------------------------------------------------------
    def run(self, run_id: str | None = None) -> SessionRun:
        """The run ``run_id`` (default: the primary run); SessionError naming the known ones."""
        run_id = self.primary if run_id is None else run_id
        if run_id not in self.runs:
            raise fail(self.path, f"has no run '{run_id}' (it has: {', '.join(self.runs)})")
        return self.runs[run_id]

    def job_runs(self, job_id: str) -> list[SessionRun]:
        """The stored runs of a job, in its plan's order."""
        job = self.jobs.get(job_id)
        ids = [p.run_id for p in job.plan] if job else []
        return [self.runs[r] for r in ids if r in self.runs]

    @property
    def file_size(self) -> int:
        """Size of the file in bytes."""
        return self.path.stat().st_size


def open_h5_for_reading(path: str | Path) -> h5py.File:
    """Open any of the app's HDF5 files read-only, with a shared HDF5 lock.

    Every read-only open in the app goes through here: HDF5 refuses to open a
    file that this process already has open with other locking settings. The
    lock tells a writer not to reuse this version of the file as its spare
    (see atomic.py); 'best-effort' still opens on file systems without locks.
    A writer holds its exclusive lock only on a version it has just replaced,
    so a conflict means the path now names a newer version: retry.

    Raises
    ------
    BlockingIOError
        When the file stays locked; h5py's own errors for a bad file.
    """
    for attempt in range(4):
        try:
            return h5py.File(path, "r", locking="best-effort")
        except BlockingIOError:
            time.sleep(0.02 * (attempt + 1))
    return h5py.File(path, "r", locking="best-effort")  # the last try raises its error


def _open_locked(path: Path) -> h5py.File:
    """:func:`open_h5_for_reading`, its errors as SessionError naming the problem."""
    try:
        return open_h5_for_reading(path)
    except BlockingIOError:
        raise fail(path, "is locked by another program that is writing it") from None
    except Exception as e:  # noqa: BLE001 - h5py reports bad files as several types
        raise fail(path, _open_problem(e)) from None


def _open_problem(e: Exception) -> str:
    text = str(e)
    if isinstance(e, PermissionError) or "Permission denied" in text:
        return "cannot be read (permission denied)"
    if "truncated" in text:
        return "is cut short (truncated): the file was not completely written or copied"
    if "signature" in text or "not an HDF5" in text.lower():
        return "is not an HDF5 file, so not a session (or its first bytes are damaged)"
    first = text.splitlines()[0][:200] if text else type(e).__name__
    return f"cannot be opened as an HDF5 file: it is damaged ({first})"
