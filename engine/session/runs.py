"""The parts of an opened session: its runs and its jobs, as :class:`Session` hands them out.

Each :class:`SessionRun` holds what was read at opening (config, data,
history, epoch means) and reads its snapshots and checkpoint on demand,
through functions the file's format version supplies (``reader.py`` for
version 2, ``version1.py`` for the files of earlier releases).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, ContextManager, Protocol

import h5py
import numpy as np

from engine.config import RunConfig
from engine.decoding import LatentDecoder
from engine.errors import SessionError
from engine.events import Checkpoint, DatasetInfo, EpochSnapshot, RunPlan
from engine.session.schema import fail
from engine.session.weights import nearest

class OpenSession(Protocol):
    """What a run needs of the :class:`~engine.session.reader.Session` it belongs to."""

    path: Path
    runs: dict
    jobs: dict
    primary: str

    def file(self) -> ContextManager[h5py.File]:
        ...


@contextmanager
def reading(path: Path, what: str):
    """Turn any failure while reading ``what`` into a SessionError naming the file."""
    try:
        yield
    except SessionError:
        raise
    except MemoryError:
        raise fail(path, f"{what} is too large to load; the file is probably damaged") from None
    # A damaged file can make h5py or numpy raise nearly anything; each is the same
    # problem to the user, so one message (with the library's words) covers them all.
    except Exception as e:
        detail = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise fail(path, f"cannot read {what}: the file is damaged or incomplete "
                         f"({detail})") from None


@dataclass
class SessionRun:
    """One recorded run of a session.

    Attributes
    ----------
    run_id : its name (``main``, ``stage-2``, ``stack``, ``classifier-random-100``).
    title, role : what it is (see :class:`~engine.events.RunPlan`); ``meta`` its facts.
    job_id : the job it belongs to (``""`` for none).
    config : its :class:`RunConfig` (epochs = the last epoch trained for).
    data : the data description and probe images.
    history : term -> (n,) float64 per logged step, plus 'step', 'epoch' (int64)
        and 'wall_time' (float64, seconds of training).
    epoch_history : {'epoch', 'step', 'wall_time': (E,) arrays, 'train': term ->
        (E,) epoch means on the training batches, 'val': term -> (E,) on the
        validation set}.
    snapshot_epochs : sorted epochs that have a snapshot.
    weight_epochs : sorted epochs whose interactive weights are kept (a bounded set:
        ``weights.py``); every snapshot epoch in a file written before that.
    status : 'running' (or killed while running), 'completed', 'stopped' or 'failed'.
    status_message : why a run failed, else None.
    """

    session: OpenSession
    run_id: str
    title: str
    role: str
    job_id: str
    meta: dict
    config: RunConfig
    data: DatasetInfo
    history: dict[str, np.ndarray]
    epoch_history: dict
    snapshot_epochs: list[int]
    status: str
    status_message: str | None
    steps_per_epoch: int = 0
    weight_epochs: list[int] | None = None
    #: reads the snapshot of an epoch (set by the version's loader)
    _read_snapshot: Callable[[h5py.File, int], EpochSnapshot] = field(repr=False, default=None)
    #: reads the weights of a kept epoch; None when each snapshot carries its own (version 1)
    _read_weights: Callable[[h5py.File, int], dict] | None = field(repr=False, default=None)
    #: reads which epochs keep weights now (a writer may have continued the file)
    _read_kept: Callable[[h5py.File], list[int]] | None = field(repr=False, default=None)
    #: reads the checkpoint, or None (set by the version's loader)
    _read_checkpoint: Callable[[h5py.File], Checkpoint | None] = field(repr=False, default=None)
    _last_read: tuple[int, EpochSnapshot] | None = field(repr=False, default=None, compare=False)
    _last_weights: tuple[int, dict] | None = field(repr=False, default=None, compare=False)

    def __post_init__(self):
        if self.weight_epochs is None:
            self.weight_epochs = list(self.snapshot_epochs)

    @property
    def path(self) -> Path:
        return self.session.path

    @property
    def term_names(self) -> list[str]:
        return [k for k in self.history if k not in ("step", "epoch", "wall_time")] or \
            list(self.epoch_history.get("train", {}))

    @property
    def epochs_trained(self) -> int:
        """The last completed epoch (0 before the first one ends)."""
        ep = self.epoch_history["epoch"]
        return int(ep[-1]) if len(ep) else 0

    @property
    def last_step(self) -> int:
        """The run's last logged step: its length on a shared step axis."""
        for steps in (self.history.get("step", ()), self.epoch_history.get("step", ())):
            if len(steps):
                return int(steps[-1])
        return 0

    def weights_epoch_for(self, epoch: int) -> int | None:
        """The epoch whose weights stand in for ``epoch``'s: itself when kept, else the
        nearest earlier kept epoch (None when the run kept no weights)."""
        return nearest(self.weight_epochs, epoch)

    def snapshot(self, epoch: int) -> EpochSnapshot:
        """The replay data of one epoch: images, arrays and interactive weights — its own,
        or the nearest earlier kept ones (``weights_epoch`` then says which epoch's)."""
        if epoch not in self.snapshot_epochs:
            e = self.snapshot_epochs
            saved = f"{e[0]}..{e[-1]}" if e else "none"
            raise fail(self.path, f"run '{self.run_id}' has no snapshot for epoch {epoch} "
                                  f"(saved epochs: {saved})")
        if self._last_read is not None and self._last_read[0] == epoch:
            return self._last_read[1]    # snapshot() then decoder(): the file is read once
        with reading(self.path, f"the snapshot of epoch {epoch} of run '{self.run_id}'"):
            with self.session.file() as f:
                snap = self._read_snapshot(f, epoch)
                if self._read_kept is not None:
                    self.weight_epochs = self._read_kept(f)
                kept = self.weights_epoch_for(epoch) if self._read_weights else None
                if kept is not None:
                    snap = replace(snap, weights=self._weights_of(f, kept),
                                   weights_epoch=None if kept == epoch else kept)
        self._last_read = (epoch, snap)
        return snap

    def _weights_of(self, f: h5py.File, epoch: int) -> dict:
        # Many epochs share one kept set: read it once.
        if self._last_weights is None or self._last_weights[0] != epoch:
            self._last_weights = (epoch, self._read_weights(f, epoch))
        return self._last_weights[1]

    def decoder(self, epoch: int) -> LatentDecoder:
        """A CPU decoder with the weights of ``epoch``, or of the nearest earlier kept epoch
        (its ``weights_epoch`` says which)."""
        snap = self.snapshot(epoch)
        try:
            return LatentDecoder(self.config, self.data.image_shape, snap.weights,
                                 weights_epoch=snap.weights_epoch or epoch)
        except SessionError as e:
            raise fail(self.path, f"epoch {epoch}: {e}") from None

    def checkpoint(self) -> Checkpoint | None:
        """The state to resume from, or None when the run saved none."""
        with reading(self.path, f"the checkpoint of run '{self.run_id}'"):
            with self.session.file() as f:
                return self._read_checkpoint(f)


@dataclass
class SessionJob:
    """A job of several runs as stored: ``kind``, ``title``, its ``spec_json`` and ``plan``."""

    job_id: str
    kind: str
    title: str
    spec_json: str
    plan: list[RunPlan]

    @property
    def spec(self) -> dict:
        return json.loads(self.spec_json)


