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

from engine.config import RunConfig
from engine.errors import ConfigError
from engine.events import Checkpoint, DatasetInfo, EpochSnapshot
from engine.models import build_autoencoder
from engine.session.h5fast import datasets_below
from engine.session.schema import (EPOCH_META, FORMAT_NAME, FORMAT_VERSION, HISTORY_META,
                                   MAX_ROWS, check_dataset, fail, require_attr,
                                   require_dataset, require_group)
from engine.session.tables import INT_FIELDS

Path_ = str | Path


def load_format(path: Path_, root: h5py.Group) -> tuple[int, str, datetime]:
    """(format_version, app_version, created) after checking this is our kind of file."""
    marker = root.attrs.get("format")
    if marker is None:
        raise fail(path, "is an HDF5 file but not an Autoencoder Studio session "
                         "(it has no 'format' attribute)")
    if require_attr(path, root, "format", str) != FORMAT_NAME:
        raise fail(path, f"is an HDF5 file of another kind (format {marker!r}), "
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
    return version, app_version, created


def load_config(path: Path_, root: h5py.Group) -> RunConfig:
    text = require_attr(path, require_group(path, root, "config"), "json", str)
    try:
        return RunConfig.from_json(text)
    except ConfigError as e:
        raise fail(path, f"the stored run config is invalid: {e}") from None


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
    return DatasetInfo(
        source=require_attr(path, g, "source", str), image_shape=tuple(shape),
        n_train=_count(path, g, "n_train"), n_val=_count(path, g, "n_val"),
        probe_images=probe.astype(np.float32, copy=False),
        probe_labels=None if labels is None else labels.astype(np.int64),
        map_labels=None if map_labels is None else map_labels.astype(np.int64),
        map_factors=None if map_factors is None else map_factors.astype(np.float32),
        factor_names=tuple(factor_names),
        label_names=None if label_names is None else tuple(label_names))


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


def load_snapshot_epochs(path: Path_, root: h5py.Group) -> dict[int, str]:
    """epoch -> group name of every snapshot."""
    g = require_group(path, root, "snapshots")
    out = {}
    for name in g:
        if not name.isdigit():
            raise fail(path, f"/snapshots/{name} is not an epoch number")
        out[int(name)] = name
    return out


def load_snapshot(path: Path_, g: h5py.Group, config: RunConfig,
                  data: DatasetInfo) -> EpochSnapshot:
    """One epoch's replay data, shapes checked against the probe set and the latent size."""
    p_shape = data.probe_images.shape
    d = config.model.latent_dim
    p = p_shape[0]

    def arr(name, shape, optional=False):
        if optional and name not in g:
            return None
        return require_dataset(path, g, name, "f", shape=shape)[()].astype(np.float32, copy=False)

    map_latents = arr("map_latents", (None, d))
    m = map_latents.shape[0]
    return EpochSnapshot(
        epoch=require_attr(path, g, "epoch", int), step=require_attr(path, g, "step", int),
        probe_inputs=arr("probe_inputs", p_shape), probe_recon=arr("probe_recon", p_shape),
        probe_latent_mean=arr("probe_latent_mean", (p, d)),
        probe_latent_logvar=arr("probe_latent_logvar", (p, d), optional=True),
        map_latents=map_latents,
        map_latent_logvar=arr("map_latent_logvar", (m, d), optional=True),
        kl_per_dim=arr("kl_per_dim", (d,), optional=True),
        decoder=load_arrays(path, require_group(path, g, "decoder"), "f"),
        stage=_optional_int(path, g, "stage"))


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
    """The resumable state, checked to fit the model the config describes."""
    model = load_arrays(path, require_group(path, g, "model"), "f")
    param_shapes = check_weights(path, model, config, data.image_shape, g.name + "/model")
    optimizer = load_arrays(path, require_group(path, g, "optimizer"), "fiu")
    for key, a in optimizer.items():
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit() \
                or int(parts[1]) >= len(param_shapes):
            raise fail(path, f"{g.name}/optimizer/{key} does not belong to any model parameter")
        if a.ndim and a.shape != param_shapes[int(parts[1])]:
            raise fail(path, f"{g.name}/optimizer/{key} has shape {a.shape}, the parameter "
                             f"has {param_shapes[int(parts[1])]}")
    opt_json = require_attr(path, g, "optimizer_json", str)
    meta = _json(path, g, "optimizer_json", opt_json)
    if not isinstance(meta, dict) or not isinstance(meta.get("param_groups"), list) \
            or not isinstance(meta.get("scalars", {}), dict):
        raise fail(path, f"{g.name} optimizer_json lacks its param_groups")
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
                      model=model, optimizer=optimizer, optimizer_json=opt_json,
                      rng=rng, permutation=perm,
                      epoch_sums={str(k): float(v) for k, v in sums.items()})


def check_weights(path: Path_, arrays: dict[str, np.ndarray], config: RunConfig,
                  image_shape: tuple[int, int, int], where: str) -> list[tuple[int, ...]]:
    """Raise SessionError unless ``arrays`` is the full state of the config's autoencoder.

    Returns
    -------
    The shapes of the model's parameters, in optimiser order.
    """
    # Built on the meta device: shapes only, no memory and no initialisation.
    with torch.device("meta"):
        model = build_autoencoder(tuple(image_shape), config.model, config.objective)
    state = model.state_dict()
    missing = sorted(set(state) - set(arrays))
    extra = sorted(set(arrays) - set(state))
    if missing or extra:
        raise fail(path, f"the weights in {where} do not fit the stored config "
                         f"(missing {missing[:3]}, unexpected {extra[:3]})")
    for k, v in state.items():
        if arrays[k].shape != tuple(v.shape):
            raise fail(path, f"the weight {where}/{k} has shape {arrays[k].shape}, the "
                             f"stored config needs {tuple(v.shape)}")
    return [tuple(p.shape) for p in model.parameters()]


# -- small readers ---------------------------------------------------------------------
def _optional(path, g, name, kind, shape):
    return require_dataset(path, g, name, kind, shape=shape)[()] if name in g else None


def _optional_int(path, g, name) -> int | None:
    return require_attr(path, g, name, int) if name in g.attrs else None


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
