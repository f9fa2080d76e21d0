"""The one training loop that the GUI, the CLI, the orchestrators and the tests all drive.

``Trainer(config).run(emit, control)`` trains a model of any registered
family (:mod:`engine.models`) and reports through ``emit``; it never knows
who listens. What differs between families — the terms, how a batch
updates the model, what a snapshot holds — is the model's; the trainer
drives batches, pause and stop, the finite check, metrics, snapshots and
checkpoints for all of them.

Every step is checked for finite values: a non-finite term or gradient
stops the run at that step with ``RunFailed`` naming the term, before the
optimiser touches the weights, so the last finite weights are kept (and
saved in a final checkpoint).

Reproducibility: the epoch's order and each step's noise (corruption,
reparameterisation) come from generators seeded from (seed, epoch) and
(seed, step) (:mod:`engine.random_streams`), so the step counter, the
epoch's permutation and the position within the epoch are all a checkpoint
needs to continue the same random streams, on any kind of device.
Evaluation draws from generators of its own, seeded from the run's seed,
so it never shifts the training streams. On CUDA, cuDNN is made
deterministic and TF32 is turned off (:func:`engine.device.use_exact_numerics`).
Seeded CPU runs give the same numbers bit for bit at the same torch thread
count; the count follows the free cores (:mod:`engine.threads`).

Under torchrun the same loop runs on every rank with DistributedDataParallel;
what that changes (each rank's share of a batch, averaged terms, agreement
on stop and on a non-finite term, rank 0 alone reporting) is in
:mod:`engine.distributed`.
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import ExitStack
from typing import Iterator

import numpy as np
import torch

from engine.analysis.epoch_measures import epoch_measures
from engine.analysis.quality_probe import SampleQualityProbe
from engine.checkpoint import (load_module_arrays, load_optimizer_arrays, module_arrays,
                               optimizer_arrays)
from engine.config import RunConfig
from engine.control import TrainingControl
from engine.data import Dataset, load_dataset
from engine.data.training_data import TrainingData
from engine.device import resolve_device, use_exact_numerics
from engine.distributed import Ranks
from engine.errors import SessionError, StudioError
from engine.events import (Checkpoint, CheckpointSaved, DatasetInfo, Emit, EpochEnded,
                           EpochSnapshot, RunFailed, RunFinished, RunStarted, StepMetrics)
from engine.models import Batch, Model, Probe, StepContext, build_model, family_class
from engine.models.base import EVAL_BATCH, NonFiniteTerm
from engine.random_streams import RandomStreams, resumed_streams
from engine.threads import ThreadPacer

log = logging.getLogger(__name__)

MAP_POINTS = 1000  # validation images whose codes form the latent map
_PROBE_SALT = -1   # the probe corruption: the same every epoch, so epochs compare
_QUALITY_SALT = -2  # the samples sample quality scores: the same draw every epoch


class Trainer:
    """Trains one model described by a :class:`RunConfig`.

    Parameters
    ----------
    config : the run; validated here.
    dataset : the data, or None to load ``config.data``.
    checkpoint : state to resume from (see :meth:`checkpoint`), or None for a fresh run.
    init_weights : initial values for part of the model's state, by ``state_dict``
        key (a classifier's pretrained ``encoder.*``, a stack's assembled layers);
        ignored when resuming from a checkpoint.
    """

    def __init__(self, config: RunConfig, dataset: Dataset | None = None,
                 checkpoint: Checkpoint | None = None,
                 init_weights: dict[str, np.ndarray] | None = None):
        self.config = config.validate()
        family = family_class(config)   # an unknown family fails before the data loads
        self.dataset = dataset if dataset is not None else load_dataset(config.data, config.seed)
        self.device = resolve_device(config.device)
        self.ranks = Ranks.current(self.device, config.seed)  # None unless under torchrun
        if self.ranks is not None:
            self.device = self.ranks.device
        use_exact_numerics(self.device)
        shape = self.dataset.image_shape
        # Initialise weights from the run's seed without touching the global RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model: Model = build_model(config, shape, self.dataset.n_classes)
        if init_weights and checkpoint is None:
            try:
                load_module_arrays(self.model, init_weights, partial=True)
            except ValueError as e:
                raise SessionError(f"the starting weights do not fit this model: {e}") from None
        if self.ranks is not None:
            self.ranks.check_trainable(self.model)
        self.model.to(self.device)
        self.optimizers = self.model.configure_optimizers(config.optim)
        self.streams = RandomStreams(config.seed, self.device)
        self.train_idx = np.asarray(family.training_indices(config, self.dataset), np.int64)
        self._place_data()
        self.term_names = self.model.term_names()
        self.epochs_done = 0
        self.step = 0
        self.position = 0
        self.permutation: torch.Tensor | None = None
        self.epoch_sums: dict[str, float] = {}
        self.wall_offset = 0.0
        if checkpoint is not None:
            self.load_checkpoint(checkpoint)

    # -- data ------------------------------------------------------------------
    def _place_data(self) -> None:
        ds = self.dataset
        # In memory on the device when it fits; streamed from its file when it does not.
        self.data = TrainingData(ds, self.train_idx, self.device, self.model.needs_labels,
                                 workers=self.config.data.workers)
        self.data_device = self.data.index_device
        map_idx = ds.val_idx if len(ds.val_idx) else ds.train_idx
        self.map_idx = map_idx[:MAP_POINTS]
        self.probe = Probe(images=self.data.take(ds.probe_idx).to(self.device),
                           map_images=self.data.take(self.map_idx))
        self.map_factors = None if ds.factors is None else np.asarray(ds.factors[self.map_idx])
        self.quality = SampleQualityProbe(self.config, ds, self.data.take, self.device)

    def dataset_info(self) -> DatasetInfo:
        ds = self.dataset
        lab, fac = ds.labels, ds.factors
        return DatasetInfo(
            source=ds.source, image_shape=tuple(ds.image_shape), n_train=len(self.train_idx),
            n_val=ds.n_val, probe_images=ds.images[ds.probe_idx].copy(),
            probe_labels=None if lab is None else lab[ds.probe_idx].copy(),
            map_labels=None if lab is None else lab[self.map_idx].copy(),
            map_factors=None if fac is None else fac[self.map_idx].copy(),
            factor_names=tuple(ds.factor_names), label_names=ds.label_names,
            n_classes=ds.n_classes)

    def validation_batches(self) -> Iterator[Batch]:
        """The validation images (and labels), in order, on the training device."""
        return (Batch(x, y) for x, y in self.data.validation(EVAL_BATCH))

    @property
    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(len(self.train_idx) / self.config.optim.batch_size))

    def _eval_generator(self, salt: int) -> torch.Generator:
        g = torch.Generator(device=self.device)
        g.manual_seed((self.config.seed * 1_000_003 + salt) % (2**63))
        return g

    # -- checkpoints -------------------------------------------------------------
    def checkpoint(self) -> Checkpoint:
        """The complete resumable state, copied to numpy."""
        arrays, meta = {}, {}
        for name, opt in self.optimizers.items():
            arrays[name], meta[name] = optimizer_arrays(opt)
        perm = None
        if self.position > 0 and self.permutation is not None:
            perm = self.permutation.to("cpu").numpy().copy()
        return Checkpoint(
            epoch=self.epochs_done, step=self.step, position=self.position,
            wall_time=self.wall_offset, model=module_arrays(self.model),
            optimizers=arrays, optimizer_json=meta,
            rng={"train": self.streams.state()},  # the scheme's name (engine.random_streams)
            permutation=perm, epoch_sums=dict(self.epoch_sums))

    def load_checkpoint(self, ck: Checkpoint) -> None:
        load_module_arrays(self.model, ck.model)
        if set(ck.optimizers) != set(self.optimizers):
            raise ValueError(f"the checkpoint has optimisers {sorted(ck.optimizers)}, this "
                             f"model uses {sorted(self.optimizers)}")
        for name, opt in self.optimizers.items():
            load_optimizer_arrays(opt, ck.optimizers[name], ck.optimizer_json[name])
        # The streams follow from the seed, the epoch and the step; a checkpoint from
        # before holds a generator state, continued where this device's generators take it.
        self.streams = resumed_streams(ck.rng, self.config.seed, self.device)
        self.epochs_done, self.step, self.position = ck.epoch, ck.step, ck.position
        self.wall_offset = ck.wall_time
        self.epoch_sums = dict(ck.epoch_sums)
        self.permutation = (None if ck.permutation is None
                            else torch.from_numpy(np.asarray(ck.permutation)).to(self.data_device))

    # -- the loop ----------------------------------------------------------------
    def run(self, emit: Emit, control: TrainingControl | None = None,
            until_epoch: int | None = None, *, snapshots: bool = True,
            checkpoints: bool = True) -> str:
        """Train up to epoch ``until_epoch`` (default: the config's epochs).

        Parameters
        ----------
        snapshots, checkpoints : build each epoch's snapshot and checkpoint copy;
            False when no listener records or shows them (work nobody
            listens to is not done).

        Returns
        -------
        ``'completed'``, ``'stopped'`` or ``'failed'`` — the same as the last event says.
        """
        control = control or TrainingControl()
        last = until_epoch if until_epoch is not None else self.config.optim.epochs
        start_epoch = self.epochs_done + 1
        reporting = self.ranks is None or self.ranks.is_main
        if not reporting:  # only rank 0 reports, and so writes the session
            emit, snapshots, checkpoints = _nobody, False, False
        threads = ThreadPacer.for_this_process()  # on this thread: torch's are per thread
        emit(RunStarted(
            config=self.config, device=str(self.device),
            n_parameters=sum(p.numel() for p in self.model.parameters()),
            term_names=self.term_names, data=self.dataset_info(),
            steps_per_epoch=self.steps_per_epoch, start_epoch=start_epoch,
            start_step=self.step, total_epochs=last))
        self._t0 = time.perf_counter()
        self._wall_at_start = self.wall_offset
        self._checkpoints = checkpoints
        self._peers_stop = False
        self._previews = snapshots
        train, val = {}, {}
        held = ExitStack()
        try:
            if self.ranks is not None:  # under torchrun: the model in DDP for this call
                held.enter_context(self.ranks.data_parallel(self.model))
            held.callback(self.data.close)
            for epoch in range(start_epoch, last + 1):
                outcome = self._train_epoch(epoch, emit, control)
                if outcome != "ok":
                    return outcome
                train = self._epoch_means()
                # The other ranks hold the same weights and nobody listens: rank 0 validates.
                val, val_arrays = self.model.evaluate(
                    self.validation_batches(), self._eval_generator(epoch)
                ) if reporting else ({}, {})
                self.epochs_done, self.position, self.epoch_sums = epoch, 0, {}
                wall = self.wall_time()
                n = len(self.train_idx) * (epoch - start_epoch + 1)
                emit(EpochEnded(epoch=epoch, step=self.step, train=train, val=val,
                                wall_time=wall,
                                samples_per_sec=n / max(wall - self._wall_at_start, 1e-9)))
                if snapshots and (epoch % self.config.snapshot_every == 0 or epoch == last):
                    emit(self.snapshot(epoch, val_arrays))
                self._save_checkpoint(emit)
                threads.epoch_ended()
            if start_epoch > last:  # nothing to train (a stack kept as assembled)
                self._save_checkpoint(emit)
        except StudioError as e:
            emit(RunFailed(message=str(e), epoch=self.epochs_done + 1, step=self.step))
            return "failed"
        except Exception as e:  # a bug or a device error: report it, keep the app alive
            log.exception("training failed")
            emit(RunFailed(message=f"training stopped by an unexpected error: "
                                   f"{type(e).__name__}: {e}",
                           epoch=self.epochs_done + 1, step=self.step))
            return "failed"
        finally:
            held.close()
        emit(RunFinished(epoch=self.epochs_done, step=self.step, reason="completed",
                         final_train=train, final_val=val, wall_time=self.wall_time()))
        return "completed"

    def snapshot(self, epoch: int, val_arrays: dict[str, np.ndarray] | None = None,
                 preview: bool = False) -> EpochSnapshot:
        """The model's replay data of this epoch; validation arrays replace probe ones.
        ``preview``: the model in the middle of the epoch (slow motion), for the views only."""
        self.model.eval()
        try:
            images, arrays = self.model.snapshot(self.probe, self._eval_generator(_PROBE_SALT))
            arrays.update(self.quality.snapshot_arrays(epoch, self.model, arrays,
                                                       self._eval_generator(_QUALITY_SALT)))
        finally:
            self.model.train()
        # The research measures (I(x; z), disentanglement) from the map's codes and factors.
        arrays.update(epoch_measures(arrays, self.map_factors,
                                     family_class(self.config).traits(self.config).encoder,
                                     epoch, self.config.optim.epochs, self.config.seed))
        return EpochSnapshot(epoch=epoch, step=self.step, images=images,
                             arrays={**arrays, **(val_arrays or {})},
                             weights=self.model.interactive_weights(), preview=preview)

    def wall_time(self) -> float:
        """Seconds of training in this run, including earlier calls before a resume."""
        return self._wall_at_start + (time.perf_counter() - self._t0)

    def _save_checkpoint(self, emit: Emit) -> None:
        self.wall_offset = self.wall_time()
        if self._checkpoints:
            emit(CheckpointSaved(self.checkpoint()))

    def _epoch_means(self) -> dict[str, float]:
        count = self.epoch_sums.get("_count", 0.0) or 1.0
        return {k: v / count for k, v in self.epoch_sums.items() if k != "_count"}

    def _train_epoch(self, epoch: int, emit: Emit, control: TrainingControl) -> str:
        cfg = self.config
        bs = cfg.optim.batch_size
        n = self.data.n_train
        batches = self.steps_per_epoch
        ranks = self.ranks
        # The epoch's order is drawn after the first stop check: a run stopped at an epoch
        # boundary resumes at its first batch and draws it then.
        fresh = self.position == 0 or self.permutation is None
        model, optimizers = self.model, self.optimizers
        ctx = StepContext(None, cfg.optim.grad_clip,
                          reduce=None if ranks is None else ranks.reduce)
        sums = self.epoch_sums
        # bf16 autocast when asked: the step's forward in bf16, its backward follows the forward.
        precision = torch.autocast(self.device.type, dtype=torch.bfloat16,
                                   enabled=cfg.precision == "bfloat16")
        t_last, seen = time.perf_counter(), 0
        stream = None  # the epoch's batches, from the first one this call trains
        for b in range(self.position, batches):
            # Under torchrun a stop asked on any rank travels with a step's terms
            # (StepContext.finite) and every rank stops before the next batch: no
            # collective and no device sync of its own.
            asked = control.should_stop()
            if (asked and ranks is None) or self._peers_stop:
                self._save_checkpoint(emit)
                emit(RunFinished(epoch=self.epochs_done, step=self.step, reason="stopped",
                                 final_train=self._epoch_means(), final_val={},
                                 wall_time=self.wall_time()))
                return "stopped"
            if fresh:
                self.permutation = self._epoch_order(epoch)
                fresh = False
            if stream is None:
                shards = [self.permutation[i * bs:(i + 1) * bs] for i in range(b, batches)]
                if ranks is not None:  # each rank its share of every batch
                    shards = [ranks.shard(idx) for idx in shards]
                stream = self.data.epoch(shards)
            x, y = next(stream)
            m = min(bs, n - b * bs)  # the global batch: what the terms are the means of
            if ranks is None:
                ctx.generator = self.streams.step_noise(self.step)
            else:  # this rank's share of the batch, its own noise
                ctx.generator = ranks.begin_step(self.step, m)
                ctx.stop_asked = asked
            try:
                with precision:
                    values = model.train_step(Batch(x, y), optimizers, ctx)
            except NonFiniteTerm as e:
                return self._fail_non_finite(e.term, epoch, emit)
            self._peers_stop = ctx.peers_stop
            self.step += 1
            self.position = b + 1
            seen += m
            for k, v in values.items():
                sums[k] = sums.get(k, 0.0) + v * m
            sums["_count"] = sums.get("_count", 0.0) + m
            if self.step % cfg.log_every == 0 or b == batches - 1:
                now = time.perf_counter()
                rate = seen / max(now - t_last, 1e-9)
                emit(StepMetrics(epoch=epoch, step=self.step, batch=b + 1, batches=batches,
                                 terms=values, samples_per_sec=rate, wall_time=self.wall_time()))
                if now - t_last > 1.0:  # a rate over a recent window, not since the epoch began
                    t_last, seen = now, 0
            if control.preview_due() and self._previews:  # slow motion: views follow each step
                emit(self.snapshot(epoch, preview=True))
        return "ok"

    def _epoch_order(self, epoch: int) -> torch.Tensor:
        """(n,) int64 on the data's device: the order of epoch ``epoch``'s training images.

        Drawn on the CPU; under torchrun rank 0's order is broadcast on the ranks'
        own device (nccl takes CUDA tensors only) *before* it moves to where the
        data is, which is the host when the data is streamed or kept in host memory.
        """
        order = self.streams.epoch_order(epoch, self.data.n_train)
        if self.ranks is not None:
            order = self.ranks.same_order(order)
        return order.to(self.data_device)

    def _fail_non_finite(self, term: str, epoch: int, emit: Emit) -> str:
        what = "the gradient norm" if term == "gradient" else f"the loss term '{term}'"
        lr = self.config.optim.lr
        tips = [f"lower the learning rate (now {lr:g}, try {lr / 10:g})"]
        if self.config.optim.grad_clip is None:
            tips.append("turn on gradient clipping (e.g. 1.0)")
        tips += self.model.divergence_tips()
        msg = (f"Training diverged at epoch {epoch}, step {self.step + 1}: {what} became "
               f"non-finite (NaN or infinity). The weights from the last finite step are kept. "
               f"To fix it, {', '.join(tips)}.")
        self._save_checkpoint(emit)
        emit(RunFailed(message=msg, epoch=epoch, step=self.step, term=term))
        return "failed"


def _nobody(event) -> None:
    """The listener of a rank other than 0 under torchrun: rank 0 reports for all."""
