"""Where each event's content goes in a version 2 session file: one function per part.

A file holds one or more runs, each in its own group ``/runs/<run_id>``
with the same layout (config, data, history, epochs, snapshots,
checkpoint); a job of several runs (a greedy stack, a comparison) is
described under ``/jobs/<job_id>``. Every function here takes the group it
writes into.

Snapshots are few, large objects: one dataset per named quantity with an
epoch axis, one chunk per epoch, appended to at each epoch end — so an epoch
adds chunks, not objects. Images are stored as uint8 (display precision,
within 1/255), other float arrays as float16, the images with HDF5's standard
shuffle + gzip filters. The interactive weights are kept at a bounded set of
epochs only, in a pool of slots (``weights.py``), float16 without a filter
(gzip saved only 14 % of float16 weights at 11 ms an epoch for the default
preset: their low byte is noise). Strings are fixed-length UTF-8 attributes
(``h5fast.set_text``).
"""

from __future__ import annotations

import json

import h5py
import numpy as np

from engine.events import Checkpoint, DatasetInfo, EpochSnapshot, JobStarted, RunPlan, RunStarted
from engine.session import weights
from engine.session.h5fast import (create_array, datasets_below, overwrite_all, overwrite_array,
                                   set_text)
from engine.session.schema import (EPOCH_CHUNK, EPOCH_META, FORMAT_NAME, FORMAT_VERSION,
                                   HISTORY_CHUNK, HISTORY_META)
from engine.session.tables import create_table, truncate_rows

GZIP_LEVEL = 1   # the level that costs least per byte saved on these arrays


# -- the file and its jobs ------------------------------------------------------------------

def write_root(root: h5py.File, app_version: str, created: str) -> None:
    """Format attributes and the groups of a new session file."""
    set_text(root, "format", FORMAT_NAME)
    root.attrs["format_version"] = FORMAT_VERSION
    set_text(root, "app_version", app_version)
    set_text(root, "created", created)
    root.require_group("runs")
    root.require_group("jobs")


def upgrade(root: h5py.File) -> None:
    """Bring a version 2 file to the current version before new training is added to it:
    each run's weights, a row per snapshot, become its pool of kept weights."""
    for run in root["runs"].values():
        if isinstance(run, h5py.Group) and isinstance(run.get("snapshots"), h5py.Group):
            weights.adopt_rows(run["snapshots"])
    root.attrs["format_version"] = FORMAT_VERSION


def write_job(root: h5py.File, job: JobStarted) -> None:
    """A job's description and plan, under ``/jobs/<job_id>`` (replacing one of that id)."""
    jobs = root.require_group("jobs")
    if job.job_id in jobs:
        del jobs[job.job_id]
    g = jobs.create_group(job.job_id)
    set_text(g, "kind", job.kind)
    set_text(g, "title", job.title)
    set_text(g, "spec", job.spec_json)
    set_text(g, "plan", json.dumps([{"run_id": p.run_id, "title": p.title, "role": p.role,
                                     "meta": p.meta} for p in job.runs]))


def set_primary(root: h5py.File, run_id: str) -> None:
    """The run a reader shows first (the result of the file's first job)."""
    set_text(root, "primary", run_id)


# -- one run ----------------------------------------------------------------------------------

def write_run_header(runs: h5py.Group, run_id: str, started: RunStarted, plan: RunPlan,
                     job_id: str, order: int) -> h5py.Group:
    """A new run group: what it is, its config, its data description, empty tables."""
    g = runs.create_group(run_id)
    set_text(g, "title", plan.title)
    set_text(g, "role", plan.role)
    set_text(g, "job", job_id)
    set_text(g, "meta", json.dumps(plan.meta))
    g.attrs["order"] = int(order)
    write_run_attrs(g, started)
    write_data(g.create_group("data"), started.data)
    terms = list(started.term_names)
    history = create_table(g, "history", [*HISTORY_META, *terms], HISTORY_CHUNK)
    set_text(history, "terms", json.dumps(terms))
    create_table(g, "epochs", [*EPOCH_META, *(f"train/{t}" for t in terms),
                               *(f"val/{t}" for t in terms)], EPOCH_CHUNK)
    snaps = g.create_group("snapshots")
    for name in ("epoch", "step"):
        snaps.create_dataset(name, shape=(0,), maxshape=(None,), chunks=(EPOCH_CHUNK,),
                             dtype=np.int64)
    return g


def write_run_attrs(g: h5py.Group, started: RunStarted) -> None:
    """What the latest training call ran (also refreshed when a run resumes)."""
    set_text(g, "config", started.config.to_json())
    set_text(g, "status", "running")
    set_text(g, "device", started.device)
    g.attrs["n_parameters"] = int(started.n_parameters)
    g.attrs["steps_per_epoch"] = int(started.steps_per_epoch)
    if "status_message" in g.attrs:
        del g.attrs["status_message"]


def write_data(group: h5py.Group, data: DatasetInfo) -> None:
    """The data description and the fixed probe images of the run."""
    set_text(group, "source", data.source)
    group.attrs["image_shape"] = np.asarray(data.image_shape, dtype=np.int64)
    group.attrs["n_train"] = int(data.n_train)
    group.attrs["n_val"] = int(data.n_val)
    if data.n_classes is not None:
        group.attrs["n_classes"] = int(data.n_classes)
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


# -- snapshots ----------------------------------------------------------------------------------

def stored_image(images: np.ndarray) -> np.ndarray:
    """Images in [0, 1] as uint8 levels (round to nearest: within 0.5/255)."""
    return (np.clip(images, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def stored_array(array: np.ndarray) -> np.ndarray:
    """Floats as float16 (3 significant digits: plenty for a view); others as they are."""
    a = np.asarray(array)
    return a.astype(np.float16) if a.dtype.kind == "f" else a


def write_snapshot(snaps: h5py.Group, snap: EpochSnapshot, weights_budget: int) -> None:
    """Append one epoch to every per-quantity dataset of ``snaps``; its interactive weights
    go to the run's pool of kept weights if the thinning keeps them (``weights.store``)."""
    row = h5py.h5d.open(snaps.id, b"epoch").shape[0]
    _append(snaps, "epoch", np.asarray(snap.epoch, np.int64), row, False)
    _append(snaps, "step", np.asarray(snap.step, np.int64), row, False)
    # Only the 8-bit images are worth gzip (2.7x smaller at 0.5 ms an epoch for the default
    # preset); float16 codes shrink by 15 % for as much time again.
    rows = [(snaps.require_group(part), name, convert(value), compress)
            for part, values, convert, compress in (("images", snap.images, stored_image, True),
                                                    ("arrays", snap.arrays, stored_array, False))
            for name, value in values.items()]
    # Every new dataset first, then the rows: the object headers (rewritten at every
    # append) then lie side by side in a few pages, not each beside its first chunk.
    ids = [_dataset(group, name, value, row, compress) for group, name, value, compress in rows]
    for dsid, (_, _, value, _) in zip(ids, rows):
        _write_row(dsid, value, row)
    weights.store(snaps, row, snap.epoch, snap.weights, weights_budget)


def _append(group: h5py.Group, name: str, value: np.ndarray, row: int,
            compress: bool) -> h5py.h5d.DatasetID:
    """Write ``value`` as row ``row`` of ``group[name]`` (created, or re-created for a new
    shape)."""
    dsid = _dataset(group, name, value, row, compress)
    _write_row(dsid, value, row)
    return dsid


def _dataset(group: h5py.Group, name: str, value: np.ndarray, row: int,
             compress: bool) -> h5py.h5d.DatasetID:
    """``group[name]``, whose rows are ``value``-shaped: opened, or created (re-created for
    a new shape, rare). Through h5py's low-level calls: the high-level ones cost ~100 µs
    each, and a snapshot makes a dozen of them."""
    key = name.encode()
    dsid = h5py.h5d.open(group.id, key) if key in group.id else None
    if dsid is None or dsid.shape[1:] != value.shape or dsid.dtype != value.dtype:
        if dsid is not None:  # another shape than before (rare): start the quantity afresh
            del group[name]
        filters = ({"compression": "gzip", "compression_opts": GZIP_LEVEL,
                    "shuffle": value.dtype.itemsize > 1} if compress and value.size else {})
        dsid = group.create_dataset(name, shape=(row, *value.shape),
                                    maxshape=(None, *value.shape),
                                    chunks=(1, *value.shape) if value.size else None,
                                    dtype=value.dtype, fillvalue=0, **filters).id
    return dsid


def _write_row(dsid: h5py.h5d.DatasetID, value: np.ndarray, row: int) -> None:
    """Grow the dataset to ``row + 1`` rows and write ``value`` as row ``row``."""
    dsid.set_extent((row + 1, *value.shape))
    fspace = dsid.get_space()
    fspace.select_hyperslab((row,) + (0,) * value.ndim, (1, *value.shape))
    data = np.ascontiguousarray(value).reshape(1, *value.shape)
    dsid.write(h5py.h5s.create_simple(data.shape), fspace, data)


def truncate_snapshots(snaps: h5py.Group, epoch: int) -> None:
    """Forget the snapshots of epochs after ``epoch``."""
    epochs = snaps["epoch"][()]
    keep = int(np.searchsorted(epochs, epoch, side="right"))
    weights.forget_after(snaps, epoch)
    if keep == len(epochs):
        return
    for name, ds in datasets_below(snaps).items():
        if name not in (weights.POOL, weights.INDEX):   # slots, not rows
            ds.resize(keep, axis=0)


# -- checkpoints and status ---------------------------------------------------------------------

def sync_arrays(group: h5py.Group, arrays: dict[str, np.ndarray]) -> None:
    """Make ``group`` hold exactly ``arrays`` (names may contain ``/``).

    Datasets of unchanged shape and dtype are overwritten in place: HDF5 does
    not reuse the space of a deleted dataset after the file is closed, so
    deleting and re-creating the checkpoint every time would grow the file
    by a whole model each time.
    """
    if overwrite_all(group, arrays):
        return
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


def write_checkpoint(run: h5py.Group, ck: Checkpoint) -> None:
    """Replace the run's checkpoint (only the latest one is kept)."""
    g = run.require_group("checkpoint")
    g.attrs["epoch"] = int(ck.epoch)
    g.attrs["step"] = int(ck.step)
    g.attrs["position"] = int(ck.position)
    g.attrs["wall_time"] = float(ck.wall_time)
    set_text(g, "optimizer_json", json.dumps({name: json.loads(text) for name, text
                                              in ck.optimizer_json.items()}))
    set_text(g, "epoch_sums", json.dumps({k: float(v) for k, v in ck.epoch_sums.items()}))
    sync_arrays(g.require_group("model"), ck.model)
    sync_arrays(g.require_group("optimizers"),
                {f"{name}/{key}": a for name, arrays in ck.optimizers.items()
                 for key, a in arrays.items()})
    sync_arrays(g.require_group("rng"), ck.rng)
    ds = g.get("permutation")
    perm = None if ck.permutation is None else np.asarray(ck.permutation, dtype=np.int64)
    if isinstance(ds, h5py.Dataset) and perm is not None and overwrite_array(ds, perm):
        return
    if ds is not None:
        del g["permutation"]
    if perm is not None:
        create_array(g, "permutation", perm)


def truncate_run(run: h5py.Group, step: int, epoch: int) -> None:
    """Forget everything after ``step`` / ``epoch`` (before a resume from that point).

    History rows can run ahead of the checkpoint when a run was killed or
    failed between checkpoints; a resumed run retrains those steps.
    """
    for table, index, last in ((run["history"], "step", step), (run["epochs"], "epoch", epoch)):
        truncate_rows(table, int(np.searchsorted(table[index], last, side="right")))
    truncate_snapshots(run["snapshots"], epoch)


def set_status(run: h5py.Group, status: str, message: str | None = None) -> None:
    set_text(run, "status", status)
    if message:
        set_text(run, "status_message", message)
    elif "status_message" in run.attrs:
        del run.attrs["status_message"]
