"""One run as the window knows it, with no Qt: its plan, series, saved epochs and caches.

A :class:`RunState` is what the :class:`~gui.run.model.RunModel` holds for each
run of the session on display. Beside its plain data (config, offsets on the
shared axes, the epoch means) it reads what views ask of a saved epoch — the
snapshot, the CPU decoder, the CPU copy of the model, small arrays over every
epoch — and keeps the last few (:data:`CACHE`), so that replaying a long stored
session reads each epoch from its file once, not at every replay step.

Weights for the interactive views exist at some epochs only, as in the session
file (``engine/session/weights.py``): a live run keeps in memory the weights its
session keeps, and the newest; any other epoch decodes with the nearest earlier
kept weights (:meth:`RunState.weights_epoch` says which), and the CPU copies and
decoders are shared by the epochs that use the same weights.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np

from engine.config import RunConfig
from engine.decoding import LatentDecoder
from engine.errors import SessionError, StudioError
from engine.events import DatasetInfo, EpochSnapshot, RunPlan
from engine.models import Model, cpu_copy
from engine.pretraining.stack import first_layer_features
from engine.session import SessionRun
from engine.session.weights import kept_rows, nearest, set_bytes, slots_for

CACHE = 4                      # snapshots and decoders kept per run
SMALL_ARRAY = 65_536           # values: arrays up to this size are kept for every epoch
CLASSIFIER = "classifier"


class _Lru(OrderedDict):
    def get_or(self, key, make):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        while len(self) > CACHE:
            self.popitem(last=False)
        return value


@dataclass
class RunState:
    """One run as the window knows it.

    Attributes
    ----------
    plan : its id, title, role and facts.
    config, data, term_names : from its RunStarted (or its stored run).
    step_offset, epoch_offset : where it starts on the shared axes (training runs).
    steps_per_epoch, last_epoch : its size; ``planned_epochs`` the epochs it is to train.
    epochs : saved epochs (live ones in ``live``, older ones in ``stored``).
    val : term -> {epoch: value} of its validation means (train in ``train``).
    status, message : its outcome so far.
    weights : the model's state at its latest checkpoint (first-layer features), or None.
    """

    plan: RunPlan
    config: RunConfig | None = None
    data: DatasetInfo | None = None
    term_names: tuple[str, ...] = ()
    step_offset: int = 0
    epoch_offset: int = 0
    steps_per_epoch: int = 0
    planned_epochs: int = 0
    last_step: int = 0
    last_epoch: int = 0
    live: dict[int, EpochSnapshot] = field(default_factory=dict)
    stored: SessionRun | None = None
    stored_epochs: list[int] = field(default_factory=list)
    train: dict[str, dict[int, float]] = field(default_factory=dict)
    val: dict[str, dict[int, float]] = field(default_factory=dict)
    status: str = "planned"
    message: str | None = None
    weights: dict | None = None

    def __post_init__(self):
        self._snapshots = _Lru()
        self._decoders = _Lru()
        self._models = _Lru()
        self._small: dict[int, tuple] = {}     # epoch -> its small arrays (over-epoch views)

    @property
    def run_id(self) -> str:
        return self.plan.run_id

    @property
    def is_classifier(self) -> bool:
        return self.plan.role == CLASSIFIER

    @property
    def epochs(self) -> list[int]:
        return sorted(set(self.stored_epochs) | set(self.live))

    def nearest_epoch(self, epoch: int) -> int | None:
        """The saved epoch to show for ``epoch``: the latest at or before it, else the first
        (None: none saved). Runs compared side by side each show their nearest one."""
        return nearest(self.epochs, epoch)

    def snapshot(self, epoch: int) -> EpochSnapshot:
        """The epoch's replay data; its weights are the nearest earlier kept ones when it
        kept none (``weights_epoch`` then says which epoch's)."""
        if epoch in self.live:
            snap = self.live[epoch]
            kept = None if snap.weights else self.weights_epoch(epoch)
            if kept is None or kept == epoch:
                return snap
            return replace(snap, weights=self.snapshot(kept).weights, weights_epoch=kept)
        if self.stored is None or epoch not in self.stored_epochs:
            raise KeyError(epoch)
        return self._snapshots.get_or(epoch, lambda: self.stored.snapshot(epoch))

    def weights_epoch(self, epoch: int) -> int | None:
        """The epoch whose weights the interactive views use at ``epoch``: itself when they
        were kept, else the nearest earlier kept epoch (None: no weights at all)."""
        shown = set(self.stored_epochs)
        kept = {e for e, s in self.live.items() if s.weights}
        if self.stored is not None:
            kept |= {e for e in self.stored.weight_epochs if e in shown and e not in self.live}
        return nearest(sorted(kept), epoch)

    def weights_note(self, epoch: int) -> str:
        """``"decoding with the weights of epoch K"`` when ``epoch`` has none of its own."""
        kept = self.weights_epoch(epoch)
        return "" if kept is None or kept == epoch else \
            f"decoding with the weights of epoch {kept}"

    def add_live_snapshot(self, snap: EpochSnapshot, budget: int) -> None:
        """A live run's new saved epoch: what was cached for that epoch (a resumed run
        retrains it) is forgotten, and the weights kept in memory thinned to ``budget``
        bytes' worth of epochs (:meth:`thin_live_weights`)."""
        self.live[snap.epoch] = snap
        self._decoders.pop(snap.epoch, None)
        self._models.pop(snap.epoch, None)
        self._small.pop(snap.epoch, None)
        self.thin_live_weights(budget)

    def thin_live_weights(self, budget: int) -> None:
        """Keep in memory the weights of the live epochs the session keeps (the same
        thinning over the run's epochs, ``weights.py``) and of the newest: a long run of a
        large model must not hold a copy of its weights per epoch."""
        newest = max(self.live, default=None)
        if newest is None or not self.live[newest].weights:
            return
        rows = self.epochs
        slots = slots_for(budget, set_bytes(self.live[newest].weights))
        keep = {rows[r] for r in kept_rows(len(rows), slots)} | {newest}
        for e, snap in list(self.live.items()):
            if snap.weights and e not in keep:
                self.live[e] = replace(snap, weights={})
                self._decoders.pop(e, None)
                self._models.pop(e, None)

    def decoder(self, epoch: int) -> LatentDecoder | None:
        """The epoch's CPU decoder (None for a family without one, or unreadable weights);
        its ``weights_epoch`` says which epoch's weights it decodes with."""
        if self.config is None or not LatentDecoder.available(self.config):
            return None
        model = self.cpu_model(epoch)   # one CPU copy per weights, shared with the code views
        if model is None:
            return None
        kept = self.weights_epoch(epoch) or epoch
        try:
            return self._decoders.get_or(kept, lambda: LatentDecoder(
                self.config, self.data.image_shape, model=model, weights_epoch=kept))
        except StudioError:
            return None

    def cpu_model(self, epoch: int) -> Model | None:
        """The epoch's CPU copy of the model's interactive parts (an autoencoder's encoder
        and decoder), built from the snapshot's weights and kept (LRU, :data:`CACHE`); None
        for a run without a config, a snapshot without weights, or weights that do not fit.

        Only the interactive parts may be used (see :func:`engine.models.cpu_copy`); the
        training model is never touched.
        """
        if self.config is None or self.data is None:
            return None
        kept = self.weights_epoch(epoch) or epoch

        def make():
            snap = self.snapshot(kept)
            if snap.weights_epoch is not None:   # read when the file had not kept them yet
                self._snapshots.pop(kept, None)
                snap = self.snapshot(kept)
            weights = snap.weights
            if not weights:
                return None
            return cpu_copy(self.config, tuple(self.data.image_shape), weights).eval()
        try:
            return self._models.get_or(kept, make)
        except (StudioError, KeyError, ValueError, RuntimeError):
            return None

    def first_layer_features(self, image_shape: tuple | None = None
                             ) -> tuple[np.ndarray | None, str]:
        """Each first-layer unit's input weights as an image, from the run's newest weights
        (the last checkpoint seen live, else the stored one).

        Parameters
        ----------
        image_shape : (C, H, W) of the pixels; default the run's data's.

        Returns
        -------
        ``(features, "")`` with features (units, C, H, W) float32 raw weights, or
        ``(None, why)``: no weights yet, an unreadable checkpoint, a convolutional encoder.
        """
        weights = self.weights
        if weights is None and self.stored is not None:
            try:
                ck = self.stored.checkpoint()
            except SessionError as e:
                return None, f"No first-layer features: {e}"
            weights = ck.model if ck is not None else None
        if weights is None:
            return None, "No saved weights yet."
        shape = tuple(image_shape if image_shape is not None else self.data.image_shape)
        features = first_layer_features(weights, shape)
        if features is None:
            return None, ("First-layer features are an MLP's input weights; this run's "
                          "encoder is convolutional.")
        return np.asarray(features), ""

    def arrays_over_epochs(self, name: str) -> tuple[list[int], list]:
        """``arrays[name]`` of every saved epoch that has it: (epochs, arrays).

        Views over epochs (the Jacobian's norm, the latent trails) read every saved
        snapshot once: the small arrays of each (up to :data:`SMALL_ARRAY` values) are
        kept here, so a long stored session is read once, not at every replay step.
        Unreadable epochs are left out.
        """
        epochs, values = [], []
        for e in self.epochs:
            kept = self._small.get(e)              # (small arrays, every name the epoch has)
            if kept is None or (name in kept[1] and name not in kept[0]):
                try:
                    arrays = self.snapshot(e).arrays
                except Exception:  # noqa: BLE001 - a damaged epoch: left out
                    continue
                small = {k: v for k, v in arrays.items() if v.size <= SMALL_ARRAY}
                if name in arrays:
                    small[name] = arrays[name]
                kept = self._small[e] = (small, frozenset(arrays))
            if name in kept[0]:
                epochs.append(e)
                values.append(kept[0][name])
        return epochs, values

    def drop_after(self, epoch: int, step: int) -> None:
        """Forget epochs after ``epoch`` (a resumed run retrains them)."""
        self.live = {e: s for e, s in self.live.items() if e <= epoch}
        self.stored_epochs = [e for e in self.stored_epochs if e <= epoch]
        for series in (*self.train.values(), *self.val.values()):
            for e in [e for e in series if e > epoch]:
                del series[e]
        self._snapshots.clear()
        self._decoders.clear()
        self._models.clear()
        self._small.clear()
        self.last_epoch, self.last_step = min(self.last_epoch, epoch), min(self.last_step, step)
