"""Reading version 1 files: the sessions and pretraining files of earlier releases.

Version 1 had three shapes, each read here into the objects of
:mod:`engine.session.reader` so that every part of the app opens, replays
and exports them like version 2 files:

- a session: one run at the file's root (``/config``, ``/data``,
  ``/history``, ``/epochs``, ``/snapshots/<epoch>/...``, ``/checkpoint``)
  — the run ``main``;
- a pretraining file (format ``autoencoder-studio-pretraining``): each stage
  a session layout under ``/stages/<k>``, the stacked weights under
  ``/stacked`` — runs ``stage-<k>`` and ``stack``, job ``pretrain``;
- a fine-tuning comparison under ``/finetune`` of either (curves and final
  scores per initialisation and label budget, no checkpoints) — runs
  ``classifier-<init>-<budget>``, job ``finetune``.

Version 1 files are read only; new training goes into version 2 files.
"""

from __future__ import annotations

import dataclasses
import json

import h5py
import numpy as np

from engine.config import ClassifierConfig, OptimConfig
from engine.events import Checkpoint, DatasetInfo, EpochSnapshot, RunPlan
from engine.session import loaders
from engine.session.schema import (EPOCH_META, MAIN_RUN, PRETRAINING_FORMAT_V1, STATUSES, fail,
                                   plain, require_attr, require_dataset, require_group)

from engine.session.runs import OpenSession, SessionJob, SessionRun

_IMAGES = ("probe_inputs", "probe_recon")
_ARRAYS = ("probe_latent_mean", "probe_latent_logvar", "map_latents", "map_latent_logvar",
           "kl_per_dim")


def load(session: OpenSession, root: h5py.File, fmt: str) -> None:
    """Fill ``session.runs`` (and ``jobs``) from a version 1 file."""
    if fmt == PRETRAINING_FORMAT_V1:
        _load_pretraining(session, root)
    else:
        session.runs[MAIN_RUN] = _run_at(session, root, MAIN_RUN, "run", "", {}, "")
        session.primary = MAIN_RUN
    if "finetune" in root:
        _load_comparison(session, root["finetune"])


def _text(g: h5py.HLObject, name: str, default: str = "") -> str:
    v = plain(g.attrs.get(name, default))
    return v if isinstance(v, str) else default


def _run_at(session: OpenSession, g: h5py.Group, run_id: str, role: str, title: str,
            meta: dict, job_id: str, stack_recon: h5py.Group | None = None) -> SessionRun:
    """A run stored with the version 1 session layout at group ``g``."""
    path = session.path
    config = loaders.load_config(path, require_group(path, g, "config"), "json")
    data = loaders.load_data(path, g)
    history = loaders.load_history(path, g)
    epochs = loaders.load_epochs(path, g, list(history))
    snaps = require_group(path, g, "snapshots")
    names = {}
    for name in snaps:
        if not name.isdigit():
            raise fail(path, f"{snaps.name}/{name} is not an epoch number")
        names[int(name)] = name
    base = g.name
    recon_names = set(stack_recon) if stack_recon is not None else set()
    # Its name, not the group: after Session.release() each read opens the file anew.
    recon_group = stack_recon.name if stack_recon is not None else ""

    def read_snapshot(f: h5py.File, epoch: int) -> EpochSnapshot:
        s = f[base]["snapshots"][names[epoch]]
        images = {k: _floats(path, s, k, data.probe_images.shape) for k in _IMAGES}
        if f"{epoch:06d}" in recon_names:
            shape = (len(data.probe_images), *session_image_shape(f, data))
            images["stack_recon"] = require_dataset(
                path, f[recon_group], f"{epoch:06d}", "f", shape=shape)[()].astype(
                np.float32)
        arrays = {k: _floats(path, s, k) for k in _ARRAYS if k in s}
        weights = {f"decoder.{k}": v for k, v in
                   loaders.load_arrays(path, require_group(path, s, "decoder"), "f").items()}
        return EpochSnapshot(epoch=require_attr(path, s, "epoch", int),
                             step=require_attr(path, s, "step", int),
                             images=images, arrays=arrays, weights=weights)

    def read_checkpoint(f: h5py.File) -> Checkpoint | None:
        ck = f[base].get("checkpoint")
        return None if ck is None else loaders.load_checkpoint(path, ck, config, data)

    status = _text(g, "status", "running")
    return SessionRun(
        session=session, run_id=run_id, title=title or config.name, role=role, job_id=job_id,
        meta=meta, config=config, data=data, history=history, epoch_history=epochs,
        snapshot_epochs=sorted(names), status=status if status in STATUSES else "running",
        status_message=_text(g, "status_message") or None,
        steps_per_epoch=int(plain(g.attrs.get("steps_per_epoch", 0)) or 0),
        _read_snapshot=read_snapshot, _read_checkpoint=read_checkpoint)


def session_image_shape(f: h5py.File, data: DatasetInfo) -> tuple[int, ...]:
    """The pixel images' shape of a pretraining file (stage 1's), for stack reconstructions."""
    g = f.get("stages/1/data")
    return tuple(int(d) for d in g.attrs["image_shape"]) if g is not None else data.image_shape


def _floats(path, g: h5py.Group, name: str, shape=None) -> np.ndarray:
    ds = require_dataset(path, g, name, "f", shape=shape, ndim=None if shape else None)
    return ds[()].astype(np.float32)


def _load_pretraining(session: OpenSession, root: h5py.File) -> None:
    path = session.path
    config = loaders.load_config(path, require_group(path, root, "config"), "json")
    plan: list[RunPlan] = []
    stages = require_group(path, root, "stages")
    for name, g in sorted(stages.items(), key=lambda kv: int(kv[0])):
        k = int(name)
        finetune = _text(g, "role") == "finetune"
        run_id, role = ("stack", "stack") if finetune else (f"stage-{k}", "stage")
        title = ("the stack, end to end" if finetune else
                 f"stage {k} ({int(plain(g.attrs.get('input_dim', 0)))}→"
                 f"{int(plain(g.attrs.get('width', 0)))}, {_text(g, 'kind')})")
        meta = {"stage": k, "kind": _text(g, "kind"), "likelihood": _text(g, "likelihood")}
        recon = g.get("stack_recon")
        session.runs[run_id] = _run_at(session, g, run_id, role, title, meta, "pretrain", recon)
        plan.append(RunPlan(run_id, title, role, meta))
    if "stack" not in session.runs and "stacked" in root:
        session.runs["stack"] = _stacked_only(session, root)
        plan.append(RunPlan("stack", "the stack (as assembled)", "stack", {}))
    session.jobs["pretrain"] = SessionJob("pretrain", "pretrain",
                                          "greedy layer-wise pretraining", config.to_json(), plan)
    session.primary = "stack" if "stack" in session.runs else next(iter(session.runs), "")


def _stacked_only(session: OpenSession, root: h5py.File) -> SessionRun:
    """The stack of a run without end-to-end epochs: weights only, nothing to replay."""
    path = session.path
    g = root["stacked"]
    config = loaders.load_config(path, g, "json")
    data = loaders.load_data(path, root["stages/1"])
    model = loaders.load_arrays(path, require_group(path, g, "model"), "f")
    loaders.check_weights(path, model, config, data, g.name + "/model")
    empty = {k: np.zeros(0, np.int64 if k != "wall_time" else np.float64) for k in EPOCH_META}

    def read_checkpoint(f: h5py.File) -> Checkpoint:
        return Checkpoint(epoch=0, step=0, position=0, wall_time=0.0, model=model,
                          optimizers={}, optimizer_json={}, rng={}, permutation=None,
                          epoch_sums={})

    return SessionRun(session=session, run_id="stack", title="the stack (as assembled)",
                      role="stack", job_id="pretrain", meta={}, config=config, data=data,
                      history=dict(empty), epoch_history={**empty, "train": {}, "val": {}},
                      snapshot_epochs=[], status=_text(root, "status", "completed"),
                      status_message=None, _read_snapshot=None, _read_checkpoint=read_checkpoint)


def _load_comparison(session: OpenSession, g: h5py.Group) -> None:
    """The classifier runs of a version 1 ``/finetune`` group (curves and final scores)."""
    path = session.path
    source = session.runs.get(session.primary)
    if source is None:
        return
    settings = loaders._json(path, g, "classifier_json", require_attr(path, g, "classifier_json", str))
    names = loaders._json(path, g, "budget_names", require_attr(path, g, "budget_names", str))
    runs = require_group(path, g, "runs")
    plan = []
    for init in ("pretrained", "random"):
        if init not in runs:
            continue
        for budget, rg in sorted(runs[init].items(), key=lambda kv: int(kv[0])):
            budget = int(budget)
            run_id = f"classifier-{init}-{budget}"
            cfg = dataclasses.replace(
                source.config, name=f"{source.config.name} classifier", pretraining=None,
                model=dataclasses.replace(source.config.model, family="classifier"),
                optim=OptimConfig(optimizer=settings.get("optimizer", "adam"),
                                  lr=float(settings.get("lr", 1e-3)),
                                  batch_size=int(settings.get("batch_size", 32)),
                                  epochs=int(settings.get("epochs", 1)),
                                  weight_decay=float(settings.get("weight_decay", 0.0))),
                classifier=ClassifierConfig(labels=budget, freeze=bool(settings.get("freeze")),
                                            init=init, encoder=_text(g, "source")))
            curves = {k: rg[k][()] for k in ("epoch", "train_loss", "train_accuracy",
                                             "val_loss", "val_accuracy") if k in rg}
            epoch = np.asarray(curves.get("epoch", np.zeros(0)), np.int64)
            epochs = {"epoch": epoch, "step": np.zeros_like(epoch),
                      "wall_time": np.zeros(len(epoch)),
                      "train": {"total": curves.get("train_loss"),
                                "accuracy": curves.get("train_accuracy")},
                      "val": {"total": curves.get("val_loss"),
                              "accuracy": curves.get("val_accuracy")}}
            confusion = rg["confusion"][()] if "confusion" in rg else None
            last = int(epoch[-1]) if len(epoch) else 0
            meta = {"init": init, "budget": budget}
            title = f"{init} encoder, {budget} labels"
            data = dataclasses.replace(source.data, n_train=budget)
            snap = EpochSnapshot(epoch=last, step=0, arrays={} if confusion is None else
                                 {"confusion": np.asarray(confusion, np.int64)})
            session.runs[run_id] = SessionRun(
                session=session, run_id=run_id, title=title, role="classifier",
                job_id="finetune", meta=meta, config=cfg, data=data,
                history={"step": np.zeros(0, np.int64), "epoch": np.zeros(0, np.int64),
                         "wall_time": np.zeros(0)},
                epoch_history=epochs,
                snapshot_epochs=[last] if confusion is not None and last else [],
                status=_text(rg, "outcome", "completed"), status_message=None,
                _read_snapshot=lambda f, e, snap=snap: snap,
                _read_checkpoint=lambda f: None)
            plan.append(RunPlan(run_id, title, "classifier", meta))
    spec = {"source": {"description": _text(g, "source"), "file": _text(g, "encoder_file")},
            "budgets": names, "classifier": settings}
    session.jobs["finetune"] = SessionJob("finetune", "finetune",
                                          "pretrained versus random encoder", json.dumps(spec),
                                          plan)
