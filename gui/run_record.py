"""The run on display: its config, data, terms, and where its epochs come from.

Epoch snapshots of a live run are kept in memory as they arrive (they are
what the replay timeline moves through); those of an opened session are
read from the file when asked for. Both give decoders built once per epoch
and cached, since the explorer and the samples panel ask for the same one.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from engine.config import RunConfig
from engine.decoding import LatentDecoder
from engine.errors import StudioError
from engine.events import DatasetInfo, EpochSnapshot
from engine.objective import Objective
from engine.session import Session

DECODER_CACHE = 4
SNAPSHOT_CACHE = 4


def term_order(config: RunConfig, names) -> tuple[str, ...]:
    """``names`` in the objective's plotting order, unknown ones last."""
    known = Objective(config.objective).term_names(config.model.variational)
    names = list(names)
    return tuple([n for n in known if n in names] + [n for n in names if n not in known])


class _Lru(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_or(self, key, make):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        while len(self) > self.size:
            self.popitem(last=False)
        return value


class SessionSnapshots:
    """Epochs read from a session file.

    The opened session stays open for fast replay until :meth:`release`
    (e.g. before a resumed run writes the file). After that each request
    opens the file, reads and closes it again: the writer may reuse an old
    version of the file for its next commit, so no handle is kept across
    commits.
    """

    def __init__(self, path: Path, session: Session | None = None):
        self.path = Path(path)
        self._session = session
        self._snapshots = _Lru(SNAPSHOT_CACHE)
        self._decoders = _Lru(DECODER_CACHE)
        self.epochs = list(session.snapshot_epochs) if session is not None else []

    def _read(self, what):
        if self._session is not None:
            return what(self._session)
        with Session.open(self.path) as session:
            return what(session)

    def snapshot(self, epoch: int) -> EpochSnapshot:
        return self._snapshots.get_or(epoch, lambda: self._read(lambda s: s.snapshot(epoch)))

    def decoder(self, epoch: int) -> LatentDecoder:
        return self._decoders.get_or(epoch, lambda: self._read(lambda s: s.decoder(epoch)))

    def release(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


@dataclass
class RunRecord:
    """Everything the panels show about one run.

    Attributes
    ----------
    config : the run's config.
    data : its data description (probe images, map labels/factors).
    term_names : loss terms in plotting order.
    live : snapshots received while training, by epoch.
    stored : epochs of an opened (or resumed) session's file, or None.
    session_path : the session file, when there is one.
    """

    config: RunConfig
    data: DatasetInfo
    term_names: tuple[str, ...]
    live: dict[int, EpochSnapshot] = field(default_factory=dict)
    stored: SessionSnapshots | None = None
    session_path: Path | None = None

    def __post_init__(self):
        self._decoders = _Lru(DECODER_CACHE)
        #: False while a trainer is being built on the training thread: building a
        #: decoder initialises weights from torch's global RNG, which the trainer
        #: seeds for its own initial weights at that moment (see RunController).
        self.may_build_decoders = True

    @property
    def denoising(self) -> bool:
        return self.config.objective.corruption != "none"

    def epochs(self) -> list[int]:
        stored = self.stored.epochs if self.stored is not None else []
        return sorted(set(stored) | set(self.live))

    def add_snapshot(self, snap: EpochSnapshot) -> None:
        self.live[snap.epoch] = snap
        self._decoders.pop(snap.epoch, None)

    def snapshot(self, epoch: int) -> EpochSnapshot:
        if epoch in self.live:
            return self.live[epoch]
        if self.stored is None:
            raise KeyError(epoch)
        return self.stored.snapshot(epoch)

    def decoder(self, epoch: int) -> LatentDecoder | None:
        """The epoch's CPU decoder (None when its weights cannot be rebuilt)."""
        if epoch in self._decoders:
            return self._decoders.get_or(epoch, None)
        if not self.may_build_decoders:
            return None
        if epoch in self.live:
            snap = self.live[epoch]
            if not snap.decoder:
                return None
            return self._decoders.get_or(epoch, lambda: LatentDecoder(
                self.config, self.data.image_shape, snap.decoder))
        if self.stored is None:
            return None
        try:
            return self.stored.decoder(epoch)
        except StudioError:
            return None

    def drop_after(self, epoch: int) -> None:
        """Forget epochs after ``epoch`` (a resumed run retrains them)."""
        self.live = {e: s for e, s in self.live.items() if e <= epoch}
        if self.stored is not None:
            self.stored.epochs = [e for e in self.stored.epochs if e <= epoch]
        for e in [e for e in self._decoders if e > epoch]:
            self._decoders.pop(e)
