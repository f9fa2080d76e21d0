"""The one training loop that the GUI, the CLI and the tests all drive.

``Trainer(config).run(emit, control)`` trains and reports through ``emit``;
it never knows who listens. Every step is checked for finite values: a
non-finite loss or gradient stops the run at that step with ``RunFailed``
naming the term, before the optimiser touches the weights, so the last
finite weights are kept (and saved in a final checkpoint).

Reproducibility: one seeded generator on the training device drives the
shuffling, the corruption and the reparameterisation noise; its state, the
epoch's permutation and the position within the epoch are part of every
checkpoint, so a resumed run continues the exact random stream.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import torch

from engine.checkpoint import (load_module_arrays, load_optimizer_arrays, module_arrays,
                               optimizer_arrays)
from engine.config import RunConfig
from engine.control import TrainingControl
from engine.corruption import corrupt
from engine.data import Dataset, load_dataset
from engine.device import fits_on_device, resolve_device
from engine.errors import StudioError
from engine.evaluation import Evaluator
from engine.events import (Checkpoint, CheckpointSaved, DatasetInfo, Emit, EpochEnded,
                           RunFailed, RunFinished, RunStarted, StepMetrics)
from engine.models import Autoencoder, build_autoencoder
from engine.objective import Objective
from engine.optim import make_optimizer

log = logging.getLogger(__name__)

MAP_POINTS = 1000  # validation images whose codes form the latent map


class Trainer:
    """Trains one autoencoder described by a :class:`RunConfig`.

    Parameters
    ----------
    config : the run; validated here.
    dataset : the data, or None to load ``config.data``.
    checkpoint : state to resume from (see :meth:`checkpoint`), or None for a fresh run.
    """

    def __init__(self, config: RunConfig, dataset: Dataset | None = None,
                 checkpoint: Checkpoint | None = None):
        self.config = config.validate()
        self.dataset = dataset if dataset is not None else load_dataset(config.data, config.seed)
        self.device = resolve_device(config.device)
        shape = self.dataset.image_shape
        # Initialise weights from the run's seed without touching the global RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model: Autoencoder = build_autoencoder(shape, config.model, config.objective)
        self.model.to(self.device)
        self.objective = Objective(config.objective)
        self.optimizer = make_optimizer(self.model.parameters(), config.optim)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(config.seed)
        self._place_data()
        self.evaluator = Evaluator(self, MAP_POINTS)
        self.term_names = tuple(self.objective.term_names(config.model.variational))
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
        images = torch.from_numpy(ds.images)
        # The whole set lives on the device when it fits: a batch is then one index op.
        self.data_device = self.device if fits_on_device(images.nbytes, self.device) else torch.device("cpu")
        images = images.to(self.data_device)
        self.train_images = images[torch.from_numpy(ds.train_idx).to(self.data_device)]
        self.val_images = images[torch.from_numpy(ds.val_idx).to(self.data_device)]
        self.probe_images = images[torch.from_numpy(ds.probe_idx).to(self.data_device)]
        map_idx = ds.val_idx if len(ds.val_idx) else ds.train_idx
        self.map_idx = map_idx[:MAP_POINTS]
        self.map_images = images[torch.from_numpy(self.map_idx).to(self.data_device)]

    def dataset_info(self) -> DatasetInfo:
        ds = self.dataset
        lab = ds.labels
        fac = ds.factors
        return DatasetInfo(
            source=ds.source, image_shape=tuple(ds.image_shape), n_train=ds.n_train,
            n_val=ds.n_val, probe_images=ds.images[ds.probe_idx].copy(),
            probe_labels=None if lab is None else lab[ds.probe_idx].copy(),
            map_labels=None if lab is None else lab[self.map_idx].copy(),
            map_factors=None if fac is None else fac[self.map_idx].copy(),
            factor_names=tuple(ds.factor_names), label_names=ds.label_names)

    @property
    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.dataset.n_train / self.config.optim.batch_size))

    # -- checkpoints -------------------------------------------------------------
    def checkpoint(self) -> Checkpoint:
        """The complete resumable state, copied to numpy."""
        opt_arrays, opt_json = optimizer_arrays(self.optimizer)
        perm = None
        if self.position > 0 and self.permutation is not None:
            perm = self.permutation.to("cpu").numpy().copy()
        return Checkpoint(
            epoch=self.epochs_done, step=self.step, position=self.position,
            wall_time=self.wall_offset, model=module_arrays(self.model),
            optimizer=opt_arrays, optimizer_json=opt_json,
            rng={"train": self.generator.get_state().numpy().copy()},
            permutation=perm, epoch_sums=dict(self.epoch_sums))

    def load_checkpoint(self, ck: Checkpoint) -> None:
        load_module_arrays(self.model, ck.model)
        load_optimizer_arrays(self.optimizer, ck.optimizer, ck.optimizer_json)
        self.generator.set_state(torch.from_numpy(np.asarray(ck.rng["train"], dtype=np.uint8)))
        self.epochs_done, self.step, self.position = ck.epoch, ck.step, ck.position
        self.wall_offset = ck.wall_time
        self.epoch_sums = dict(ck.epoch_sums)
        self.permutation = (None if ck.permutation is None
                            else torch.from_numpy(np.asarray(ck.permutation)).to(self.data_device))

    # -- the loop ----------------------------------------------------------------
    def run(self, emit: Emit, control: TrainingControl | None = None,
            until_epoch: int | None = None) -> str:
        """Train up to epoch ``until_epoch`` (default: the config's epochs).

        Returns
        -------
        ``'completed'``, ``'stopped'`` or ``'failed'`` — the same as the last event says.
        """
        control = control or TrainingControl()
        last = until_epoch if until_epoch is not None else self.config.optim.epochs
        start_epoch = self.epochs_done + 1
        emit(RunStarted(
            config_json=self.config.to_json(), device=str(self.device),
            n_parameters=sum(p.numel() for p in self.model.parameters()),
            term_names=self.term_names, data=self.dataset_info(),
            steps_per_epoch=self.steps_per_epoch, start_epoch=start_epoch,
            start_step=self.step, total_epochs=last))
        self._t0 = time.perf_counter()
        self._wall_at_start = self.wall_offset
        train, val = {}, {}
        try:
            for epoch in range(start_epoch, last + 1):
                outcome = self._train_epoch(epoch, emit, control)
                if outcome != "ok":
                    return outcome
                train = self._epoch_means()
                val = self.evaluator.validation_terms(epoch)
                self.epochs_done, self.position, self.epoch_sums = epoch, 0, {}
                wall = self.wall_time()
                n = self.dataset.n_train * (epoch - start_epoch + 1)
                emit(EpochEnded(epoch=epoch, step=self.step, train=train, val=val,
                                wall_time=wall, samples_per_sec=n / max(wall - self._wall_at_start, 1e-9)))
                if epoch % self.config.snapshot_every == 0 or epoch == last:
                    emit(self.evaluator.snapshot(epoch))
                emit(CheckpointSaved(self._checkpoint_now()))
        except StudioError as e:
            emit(RunFailed(message=str(e), epoch=self.epochs_done + 1, step=self.step))
            return "failed"
        except Exception as e:  # a bug or a device error: report it, keep the app alive
            log.exception("training failed")
            emit(RunFailed(message=f"training stopped by an unexpected error: "
                                   f"{type(e).__name__}: {e}",
                           epoch=self.epochs_done + 1, step=self.step))
            return "failed"
        emit(RunFinished(epoch=self.epochs_done, step=self.step, reason="completed",
                         final_train=train, final_val=val, wall_time=self.wall_time()))
        return "completed"

    def wall_time(self) -> float:
        """Seconds of training in this run, including earlier calls before a resume."""
        return self._wall_at_start + (time.perf_counter() - self._t0)

    def _checkpoint_now(self) -> Checkpoint:
        self.wall_offset = self.wall_time()
        return self.checkpoint()

    def _epoch_means(self) -> dict[str, float]:
        count = self.epoch_sums.get("_count", 0.0) or 1.0
        return {k: v / count for k, v in self.epoch_sums.items() if k != "_count"}

    def _train_epoch(self, epoch: int, emit: Emit, control: TrainingControl) -> str:
        cfg = self.config
        bs = cfg.optim.batch_size
        n = self.train_images.shape[0]
        batches = self.steps_per_epoch
        if self.position == 0 or self.permutation is None:
            self.permutation = torch.randperm(n, generator=self.generator, device=self.device)
            if self.data_device != self.device:
                self.permutation = self.permutation.to(self.data_device)
        perm = self.permutation
        obj, model, opt = cfg.objective, self.model, self.optimizer
        params = [p for p in model.parameters()]
        names = list(self.term_names)
        clip = cfg.optim.grad_clip
        sums = self.epoch_sums
        t_last, seen = time.perf_counter(), 0
        for b in range(self.position, batches):
            if control.checkpoint():
                emit(CheckpointSaved(self._checkpoint_now()))
                emit(RunFinished(epoch=self.epochs_done, step=self.step, reason="stopped",
                                 final_train=self._epoch_means(), final_val={},
                                 wall_time=self.wall_time()))
                return "stopped"
            x = self.train_images[perm[b * bs:(b + 1) * bs]]
            if x.device != self.device:
                x = x.to(self.device, non_blocking=True)
            x_in = corrupt(x, obj.corruption, obj.corruption_level, self.generator)
            terms, _, _ = self.objective(model, x, x_in, self.generator)
            opt.zero_grad(set_to_none=True)
            terms["total"].backward()
            checked = [terms[k].detach() for k in names]
            if clip is not None:  # the norm is needed anyway: check it too
                grad_norm = torch.nn.utils.get_total_norm([p.grad for p in params
                                                           if p.grad is not None])
                checked.append(grad_norm)
            # One device sync per step: every term (and the gradient norm) together.
            values = torch.stack(checked).tolist()
            bad = next((k for k, v in zip(names + ["gradient"], values)
                        if not math.isfinite(v)), None)
            if bad is not None:
                return self._fail_non_finite(bad, epoch, emit)
            if clip is not None:
                torch.nn.utils.clip_grads_with_norm_(params, clip, grad_norm)
            opt.step()
            self.step += 1
            self.position = b + 1
            m = x.shape[0]
            seen += m
            vals = dict(zip(names, values))
            for k, v in vals.items():
                sums[k] = sums.get(k, 0.0) + v * m
            sums["_count"] = sums.get("_count", 0.0) + m
            if self.step % cfg.log_every == 0 or b == batches - 1:
                now = time.perf_counter()
                rate = seen / max(now - t_last, 1e-9)
                emit(StepMetrics(epoch=epoch, step=self.step, batch=b + 1, batches=batches,
                                 terms=vals, samples_per_sec=rate, wall_time=self.wall_time()))
                if now - t_last > 1.0:  # a rate over a recent window, not since the epoch began
                    t_last, seen = now, 0
        return "ok"

    def _fail_non_finite(self, term: str, epoch: int, emit: Emit) -> str:
        what = "the gradient norm" if term == "gradient" else f"the loss term '{term}'"
        lr = self.config.optim.lr
        tips = [f"lower the learning rate (now {lr:g}, try {lr / 10:g})"]
        if self.config.optim.grad_clip is None:
            tips.append("turn on gradient clipping (e.g. 1.0)")
        if term == "kl" or self.config.model.variational:
            tips.append("or lower beta")
        msg = (f"Training diverged at epoch {epoch}, step {self.step + 1}: {what} became "
               f"non-finite (NaN or infinity). The weights from the last finite step are kept. "
               f"To fix it, {', '.join(tips)}.")
        emit(CheckpointSaved(self._checkpoint_now()))
        emit(RunFailed(message=msg, epoch=epoch, step=self.step, term=term))
        return "failed"
