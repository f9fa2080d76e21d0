"""What one commit adds to a session file, kept as data until it is written.

A :class:`Batch` gathers the events between two commits. Calling it writes
them into an open file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import h5py

from engine.events import CheckpointSaved, EpochSnapshot, RunStarted
from engine.session import layout
from engine.session.h5fast import set_text
from engine.session.tables import append_rows


@dataclass
class Batch:
    """Events waiting for the next commit.

    Attributes
    ----------
    header : the RunStarted of a new session (writes format, config, data), or None.
    created, app_version : written with the header.
    restart : the RunStarted of a resumed run: rows after its start are dropped first.
    history : rows of the step history (column -> value).
    epochs : rows of the epoch table (``epoch``, ``train/<term>``, ``val/<term>``, ...).
    snapshots : (snapshot, epoch of an earlier snapshot with identical probe_inputs or None).
    checkpoint : the latest checkpoint, or None.
    status : (status, message) of a finished run, or None.
    checkpoint_seconds : time spent writing the checkpoint (read by the pacer).
    """

    header: RunStarted | None = None
    created: str = ""
    app_version: str = ""
    restart: RunStarted | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    epochs: list[dict[str, float]] = field(default_factory=list)
    snapshots: list[tuple[EpochSnapshot, int | None]] = field(default_factory=list)
    checkpoint: CheckpointSaved | None = None
    status: tuple[str, str | None] | None = None
    checkpoint_seconds: float = 0.0

    def __bool__(self) -> bool:
        """Is there anything to commit?"""
        return bool(self.header or self.restart or self.history or self.epochs
                    or self.snapshots or self.checkpoint or self.status)

    def __call__(self, f: h5py.File) -> None:
        """Write the batch into ``f`` (the run group is the file's root)."""
        if self.header is not None:
            layout.write_header(f, self.header, self.app_version, self.created)
        if self.restart is not None:
            layout.truncate_run(f, self.restart.start_step, self.restart.start_epoch - 1)
            set_text(f["config"], "json", self.restart.config_json)
            layout.write_run_attrs(f, self.restart)
        append_rows(f["history"], self.history)
        append_rows(f["epochs"], self.epochs)
        for snap, same_inputs in self.snapshots:
            layout.write_snapshot(f["snapshots"], snap, same_inputs)
        if self.checkpoint is not None:
            t = time.perf_counter()
            layout.write_checkpoint(f, self.checkpoint.checkpoint, self.checkpoint.stage)
            self.checkpoint_seconds = time.perf_counter() - t
        if self.status is not None:
            layout.set_status(f, *self.status)
