"""Where each event's content goes in the file: one function per part of a session.

Every function takes the *run group* to write into — the file's root for
an ordinary run. Greedy layer-wise pretraining can later give each stage
its own run group (``/stages/<k>``) with this same layout, written by these
same functions.

All values are plain arrays and attributes; strings are fixed-length UTF-8
attributes (see ``h5fast.set_text``). Arrays are contiguous
datasets without filters: an epoch is recorded at memory speed. (A
Fletcher-32 checksum per array would double the cost of a snapshot; the
metadata, in the HDF5 1.8 format, has checksums of its own.)
"""

from __future__ import annotations

import json

import h5py
import numpy as np

from engine.events import Checkpoint, DatasetInfo, EpochSnapshot, RunStarted
from engine.session.h5fast import create_array, datasets_below, overwrite_array, set_text
from engine.session.schema import (EPOCH_CHUNK, EPOCH_META, FORMAT_NAME, FORMAT_VERSION,
                                   HISTORY_CHUNK, HISTORY_META, snapshot_name)
from engine.session.tables import create_table, truncate_rows


def sync_arrays(group: h5py.Group, arrays: dict[str, np.ndarray]) -> None:
    """Make ``group`` hold exactly ``arrays`` (names may contain ``/``).

    Datasets of unchanged shape and dtype are overwritten in place: HDF5 does
    not reuse the space of a deleted dataset after the file is closed, so
    deleting and re-creating the checkpoint every time would grow the file
    by a whole model each time.
    """
    existing = datasets_below(group)
    for name in existing:
        if name not in arrays:
            del group[name]
    for name, value in arrays.items():
        ds = existing.get(name)
        if ds is not None and overwrite_array(ds, value):
            continue
        if ds is not None:
            del group[name]
        create_array(group, name, value)


def replace_array(group: h5py.Group, name: str, value: np.ndarray | None) -> None:
    """Set (overwriting in place where the shape allows) or, for None, remove a dataset."""
    ds = group.get(name)
    if isinstance(ds, h5py.Dataset) and value is not None and overwrite_array(ds, value):
        return
    if ds is not None:
        del group[name]
    if value is not None:
        create_array(group, name, value)


def write_header(root: h5py.Group, started: RunStarted, app_version: str, created: str) -> None:
    """Format attributes, the config and the data description of a new session."""
    set_text(root, "format", FORMAT_NAME)
    root.attrs["format_version"] = FORMAT_VERSION
    set_text(root, "app_version", app_version)
    set_text(root, "created", created)
    write_run_attrs(root, started)
    set_text(root.create_group("config"), "json", started.config_json)
    write_data(root.create_group("data"), started.data)
    terms = list(started.term_names)
    history = create_table(root, "history", [*HISTORY_META, *terms], HISTORY_CHUNK)
    set_text(history, "terms", json.dumps(terms))
    create_table(root, "epochs", [*EPOCH_META, *(f"train/{t}" for t in terms),
                                  *(f"val/{t}" for t in terms)], EPOCH_CHUNK)
    root.create_group("snapshots")


def write_run_attrs(root: h5py.Group, started: RunStarted) -> None:
    """What the latest training call ran on (also refreshed when a run resumes)."""
    set_text(root, "status", "running")
    set_text(root, "device", started.device)
    root.attrs["n_parameters"] = int(started.n_parameters)
    root.attrs["steps_per_epoch"] = int(started.steps_per_epoch)
    if "status_message" in root.attrs:
        del root.attrs["status_message"]


def write_data(group: h5py.Group, data: DatasetInfo) -> None:
    """The data description and the fixed probe images of the run."""
    set_text(group, "source", data.source)
    group.attrs["image_shape"] = np.asarray(data.image_shape, dtype=np.int64)
    group.attrs["n_train"] = int(data.n_train)
    group.attrs["n_val"] = int(data.n_val)
    set_text(group, "factor_names", json.dumps(list(data.factor_names)))
    if data.label_names is not None:
        set_text(group, "label_names", json.dumps(list(data.label_names)))
    create_array(group, "probe_images", np.asarray(data.probe_images, dtype=np.float32))
    for name in ("probe_labels", "map_labels"):
        value = getattr(data, name)
        if value is not None:
            create_array(group, name, np.asarray(value, dtype=np.int64))
    if data.map_factors is not None:
        create_array(group, "map_factors", np.asarray(data.map_factors, dtype=np.float32))


def write_snapshot(snapshots: h5py.Group, snap: EpochSnapshot,
                   same_inputs_as: int | None = None) -> None:
    """One epoch's replay data under ``snapshots/<epoch>``.

    Parameters
    ----------
    same_inputs_as : the epoch of an earlier snapshot whose ``probe_inputs``
        equal this one's; they are then hard-linked rather than stored again
        (the probe corruption uses a fixed seed, so the inputs rarely change).
    """
    name = snapshot_name(snap.epoch)
    if name in snapshots:  # a re-trained epoch replaces the old one
        del snapshots[name]
    g = snapshots.create_group(name)
    g.attrs["epoch"] = int(snap.epoch)
    g.attrs["step"] = int(snap.step)
    if snap.stage is not None:
        g.attrs["stage"] = int(snap.stage)
    earlier = None if same_inputs_as is None else f"{snapshot_name(same_inputs_as)}/probe_inputs"
    if earlier is not None and earlier in snapshots:
        g["probe_inputs"] = snapshots[earlier]
    else:
        create_array(g, "probe_inputs", np.asarray(snap.probe_inputs, dtype=np.float32))
    create_array(g, "probe_recon", np.asarray(snap.probe_recon, dtype=np.float32))
    for field in ("probe_latent_mean", "probe_latent_logvar", "map_latents",
                  "map_latent_logvar", "kl_per_dim"):
        value = getattr(snap, field)
        if value is not None:
            create_array(g, field, np.asarray(value, dtype=np.float32))
    dec = g.create_group("decoder")
    for key, value in snap.decoder.items():
        create_array(dec, key, np.asarray(value))


def write_checkpoint(root: h5py.Group, ck: Checkpoint, stage: int | None = None) -> None:
    """Replace the run's checkpoint (only the latest one is kept)."""
    g = root.require_group("checkpoint")
    g.attrs["epoch"] = int(ck.epoch)
    g.attrs["step"] = int(ck.step)
    g.attrs["position"] = int(ck.position)
    g.attrs["wall_time"] = float(ck.wall_time)
    set_text(g, "optimizer_json", ck.optimizer_json)
    set_text(g, "epoch_sums", json.dumps({k: float(v) for k, v in ck.epoch_sums.items()}))
    if stage is not None:
        g.attrs["stage"] = int(stage)
    elif "stage" in g.attrs:
        del g.attrs["stage"]
    sync_arrays(g.require_group("model"), ck.model)
    sync_arrays(g.require_group("optimizer"), ck.optimizer)
    sync_arrays(g.require_group("rng"), ck.rng)
    replace_array(g, "permutation", None if ck.permutation is None
                  else np.asarray(ck.permutation, dtype=np.int64))


def truncate_run(root: h5py.Group, step: int, epoch: int) -> None:
    """Forget everything after ``step`` / ``epoch`` (before a resume from that point).

    History rows can run ahead of the checkpoint when a run was killed or
    failed between checkpoints; a resumed run retrains those steps.
    """
    for table, index, last in ((root["history"], "step", step), (root["epochs"], "epoch", epoch)):
        truncate_rows(table, int(np.searchsorted(table[index], last, side="right")))
    for name in list(root["snapshots"]):
        if name.isdigit() and int(name) > epoch:
            del root["snapshots"][name]


def set_status(root: h5py.Group, status: str, message: str | None = None) -> None:
    set_text(root, "status", status)
    if message:
        set_text(root, "status_message", message)
    elif "status_message" in root.attrs:
        del root.attrs["status_message"]
