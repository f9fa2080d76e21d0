"""Greedy layer-wise pretraining: a short orchestrator of ordinary runs.

Stage k trains a one-hidden-layer autoencoder (an ordinary
:class:`~engine.trainer.Trainer` run) on the codes that stages 1..k-1
produce. Those earlier stages are frozen by construction: their codes are
computed once, before stage k starts, and stage k's trainer and optimiser
never see their weights. Then the stages' layers are assembled into the
deep autoencoder, whose own run (``stack``) trains it end to end for
``pretraining.end_to_end_epochs`` (none: it is kept as assembled).

The job emits ``JobStarted`` with the plan, then ``RunOpened`` and the
trainer's own events for each run; a greedy stage's snapshots also carry
``stack_recon``: the probe images through stages 1..k and back. Given the
session of an interrupted job, it continues it: finished runs are taken
from their checkpoints, the interrupted one resumes, the rest run.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from engine.checkpoint import load_module_arrays, module_arrays
from engine.config import RunConfig
from engine.control import TrainingControl
from engine.data import Dataset, load_dataset
from engine.device import resolve_device
from engine.events import Emit, EpochSnapshot, JobStarted, RunOpened, RunPlan
from engine.models import Autoencoder, build_model
from engine.pretraining.stack import (assemble_stacked, decode_through, encode_dataset,
                                      encode_through)
from engine.pretraining.stages import stack_config, stage_config, stage_title, stage_widths
from engine.trainer import Trainer

JOB_ID = "pretrain"
STACK_RUN = "stack"


def stage_run_id(k: int) -> str:
    return f"stage-{k}"


class GreedyPretraining:
    """Runs the stages of a pretraining config one after another, then the stack.

    Parameters
    ----------
    config : a RunConfig with a ``pretraining`` section; validated here.
    dataset : the images, or None to load ``config.data``.

    Attributes (after :meth:`run`)
    ------------------------------
    stages : the trained stage autoencoders, stage 1 first.
    stacked : the stack's trainer (its model trained end to end when asked), or None.
    """

    def __init__(self, config: RunConfig, dataset: Dataset | None = None):
        if config.pretraining is None:
            raise ValueError("GreedyPretraining needs a config with a pretraining section")
        self.config = config.validate()
        self.dataset = dataset if dataset is not None else load_dataset(config.data, config.seed)
        self.stages: list[Autoencoder] = []
        self.stacked: Trainer | None = None
        self.device = resolve_device(config.device)

    def plan(self) -> JobStarted:
        """What the job will train, as its first event."""
        cfg = self.config
        inputs = (int(np.prod(self.dataset.image_shape)),) + stage_widths(cfg)
        runs = [RunPlan(stage_run_id(k), stage_title(cfg, k, inputs[k - 1]), "stage",
                        {"stage": k, "kind": cfg.pretraining.stage_kind(k),
                         "epochs": cfg.optim.epochs,
                         "width": stage_widths(cfg)[k - 1], "input_dim": inputs[k - 1],
                         "likelihood": stage_config(cfg, k).objective.likelihood})
                for k in range(1, len(inputs))]
        sizes = "-".join(str(w) for w in inputs)
        e2e = cfg.pretraining.end_to_end_epochs
        runs.append(RunPlan(STACK_RUN, f"the stack {sizes}, end to end" if e2e else
                            f"the stack {sizes} (as assembled)", "stack",
                            {"epochs": e2e}))
        return JobStarted(job_id=JOB_ID, kind="pretrain",
                          title=f"greedy layer-wise pretraining, {sizes}",
                          spec_json=cfg.to_json(), runs=tuple(runs))

    def run(self, emit: Emit, control: TrainingControl | None = None, previous=None,
            *, snapshots: bool = True, checkpoints: bool = True) -> str:
        """Train every stage, stack them, and train the stack end to end if asked.

        Parameters
        ----------
        emit : receives the job's events and each run's trainer events.
        control : pause/resume/stop for all runs; a stop ends the whole job.
        previous : the :class:`~engine.session.Session` of this job interrupted
            earlier, to continue; None for a new job.
        snapshots, checkpoints : passed to every ``Trainer.run``.

        Returns
        -------
        ``'completed'``, ``'stopped'`` or ``'failed'``.
        """
        cfg, control = self.config, control or TrainingControl()
        flags = {"snapshots": snapshots, "checkpoints": checkpoints}
        emit(self.plan())
        data = self.dataset
        probe = torch.from_numpy(self.dataset.images[self.dataset.probe_idx])
        for k in range(1, len(stage_widths(cfg)) + 1):
            if k > 1:
                data = encode_dataset(self.stages[-1].encoder, data, k, self.device)
            stage_cfg = stage_config(cfg, k)
            done = _stored(previous, stage_run_id(k))
            if done is not None and done.status == "completed":
                self.stages.append(_model_from(done, stage_cfg, data.image_shape, self.device))
                continue
            if control.stop_requested:  # asked during the last step of the run before
                return "stopped"
            trainer = Trainer(stage_cfg, data, checkpoint=_checkpoint(done))
            earlier = list(self.stages)

            def with_stack(event, model=trainer.model, earlier=earlier):
                if isinstance(event, EpochSnapshot):
                    stack = earlier + [model]
                    recon = decode_through(stack, encode_through(stack, probe))
                    event = dataclasses.replace(event, images={
                        **event.images, "stack_recon": recon.cpu().numpy().astype(np.float32)})
                emit(event)

            emit(RunOpened(JOB_ID, stage_run_id(k)))
            outcome = trainer.run(with_stack, control, **flags)
            if outcome != "completed":
                return outcome
            self.stages.append(trainer.model)
        if control.stop_requested:
            return "stopped"
        return self._run_stack(emit, control, previous, flags)

    def _run_stack(self, emit: Emit, control, previous, flags) -> str:
        cfg = self.config
        stack_cfg = stack_config(cfg)
        done = _stored(previous, STACK_RUN)
        ck = _checkpoint(done)
        init = None
        if ck is None:
            init = module_arrays(assemble_stacked(stack_cfg, [s.cpu() for s in self.stages]))
        self.stacked = Trainer(stack_cfg, self.dataset, checkpoint=ck, init_weights=init)
        emit(RunOpened(JOB_ID, STACK_RUN))
        # Always the job's end-to-end epochs: the stack config asks for at least 1 (to
        # stay valid), which a resumed stack "kept as assembled" must not train.
        return self.stacked.run(emit, control, cfg.pretraining.end_to_end_epochs, **flags)


def _stored(previous, run_id: str):
    if previous is None:
        return None
    return previous.runs.get(run_id)


def _checkpoint(run):
    """The run's checkpoint to resume from, or None (not started, or nothing saved)."""
    if run is None:
        return None
    ck = run.checkpoint()
    return ck if ck is not None and ck.optimizers else None


def _model_from(run, config: RunConfig, image_shape, device) -> Autoencoder:
    """A finished stage's autoencoder, rebuilt from its stored checkpoint."""
    with torch.random.fork_rng(devices=[]):
        model = build_model(config, image_shape)
    load_module_arrays(model, run.checkpoint().model)
    return model.to(device)
