"""What one commit adds to a session file, kept as data until it is written.

A :class:`Batch` gathers the events of one run between two commits (and,
at a job's start, the job itself). Calling it writes them into an open file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import h5py

from engine.events import CheckpointSaved, EpochSnapshot, JobStarted, RunPlan, RunStarted
from engine.session import layout
from engine.session.tables import append_rows
from engine.session.weights import DEFAULT_BUDGET


@dataclass
class NewRun:
    """A run group to create: its first RunStarted, its plan, its job and its place."""

    started: RunStarted
    plan: RunPlan
    job_id: str
    order: int


@dataclass
class Batch:
    """Events waiting for the next commit.

    Attributes
    ----------
    run_id : the run the events belong to (``/runs/<run_id>``).
    new_file : write the root attributes first (a new session).
    upgrade : bring an older file to the current format first (``layout.upgrade``).
    weights_budget : bytes of interactive weights each run keeps (``weights.py``).
    created, app_version : written with them.
    job : a job that starts (its plan goes under ``/jobs``), or None.
    drop_runs : runs of an earlier job of the same id that this one replaces.
    primary : the run a reader shows first, set once per file.
    new_run : the run group to create, or None.
    restart : the RunStarted of a resumed run: rows after its start are dropped first.
    history : rows of the step history (column -> value).
    epochs : rows of the epoch table (``epoch``, ``train/<term>``, ``val/<term>``, ...).
    snapshots : the epochs' replay data.
    checkpoint : the latest checkpoint, or None.
    status : (status, message) of a finished run, or None.
    """

    run_id: str = ""
    new_file: bool = False
    upgrade: bool = False
    weights_budget: int = DEFAULT_BUDGET
    created: str = ""
    app_version: str = ""
    job: JobStarted | None = None
    drop_runs: tuple[str, ...] = ()
    primary: str | None = None
    new_run: NewRun | None = None
    restart: RunStarted | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    epochs: list[dict[str, float]] = field(default_factory=list)
    snapshots: list[EpochSnapshot] = field(default_factory=list)
    checkpoint: CheckpointSaved | None = None
    status: tuple[str, str | None] | None = None

    def __bool__(self) -> bool:
        """Is there anything to commit?"""
        return bool(self.new_file or self.job or self.drop_runs or self.primary or self.new_run or self.restart
                    or self.history or self.epochs or self.snapshots or self.checkpoint
                    or self.status)

    def __call__(self, f: h5py.File) -> None:
        """Write the batch into ``f``."""
        if self.new_file:
            layout.write_root(f, self.app_version, self.created)
        if self.upgrade:
            layout.upgrade(f)
        for run_id in self.drop_runs:
            if run_id in f["runs"]:
                del f["runs"][run_id]
        if self.job is not None:
            layout.write_job(f, self.job)
        if self.primary is not None:
            layout.set_primary(f, self.primary)
        if self.new_run is not None:
            n = self.new_run
            layout.write_run_header(f["runs"], self.run_id, n.started, n.plan, n.job_id, n.order)
        if not self.run_id:
            return
        run = f["runs"][self.run_id]
        if self.restart is not None:
            layout.truncate_run(run, self.restart.start_step, self.restart.start_epoch - 1)
            layout.write_run_attrs(run, self.restart)
        append_rows(run["history"], self.history)
        append_rows(run["epochs"], self.epochs)
        for snap in self.snapshots:
            layout.write_snapshot(run["snapshots"], snap, self.weights_budget)
        if self.checkpoint is not None:
            layout.write_checkpoint(run, self.checkpoint.checkpoint)
        if self.status is not None:
            layout.set_status(run, *self.status)
