"""Greedy layer-wise pretraining: one ordinary Trainer per stage, then the stack.

Stage k trains a one-hidden-layer autoencoder on the codes that stages
1..k-1 produce. Those earlier stages are frozen by construction: their codes
are computed once, before stage k starts, and stage k's trainer and
optimiser never see their weights. Each stage's events are the trainer's
own, re-tagged with ``stage=k``; each stage keeps its own loss history.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import torch

from engine.checkpoint import load_module_arrays, module_arrays
from engine.config import RunConfig
from engine.control import TrainingControl
from engine.data import Dataset, load_dataset
from engine.events import Checkpoint, EpochEnded, EpochSnapshot, Event, RunFailed, RunFinished
from engine.models import Autoencoder, build_autoencoder
from engine.pretraining.config import PretrainConfig
from engine.pretraining.events import (FINETUNE, LAYER, PretrainFinished, PretrainStarted,
                                       StackReconstruction, StageCompleted, StageStarted)
from engine.pretraining.stack import (assemble_stacked, decode_through, encode_dataset,
                                      encode_through, encoder_arrays, first_layer_features)
from engine.trainer import Trainer


@dataclass
class StageHistory:
    """Epoch means of one stage's loss terms, kept apart from every other stage's.

    Attributes
    ----------
    epochs : the epochs seen, 1-based within the stage.
    train, val : term name -> one value per epoch.
    """

    epochs: list[int] = field(default_factory=list)
    train: dict[str, list[float]] = field(default_factory=dict)
    val: dict[str, list[float]] = field(default_factory=dict)

    def add(self, event: EpochEnded) -> None:
        self.epochs.append(event.epoch)
        for store, terms in ((self.train, event.train), (self.val, event.val)):
            for k, v in terms.items():
                store.setdefault(k, []).append(float(v))

    def arrays(self) -> dict[str, np.ndarray]:
        """``epoch``, ``train/<term>``, ``val/<term>`` -> (epochs,) arrays."""
        out = {"epoch": np.asarray(self.epochs, np.int64)}
        out.update({f"train/{k}": np.asarray(v) for k, v in self.train.items()})
        out.update({f"val/{k}": np.asarray(v) for k, v in self.val.items()})
        return out


@dataclass
class StageResult:
    """One trained stage: its config, model (stays on its device), history and outcome."""

    stage: int
    role: str
    config: RunConfig
    model: Autoencoder
    history: StageHistory
    outcome: str
    device: torch.device = torch.device("cpu")
    final_checkpoint: Checkpoint | None = None  # the state after the last epoch


class GreedyPretrainer:
    """Runs the stages of a :class:`PretrainConfig` one after another.

    Parameters
    ----------
    config : the pretraining run; validated here.
    dataset : the images, or None to load ``config.base.data``.

    Attributes (after :meth:`run`)
    ------------------------------
    stages : a :class:`StageResult` per greedy stage that ran.
    finetune : the end-to-end pass's StageResult, or None.
    stacked : the stacked :class:`Autoencoder` (fine-tuned when asked), or None.
    """

    def __init__(self, config: PretrainConfig, dataset: Dataset | None = None):
        self.config = config.validate()
        base = config.base
        self.dataset = dataset if dataset is not None else load_dataset(base.data, base.seed)
        self.stages: list[StageResult] = []
        self.finetune: StageResult | None = None
        self.stacked: Autoencoder | None = None
        self._steps_done = self._epochs_done = 0  # over all stages so far

    def run(self, emit, control: TrainingControl | None = None) -> str:
        """Train every stage, stack them, and fine-tune end to end if asked.

        Parameters
        ----------
        emit : receives the trainer's events re-tagged with their stage and
            the events of :mod:`engine.pretraining.events`.
        control : pause/resume/stop for all stages; a stop ends the whole run.

        Returns
        -------
        ``'completed'``, ``'stopped'`` or ``'failed'``.
        """
        cfg, control = self.config, control or TrainingControl()
        emit(PretrainStarted(widths=tuple(cfg.widths), kinds=tuple(cfg.stage_kind(k) for k in
                                                                    range(1, cfg.n_stages + 1)),
                             code_activation=cfg.code_activation,
                             image_shape=self.dataset.image_shape, stage_epochs=cfg.stage_epochs,
                             finetune_epochs=cfg.finetune_epochs,
                             config_json=cfg.to_run_config().to_json()))
        data = self.dataset
        for k in range(1, cfg.n_stages + 1):
            if k > 1:
                prev = self.stages[-1]
                data = encode_dataset(prev.model.encoder, data, k, prev.device)
            result = self._run_stage(k, LAYER, cfg.stage_config(k), data, None, emit, control)
            if result.outcome != "completed":
                return self._finish(result.outcome, emit)
        self.stacked = assemble_stacked(cfg.stacked_config(), [s.model for s in self.stages])
        if cfg.finetune_epochs > 0:
            result = self._run_stage(cfg.n_stages + 1, FINETUNE, cfg.stacked_config(),
                                     self.dataset, self.stacked, emit, control)
            if result.outcome != "completed":
                return self._finish(result.outcome, emit)
            self.stacked = _to_cpu_copy(result.model, cfg.stacked_config())
        return self._finish("completed", emit)

    def _finish(self, outcome: str, emit) -> str:
        stacked, features = {}, None
        if self.stacked is not None:
            stacked = module_arrays(self.stacked)
            features = first_layer_features(self.stacked, self.dataset.image_shape)
        emit(PretrainFinished(outcome=outcome,
                              stages_completed=sum(s.outcome == "completed" for s in self.stages),
                              stacked=stacked, features=features))
        return outcome

    def _run_stage(self, k: int, role: str, stage_cfg: RunConfig, data: Dataset,
                   start: Autoencoder | None, emit, control: TrainingControl) -> StageResult:
        cfg = self.config
        trainer = Trainer(stage_cfg, data)
        if start is not None:
            # Greedy weights in, fresh optimiser state: end-to-end training starts here.
            load_module_arrays(trainer.model, module_arrays(start))
        model = trainer.model
        history = StageHistory()
        result = StageResult(stage=k, role=role, config=stage_cfg, model=model,
                             history=history, outcome="failed", device=trainer.device)
        earlier = [s.model for s in self.stages] if role == LAYER else []
        probe = torch.from_numpy(self.dataset.images[self.dataset.probe_idx])
        in_dim = int(np.prod(data.image_shape))
        emit(StageStarted(stage=k, n_stages=cfg.n_stages, role=role, input_dim=in_dim,
                          width=stage_cfg.model.latent_dim,
                          kind=cfg.stage_kind(k) if role == LAYER else stage_cfg.kind_label(),
                          likelihood=stage_cfg.objective.likelihood,
                          epochs=stage_cfg.optim.epochs, config_json=stage_cfg.to_json(),
                          step_offset=self._steps_done, epoch_offset=self._epochs_done))

        def tagged(event: Event) -> None:
            emit(dataclasses.replace(event, stage=k))
            if isinstance(event, EpochEnded):
                history.add(event)
            elif isinstance(event, EpochSnapshot) and role == LAYER:
                stack = earlier + [model]
                recon = decode_through(stack, encode_through(stack, probe))
                emit(StackReconstruction(stage=k, epoch=event.epoch,
                                         probe_recon=recon.cpu().numpy().astype(np.float32)))
            elif isinstance(event, (RunFinished, RunFailed)):
                result.outcome = (event.reason if isinstance(event, RunFinished) else "failed")

        trainer.run(tagged, control)
        result.final_checkpoint = trainer.checkpoint()
        self._steps_done += trainer.step
        self._epochs_done += trainer.epochs_done
        features = (first_layer_features(model, self.dataset.image_shape)
                    if k == 1 or role == FINETUNE else None)
        # Recorded before StageCompleted, so its listeners see the finished stage.
        if role == LAYER:
            self.stages.append(result)
        else:
            self.finetune = result
        emit(StageCompleted(stage=k, role=role, outcome=result.outcome,
                            encoder=encoder_arrays(model), features=features,
                            history=history.arrays()))
        return result


def _to_cpu_copy(model: Autoencoder, config: RunConfig) -> Autoencoder:
    """A CPU copy, so the result does not pin the training device's memory."""
    with torch.random.fork_rng(devices=[]):
        copy = build_autoencoder(model.image_shape, config.model, config.objective)
    load_module_arrays(copy, module_arrays(model))
    return copy
