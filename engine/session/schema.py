"""The session file's names and the checks a reader applies before trusting a value.

Everything the writer and the reader agree on lives here: the format marker,
the version, the group names and the storage settings. The ``require_*``
helpers read one object and raise :class:`~engine.errors.SessionError` with
the file name and the HDF5 path when it is missing, of the wrong kind, shape
or dtype — *before* any data is read, so a damaged header can never make the
reader allocate or loop over something absurd.

The full layout is documented in ``docs/session-format.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import h5py
import numpy as np

from engine.errors import SessionError

FORMAT_NAME = "autoencoder-studio-session"
FORMAT_VERSION = 3
#: The marker of a version 1 greedy pretraining file (read by ``version1.py``).
PRETRAINING_FORMAT_V1 = "autoencoder-studio-pretraining"
#: The run id of a run that belongs to no job (``python main.py train``).
MAIN_RUN = "main"

# HDF5 1.10 file-format objects: readable by HDF5 >= 1.10 (2017; every h5py wheel since
# 2.8 ships it), with checksums on the superblock and every object header, so damaged
# metadata is detected instead of misread. Chosen for what a commit writes: a chunked
# dataset that grows along one axis gets an extensible-array chunk index (appending a
# chunk changes one small entry) instead of the 1.8 format's B-tree, whose node of several
# KB was rewritten for every per-epoch dataset at every epoch; and compact object headers.
# Measured in benchmarks/bench_long_run_writes.py (docs/session-format.md, "Cost").
# Files of the 1.8 format (session format 3 before this) keep opening; a writer that
# continues one adds its new objects in the 1.10 format.
LIBVER = ("v110", "v110")

# Rows per chunk of a table. A commit rewrites the table's last, partly filled chunk: a
# chunk of the step history is 64 rows (about 4 KB, a page), the epoch table's 64 rows.
HISTORY_CHUNK = 64
EPOCH_CHUNK = 64
HISTORY_META = ("step", "epoch", "wall_time")
EPOCH_META = ("epoch", "step", "wall_time")
STATUSES = ("running", "completed", "stopped", "failed")

# Largest sizes a reader accepts before reading: a corrupted header could
# otherwise claim terabytes. Generous for any real session.
MAX_ROWS = 100_000_000
MAX_ARRAY_BYTES = 8 << 30


def fail(path: str | Path, problem: str) -> SessionError:
    """A SessionError whose message starts with the file name."""
    return SessionError(f"{Path(path).name}: {problem}")


def require_group(path: str | Path, parent: h5py.Group, name: str) -> h5py.Group:
    """``parent[name]`` as a group, or a SessionError naming what is missing."""
    obj = parent.get(name)
    where = _join(parent.name, name)
    if obj is None:
        raise fail(path, f"the group {where} is missing; the session is incomplete or damaged")
    if not isinstance(obj, h5py.Group):
        raise fail(path, f"{where} should be a group but is a {type(obj).__name__}")
    return obj


def require_dataset(path: str | Path, parent: h5py.Group, name: str, kind: str,
                    shape: Sequence[int | None] | None = None,
                    ndim: int | None = None) -> h5py.Dataset:
    """``parent[name]`` as a dataset of the expected dtype kind and shape (not read yet).

    Parameters
    ----------
    kind : numpy dtype kinds accepted, e.g. ``"f"`` (float), ``"iu"`` (integer), ``"u"``.
    shape : expected shape; ``None`` entries match any length.
    ndim : expected number of dimensions when ``shape`` is not given.
    """
    obj = parent.get(name)
    where = _join(parent.name, name)
    if obj is None:
        raise fail(path, f"the dataset {where} is missing; the session is incomplete or damaged")
    if not isinstance(obj, h5py.Dataset):
        raise fail(path, f"{where} should be a dataset but is a {type(obj).__name__}")
    check_dataset(path, obj, kind, shape, ndim)
    return obj


def check_dataset(path: str | Path, ds: h5py.Dataset, kind: str,
                  shape: Sequence[int | None] | None = None, ndim: int | None = None) -> None:
    """Raise SessionError unless ``ds`` has a dtype of ``kind`` and the expected shape."""
    if ds.dtype.kind not in kind or (ds.dtype.kind == "V" and not ds.dtype.names):
        raise fail(path, f"{ds.name} has dtype {ds.dtype}, expected "
                         f"{_kind_words(kind)}")
    got = tuple(ds.shape) if ds.shape is not None else ()
    if shape is not None:
        if len(got) != len(shape) or any(s is not None and s != g for s, g in zip(shape, got)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise fail(path, f"{ds.name} has shape {got}, expected {want}")
    elif ndim is not None and len(got) != ndim:
        raise fail(path, f"{ds.name} has {len(got)} dimensions, expected {ndim}")
    if int(np.prod(got, dtype=np.float64)) * ds.dtype.itemsize > MAX_ARRAY_BYTES:
        raise fail(path, f"{ds.name} claims an implausible size {got}; the file is damaged")


def require_attr(path: str | Path, obj: h5py.HLObject, name: str, types: type | tuple):
    """An attribute converted to a plain Python value of one of ``types``."""
    if name not in obj.attrs:
        raise fail(path, f"the attribute '{name}' of {obj.name} is missing")
    value = plain(obj.attrs[name])
    # bool is an int in Python; a flag where a count belongs is still wrong.
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _tuple(types)):
        raise fail(path, f"the attribute '{name}' of {obj.name} should be "
                         f"{_type_words(types)}, got {value!r:.60}")
    return value


def plain(value):
    """An HDF5 attribute value as Python: str, int, float, bool or a list of them."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return plain(value[()])
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _tuple(t) -> tuple:
    return t if isinstance(t, tuple) else (t,)


def _join(parent: str, name: str) -> str:
    return "/" + name if parent in ("/", None) else f"{parent}/{name}"


def _kind_words(kind: str) -> str:
    words = {"f": "floats", "i": "integers", "u": "unsigned integers", "b": "booleans",
             "V": "a table (compound dtype)"}
    return " or ".join(words.get(k, k) for k in kind)


def _type_words(types) -> str:
    return " or ".join(t.__name__ for t in _tuple(types))
