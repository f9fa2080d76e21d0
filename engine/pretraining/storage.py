"""A pretraining run in one HDF5 file: every stage a complete session, plus the stack.

Layout (format ``autoencoder-studio-pretraining``, version 1)::

    /                     attrs: format, format_version, app_version, created, status,
                                 n_stages (greedy stages), stages_done
    /config               attr "json": the PretrainConfig (a RunConfig with "pretraining")
    /stages/<k>/          k = 1..n the greedy stages, n + 1 the end-to-end pass (if any):
                          each a complete session with the session file's root layout
                          (config, data, history, epochs, snapshots, checkpoint), written
                          by engine.session.SessionWriter; extra attrs stage, role, kind,
                          width, input_dim, outcome
    /stages/<k>/stack_recon/<epoch>   (P, C, H, W) probe images through stages 1..k
    /stages/1/features    (units, C, H, W) first-layer features after stage 1
    /stacked/             attr "json": the stacked RunConfig; model/<param>: the stacked
                          autoencoder (fine-tuned when asked); features (units, C, H, W)
    /finetune/            written by ``finetune`` (see engine.pretraining.results)

Each stage is recorded by its own :class:`~engine.session.SessionWriter` into
a temporary session file beside the output; after every stage the output
is rebuilt from those files and moved into place with ``os.replace``, so
the file on disk always opens and a killed run keeps its finished stages.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np

import engine
from engine.errors import SessionError
from engine.pretraining.events import (PretrainFinished, PretrainStarted,
                                       StackReconstruction, StageCompleted, StageStarted)
from engine.session.reader import open_h5_for_reading

FORMAT_NAME = "autoencoder-studio-pretraining"
FORMAT_VERSION = 1
SESSION_FORMAT = "autoencoder-studio-session"


def _fail(path: Path, problem: str) -> SessionError:
    return SessionError(f"{Path(path).name}: {problem}")


def put(group: h5py.Group, name: str, array: np.ndarray) -> None:
    """Store an array (replacing one of the same name), checksummed when HDF5 allows."""
    a = np.ascontiguousarray(np.asarray(array))
    if name in group:
        del group[name]
    if a.ndim == 0 or a.size == 0:
        group.create_dataset(name, data=a)
    else:
        group.create_dataset(name, data=a, chunks=a.shape, fletcher32=True)


def commit_copy(path: Path, change, fresh: bool) -> None:
    """Write ``path`` atomically: build ``<path>.tmp`` (empty, or a copy), change it, rename over."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        if fresh or not path.exists():
            f = h5py.File(tmp, "w", libver=("v108", "v108"), locking=False)
        else:
            shutil.copyfile(path, tmp)
            f = h5py.File(tmp, "r+", locking=False)
        try:
            change(f)
        finally:
            f.close()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class PretrainRecorder:
    """A listener that records a pretraining run (see the module docstring).

    Use it as (or inside) the ``emit`` of ``GreedyPretrainer.run``, then
    :meth:`close`::

        with PretrainRecorder("run.h5") as rec:
            pretrainer.run(rec)

    Parameters
    ----------
    path : the file to create.
    force : replace an existing file; without it an existing file is an error.

    Raises
    ------
    SessionError
        When the file exists (without ``force``) or its folder does not.
    """

    def __init__(self, path: str | Path, force: bool = False):
        from engine.session import SessionWriter  # the session engineer's writer, per stage
        self._writer_cls = SessionWriter
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise _fail(self.path, f"cannot write here: the folder {self.path.parent} "
                                   "does not exist")
        if self.path.exists() and not force:
            raise _fail(self.path, "already exists; choose another name or pass --force "
                                   "to replace it")
        self._tmpdir = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", dir=self.path.parent))
        self._config_json = ""
        self._n_stages = 0
        self._writer = None
        self._current: int | None = None
        self._stages: dict[int, dict] = {}      # stage -> attrs, stack_recon, features, file
        self._stacked: dict[str, np.ndarray] = {}
        self._stacked_json = ""
        self._stacked_features: np.ndarray | None = None
        self._status = "running"
        self._created = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def __call__(self, event) -> None:
        if isinstance(event, PretrainStarted):
            self._config_json = event.config_json
            self._n_stages = len(event.widths)
            from engine.pretraining.config import PretrainConfig
            cfg = PretrainConfig.from_dict(json.loads(event.config_json))
            self._stacked_json = cfg.stacked_config().to_json()
            self._commit()
        elif isinstance(event, StageStarted):
            self._close_writer()
            k = event.stage
            self._current = k
            file = self._tmpdir / f"stage{k}.h5"
            self._stages[k] = {"file": file, "recon": {}, "features": None,
                               "attrs": {"stage": k, "role": event.role, "kind": event.kind,
                                         "width": event.width, "input_dim": event.input_dim,
                                         "likelihood": event.likelihood, "outcome": "running"}}
            self._writer = self._writer_cls(file, force=True, durable=False)
        elif isinstance(event, StackReconstruction):
            self._stages[event.stage]["recon"][event.epoch] = event.probe_recon
        elif isinstance(event, StageCompleted):
            self._close_writer()
            st = self._stages[event.stage]
            st["attrs"]["outcome"] = event.outcome
            st["features"] = event.features
            self._commit()
        elif isinstance(event, PretrainFinished):
            self._close_writer()
            self._status = event.outcome
            self._stacked = event.stacked
            self._stacked_features = event.features
            self._commit()
        elif self._writer is not None and getattr(event, "stage", None) == self._current:
            self._writer(event)  # the trainer's events of the stage in progress

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _commit(self) -> None:
        def change(f: h5py.File) -> None:
            f.attrs["format"] = FORMAT_NAME
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["app_version"] = engine.__version__
            f.attrs["created"] = self._created
            f.attrs["status"] = self._status
            f.attrs["n_stages"] = self._n_stages
            f.create_group("config").attrs["json"] = self._config_json
            stages = f.create_group("stages")
            done = 0
            for k, st in sorted(self._stages.items()):
                if st["attrs"]["outcome"] == "running" or not st["file"].exists():
                    continue  # the stage in progress is published when it ends
                with open_h5_for_reading(st["file"]) as src:
                    src.copy(src["/"], stages, name=str(k))
                g = stages[str(k)]
                for key, value in st["attrs"].items():
                    g.attrs[key] = value
                recon = g.create_group("stack_recon")
                for epoch, arr in sorted(st["recon"].items()):
                    put(recon, f"{epoch:06d}", np.asarray(arr, np.float32))
                if st["features"] is not None:
                    put(g, "features", np.asarray(st["features"], np.float32))
                done += st["attrs"]["outcome"] == "completed"
            f.attrs["stages_done"] = done
            if self._stacked:
                s = f.create_group("stacked")
                s.attrs["json"] = self._stacked_json
                model = s.create_group("model")
                for name, arr in self._stacked.items():
                    put(model, name, arr)
                if self._stacked_features is not None:
                    put(s, "features", np.asarray(self._stacked_features, np.float32))

        try:
            commit_copy(self.path, change, fresh=True)
        except OSError as e:
            raise _fail(self.path, f"cannot write the pretraining file: {e}") from None

    def close(self) -> None:
        """Close the stage writer and remove the temporary stage files."""
        try:
            self._close_writer()
        finally:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> "PretrainRecorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
