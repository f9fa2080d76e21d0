"""Reading each part of a session back, checked against the schema and the run's config.

Each ``load_*`` function reads one part, checks names, dtypes and shapes
before reading data, and returns plain Python and numpy values (or the
engine's event dataclasses). Every problem is a SessionError naming the
file and the HDF5 path.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import h5py
import numpy as np
import torch

from engine.checkpoint import array_kind_problem, optimizer_layout, optimizer_state_problem
from engine.config import RunConfig
from engine.errors import ConfigError
from engine.events import Checkpoint, DatasetInfo, EpochSnapshot
from engine.models import build_model
from engine.session.h5fast import datasets_below
from engine.session.schema import (EPOCH_META, FORMAT_NAME, FORMAT_VERSION, HISTORY_META,
                                   MAX_ROWS, check_dataset, fail, plain, require_attr,
                                   require_dataset, require_group)
from engine.session.tables import INT_FIELDS

Path_ = str | Path


def load_format(path: Path_, root: h5py.Group,
                formats: tuple[str, ...] = (FORMAT_NAME,)) -> tuple[str, int, str, datetime]:
    """(format, format_version, app_version, created) after checking this is our kind of file.

    Every reader path sniffs a file through here, so a damaged or foreign
    ``format`` attribute (missing, an array, another program's) is one clear
    SessionError.
    """
    if "format" not in root.attrs:
        raise fail(path, "is an HDF5 file but not an Autoencoder Studio session "
                         "(it has no 'format' attribute)")
    marker = plain(root.attrs["format"])
    if not isinstance(marker, str):
        raise fail(path, f"is an HDF5 file whose 'format' attribute is not text "
                         f"({marker!r:.60}): not an Autoencoder Studio session, or damaged")
    if marker not in formats:
        raise fail(path, f"is an HDF5 file of another kind (format {marker!r:.60}), "
                         f"not an Autoencoder Studio session")
    version = require_attr(path, root, "format_version", int)
    if version > FORMAT_VERSION:
        raise fail(path, f"was written by a newer Autoencoder Studio (session format "
                         f"{version}; this version reads up to {FORMAT_VERSION}). "
                         f"Update the app to open it")
    if version < 1:
        raise fail(path, f"has an invalid session format version {version}")
    app_version = require_attr(path, root, "app_version", str)
    created_text = require_attr(path, root, "created", str)
    try:
        created = datetime.fromisoformat(created_text)
    except ValueError:
        raise fail(path, f"has an unreadable creation time {created_text!r:.40}") from None
    return marker, version, app_version, created


def load_config(path: Path_, group: h5py.Group, name: str = "config") -> RunConfig:
    """The RunConfig stored as JSON text in the attribute ``name`` of ``group``."""
    text = require_attr(path, group, name, str)
    try:
        return RunConfig.from_json(text)
    except ConfigError as e:
        raise fail(path, f"the stored run config of {group.name} is invalid: {e}") from None


def load_data(path: Path_, root: h5py.Group) -> DatasetInfo:
    g = require_group(path, root, "data")
    shape = require_attr(path, g, "image_shape", list)
    if len(shape) != 3 or not all(isinstance(s, int) and 0 < s <= 65536 for s in shape):
        raise fail(path, f"/data has an invalid image_shape {shape!r:.60}")
    probe = require_dataset(path, g, "probe_images", "f", shape=(None, *shape))[()]
    n_probe = probe.shape[0]
    labels = _optional(path, g, "probe_labels", "iu", (n_probe,))
    map_labels = _optional(path, g, "map_labels", "iu", (None,))
    factor_names = _json_strings(path, g, "factor_names")
    n_map = None if map_labels is None else len(map_labels)
    map_factors = _optional(path, g, "map_factors", "f", (n_map, len(factor_names) or None))
    label_names = _json_strings(path, g, "label_names") if "label_names" in g.attrs else None
    n_classes = _count(path, g, "n_classes") if "n_classes" in g.attrs else None
    if n_classes is None and label_names is not None:
        n_classes = len(label_names)
    return DatasetInfo(
        source=require_attr(path, g, "source", str), image_shape=tuple(shape),
        n_train=_count(path, g, "n_train"), n_val=_count(path, g, "n_val"),
        probe_images=probe.astype(np.float32, copy=False),
        probe_labels=None if labels is None else labels.astype(np.int64),
        map_labels=None if map_labels is None else map_labels.astype(np.int64),
        map_factors=None if map_factors is None else map_factors.astype(np.float32),
        factor_names=tuple(factor_names),
        label_names=None if label_names is None else tuple(label_names), n_classes=n_classes)


def load_table(path: Path_, root: h5py.Group, name: str,
               meta: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The columns of a table (``/history`` or ``/epochs``): name -> (n,) array.

    Checks that it is a 1-D compound dataset with the ``meta`` columns, integer
    ``step``/``epoch`` and float others, and that ``meta[0]`` increases.
    """
    ds = require_dataset(path, root, name, "V", ndim=1)
    fields = ds.dtype.names or ()
    for column in meta:
        if column not in fields:
            raise fail(path, f"the table {ds.name} has no column '{column}'")
    for column in fields:
        kind = ds.dtype[column].kind
        want = "iu" if column in INT_FIELDS else "f"
        if kind not in want or ds.dtype[column].shape:
            words = "integers" if want == "iu" else "floats"
            raise fail(path, f"the column '{column}' of {ds.name} has dtype "
                             f"{ds.dtype[column]}, expected {words}")
    if ds.shape[0] > MAX_ROWS:
        raise fail(path, f"{ds.name} claims {ds.shape[0]} rows; the file is damaged")
    data = ds[()]
    out = {c: data[c].astype(np.int64 if c in INT_FIELDS else np.float64) for c in fields}
    index = out[meta[0]]
    if len(index) > 1 and not np.all(np.diff(index) > 0):
        raise fail(path, f"{ds.name} column '{meta[0]}' is not increasing; the file is damaged")
    return out


def load_history(path: Path_, root: h5py.Group) -> dict[str, np.ndarray]:
    """term -> (n,) float64, plus 'step' and 'epoch' (int64) and 'wall_time' (float64)."""
    cols = load_table(path, root, "history", HISTORY_META)
    terms = _json_strings(path, root["history"], "terms") if "terms" in root["history"].attrs \
        else []
    order = [t for t in terms if t in cols] + [k for k in cols if k not in terms]
    return {k: cols[k] for k in order}


def load_epochs(path: Path_, root: h5py.Group, term_order: list[str]) -> dict:
    """{'epoch', 'step', 'wall_time': (E,) arrays, 'train', 'val': term -> (E,) float64}.

    Terms come in ``term_order`` (the history's), then any others by name.
    """
    cols = load_table(path, root, "epochs", EPOCH_META)
    out: dict = {k: cols[k] for k in EPOCH_META}
    rank = {t: i for i, t in enumerate(term_order)}
    for part in ("train", "val"):
        prefix = part + "/"
        terms = sorted((k[len(prefix):] for k in cols if k.startswith(prefix)),
                       key=lambda t: (rank.get(t, len(rank)), t))
        # An epoch without a validation set has NaN there: leave such a column out.
        out[part] = {t: cols[prefix + t] for t in terms
                     if not (part == "val" and len(cols[prefix + t])
                             and np.isnan(cols[prefix + t]).all())}
    return out


def load_snapshot_index(path: Path_, snaps: h5py.Group) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, steps) of a version 2 run's snapshots, one entry per stored epoch."""
    epochs = require_dataset(path, snaps, "epoch", "iu", ndim=1)[()]
    steps = require_dataset(path, snaps, "step", "iu", shape=(len(epochs),))[()]
    if len(epochs) > 1 and not np.all(np.diff(epochs) > 0):
        raise fail(path, f"{snaps.name}/epoch is not increasing; the file is damaged")
    return epochs.astype(np.int64), steps.astype(np.int64)


def load_snapshot(path: Path_, snaps: h5py.Group, row: int, epoch: int, step: int,
                  data: DatasetInfo) -> EpochSnapshot:
    """Row ``row`` of a run's snapshot datasets, back in float32 (the weights are read
    apart: ``weights.py``).

    Images come back as float32 in [0, 1].
    """
    n = snaps["epoch"].shape[0]
    parts: dict[str, dict[str, np.ndarray]] = {}
    for part, kind in (("images", "u"), ("arrays", "fiub")):
        out = parts[part] = {}
        group = snaps.get(part)
        if group is None:
            continue
        if not isinstance(group, h5py.Group):
            raise fail(path, f"{snaps.name}/{part} should be a group")
        for name, ds in group.items():
            a = _row(path, ds, kind, n, row)
            if part == "images":
                if a.ndim != 4:
                    raise fail(path, f"{ds.name} should hold (epochs, N, C, H, W) images, "
                                     f"not shape {ds.shape}")
                out[name] = a.astype(np.float32) / np.float32(255.0)
            else:
                out[name] = a.astype(np.float32) if a.dtype.kind == "f" else a
    return EpochSnapshot(epoch=epoch, step=step, images=parts["images"], arrays=parts["arrays"])


def _row(path: Path_, ds, kind: str, n: int, row: int) -> np.ndarray:
    """Row ``row`` of an epoch-axis dataset, after checking its kind and length."""
    if not isinstance(ds, h5py.Dataset):
        raise fail(path, f"{ds.name} should be a dataset")
    check_dataset(path, ds, kind)
    if ds.ndim == 0 or ds.shape[0] != n:
        raise fail(path, f"{ds.name} has {ds.shape[0] if ds.ndim else 0} epochs, the "
                         f"snapshot index {n}")
    return ds[row]


def load_arrays(path: Path_, g: h5py.Group, kind: str) -> dict[str, np.ndarray]:
    """Every dataset below ``g`` by relative path (weights, optimiser state)."""
    out = {}
    for name, ds in datasets_below(g).items():
        check_dataset(path, ds, kind)
        out[name] = ds[()]
        if not isinstance(out[name], np.ndarray):
            out[name] = np.asarray(out[name])
    return out


def load_checkpoint(path: Path_, g: h5py.Group, config: RunConfig,
                    data: DatasetInfo) -> Checkpoint:
    """The resumable state, checked to fit the model the config describes.

    Version 2 keeps named optimisers under ``optimizers/<name>``; version 1
    one optimiser under ``optimizer`` (read as ``model``).
    """
    def damaged(problem: str) -> Exception:
        return fail(path, f"the checkpoint {g.name} is damaged: {problem}; it cannot be "
                          f"resumed (its epochs and snapshots still open)")

    # Floats, and the integer buffers some models keep (a GAN's and an RBM's update counts).
    model = load_arrays(path, require_group(path, g, "model"), "fiu")
    problem, layouts = weights_problem(model, config, data, g.name + "/model")
    if problem:
        raise damaged(problem)
    bad = [k for k, a in model.items() if a.size and a.dtype.kind == "f"
           and not np.all(np.isfinite(a))]
    if bad:
        raise fail(path, f"the checkpoint's weight {g.name}/model/{bad[0]} holds NaN or "
                         f"infinite values: the file is damaged (a run that diverges keeps "
                         f"its last finite weights), so it cannot be resumed")
    opt_text = require_attr(path, g, "optimizer_json", str)
    meta = _json(path, g, "optimizer_json", opt_text)
    if "optimizers" in g:
        arrays = load_arrays(path, require_group(path, g, "optimizers"), "fiu")
        grouped: dict[str, dict[str, np.ndarray]] = {name: {} for name in meta or {}}
        for key, a in arrays.items():
            name, _, rest = key.partition("/")
            grouped.setdefault(name, {})[rest] = a
        metas = meta if isinstance(meta, dict) else {}
        texts = {name: json.dumps(m) for name, m in metas.items()}
    else:  # version 1: one optimiser
        grouped = {"model": load_arrays(path, require_group(path, g, "optimizer"), "fiu")}
        metas, texts = {"model": meta}, {"model": opt_text}
    for name, arrays in grouped.items():
        m = metas.get(name)
        if not isinstance(m, dict) or not isinstance(m.get("param_groups"), list) \
                or not isinstance(m.get("scalars", {}), dict):
            raise fail(path, f"{g.name} optimizer_json lacks the param_groups of '{name}'")
        if name not in layouts:
            raise fail(path, f"{g.name} has an optimiser '{name}' this model does not use")
        # Every array against what the optimiser keeps, before torch sees any of them.
        problem = optimizer_state_problem(name, arrays, m, layouts[name])
        if problem:
            raise damaged(problem)
    sums = _json(path, g, "epoch_sums", require_attr(path, g, "epoch_sums", str))
    if not isinstance(sums, dict) or not all(isinstance(v, (int, float)) for v in sums.values()):
        raise fail(path, f"{g.name} epoch_sums should map terms to numbers")
    rng = load_arrays(path, require_group(path, g, "rng"), "u")
    if "train" not in rng or rng["train"].ndim != 1:
        raise fail(path, f"{g.name}/rng/train (the generator state) is missing")
    epoch, step = _count(path, g, "epoch"), _count(path, g, "step")
    position = _count(path, g, "position")
    perm = None
    if position > 0:
        perm = require_dataset(path, g, "permutation", "iu", shape=(data.n_train,))[()]
        if perm.size and (perm.min() < 0 or perm.max() >= data.n_train):
            raise fail(path, f"{g.name}/permutation indexes past the training images")
    return Checkpoint(epoch=epoch, step=step, position=position,
                      wall_time=require_attr(path, g, "wall_time", (int, float)),
                      model=model, optimizers=grouped, optimizer_json=texts,
                      rng=rng, permutation=perm,
                      epoch_sums={str(k): float(v) for k, v in sums.items()})


def check_weights(path: Path_, arrays: dict[str, np.ndarray], config: RunConfig,
                  data: DatasetInfo, where: str) -> None:
    """Raise SessionError unless ``arrays`` is the full state of the config's model."""
    problem, _ = weights_problem(arrays, config, data, where)
    if problem:
        raise fail(path, problem)


def weights_problem(arrays: dict[str, np.ndarray], config: RunConfig, data: DatasetInfo,
                    where: str) -> tuple[str | None, dict]:
    """What is wrong with ``arrays`` as the state of the config's model (None: nothing).

    Returns
    -------
    problem : in words, naming the array, or None.
    layouts : for each of the model's optimisers, :func:`~engine.checkpoint.optimizer_layout`.
    """
    # Built on the meta device: shapes only, no memory and no initialisation.
    with torch.device("meta"):
        model = build_model(config, tuple(data.image_shape), data.n_classes)
        optimizers = model.configure_optimizers(config.optim)
    state = model.state_dict()
    missing = sorted(set(state) - set(arrays))
    extra = sorted(set(arrays) - set(state))
    if missing or extra:
        return (f"the weights in {where} do not fit the stored config (missing "
                f"{missing[:3]}, unexpected {extra[:3]})"), {}
    for k, v in state.items():
        if arrays[k].shape != tuple(v.shape):
            return (f"the weight {where}/{k} has shape {arrays[k].shape}, the stored config "
                    f"needs {tuple(v.shape)}"), {}
        problem = array_kind_problem(f"{where}/{k}", arrays[k], v.dtype)
        if problem:
            return problem, {}
    return None, {name: optimizer_layout(opt) for name, opt in optimizers.items()}


# -- small readers ---------------------------------------------------------------------
def _optional(path, g, name, kind, shape):
    return require_dataset(path, g, name, kind, shape=shape)[()] if name in g else None


def _count(path, g, name) -> int:
    v = require_attr(path, g, name, int)
    if v < 0:
        raise fail(path, f"the attribute '{name}' of {g.name} is negative ({v})")
    return v


def _json(path, g, name, text):
    try:
        return json.loads(text)
    except ValueError:
        raise fail(path, f"the attribute '{name}' of {g.name} is not valid JSON") from None


def _json_strings(path, g, name) -> list[str]:
    value = _json(path, g, name, require_attr(path, g, name, str))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(path, f"the attribute '{name}' of {g.name} should be a list of names")
    return value
