"""The interactive weights of a run, kept at a bounded set of epochs under a byte budget.

Every epoch of a run keeps its small replay arrays (images, codes, spectra),
so every epoch replays in every view. The weights of the parts the window
runs on the CPU (an autoencoder's encoder and decoder, a GAN's generator,
an RBM's machine; float16) are kept at a bounded set of epochs only:

- **Which.** ``slots = budget // bytes of one set`` (at least 1). Of a run's
  snapshots so far (the k-th, k = 1..n), the first and those with k =
  round(2^(t·j)), j = 1, 2, ... are kept — 1, 2, 4, 8, 16 ... for t = 1, then
  1, 4, 16, 64 ... for t = 2, or 1, 2, 3, 4, 6, 8, 11, 16 ... for t = 1/2 — for
  the smallest power of two t that keeps at most ``slots`` of them (every
  one while they fit): spaced evenly in log(epoch), densest where a model
  changes fastest, the spacing widening as the run grows. A set is written
  once, when its epoch ends, and only if it is kept then, so a run of n
  epochs writes about ``slots`` sets and then one per doubling of n. Of the schemes measured (evenly spaced, the
  latest and a geometric tail, the first few; ``docs/session-format.md``,
  "Weights"), this one decoded closest to every epoch's own weights, wrote
  the fewest sets and keeps the file as small. Rows, not epochs: with
  ``snapshot_every`` only some epochs have a snapshot at all.
- **Where.** ``snapshots/weights`` (S, n) float16 is a pool of S slots, S
  growing to at most ``slots``; ``snapshots/weights_epoch`` (S,) int64 says
  which epoch each slot holds (0: free). A slot the thinning frees is
  overwritten in place by the next kept epoch: HDF5 does not reuse the space
  of deleted data, so a file that deleted rows would still grow.
- **The last epoch** needs no slot: the checkpoint written at a run's end
  holds the whole model at that epoch (float32), and the reader takes the
  interactive parts from it.

A reader asked for an epoch without weights gets the nearest earlier kept
ones, and says which epoch they are from (``EpochSnapshot.weights_epoch``).
Version 2 files kept a row of weights per snapshot row, without the index;
a writer that continues such a file adds the index (every row is a slot)
and the file becomes version 3.
"""

from __future__ import annotations

import bisect
import json
import math
from pathlib import Path

import h5py
import numpy as np

from engine.session.h5fast import set_text
from engine.session.schema import check_dataset, fail, plain, require_attr

#: Bytes of interactive weights kept per run unless the user says otherwise (the window's
#: preferences, ``--weights-budget MB``): see docs/session-format.md for why this size.
DEFAULT_BUDGET = 4_000_000
POOL, INDEX = "weights", "weights_epoch"


# -- which epochs ------------------------------------------------------------------------

def slots_for(budget: int, set_bytes: int) -> int:
    """How many sets of ``set_bytes`` the ``budget`` holds (at least one)."""
    return max(1, int(budget) // max(1, int(set_bytes)))


def _powers(rows: int, step: float) -> list[int]:
    """Row 0 and the rows r < ``rows`` with r + 1 = round(2^(step·j)), j >= 1."""
    out, j = {0}, 1
    while (k := round(2.0 ** (step * j))) <= rows:
        out.add(k - 1)
        j += 1
    return sorted(out)


def spacing(rows: int, slots: int) -> float:
    """The smallest power of two t (0 when every row fits) for which :func:`kept_rows`
    keeps at most ``slots`` rows. Powers of two: each set holds the next coarser one,
    so a row kept later was kept when it was the newest."""
    slots = max(1, slots)
    if rows <= slots:
        return 0.0
    fits = lambda t: len(_powers(rows, t)) <= slots   # noqa: E731
    # About log2(rows) / t + 1 rows are kept: start near there, then step to the smallest.
    t = 2.0 ** math.floor(math.log2(max(math.log2(rows), 1.0) / slots))
    while not fits(t):
        t *= 2
    while t > 2.0 ** -20 and fits(t / 2):
        t /= 2
    return t


def kept_rows(rows: int, slots: int) -> list[int]:
    """The snapshot rows whose weights are kept once a run has ``rows`` of them."""
    t = spacing(rows, slots)
    return list(range(rows)) if t == 0 else _powers(rows, t)


def set_bytes(weights: dict[str, np.ndarray]) -> int:
    """Bytes of one set of weights as stored (float16)."""
    return 2 * sum(int(np.size(w)) for w in weights.values())


def nearest(kept: list[int], epoch: int) -> int | None:
    """The kept epoch at or before ``epoch`` (else the first after it; None if none)."""
    i = bisect.bisect_right(kept, epoch)
    if i:
        return kept[i - 1]
    return kept[0] if kept else None


# -- writing ----------------------------------------------------------------------------------

def store(snaps: h5py.Group, row: int, epoch: int, weights: dict[str, np.ndarray],
          budget: int) -> None:
    """After snapshot row ``row`` (of ``epoch``) is written: free the slots the thinning no
    longer keeps, and write ``weights`` into a slot if its row is kept (only then are they
    converted: most epochs keep none)."""
    if not weights:
        return
    size = sum(int(np.size(w)) for w in weights.values())
    layout = json.dumps([[name, list(np.shape(w))] for name, w in weights.items()])
    pool = snaps.get(POOL)
    if pool is not None and (INDEX not in snaps or pool.shape[1:] != (size,)
                             or plain(pool.attrs.get("layout")) != layout):
        del snaps[POOL]   # other weights than before (rare): the pool starts afresh
        if INDEX in snaps:
            del snaps[INDEX]
        pool = None
    if pool is None:
        pool = snaps.create_dataset(POOL, shape=(0, size), maxshape=(None, size),
                                    chunks=(1, size), dtype=np.float16)
        set_text(pool, "layout", layout)
        snaps.create_dataset(INDEX, shape=(0,), maxshape=(None,), chunks=(64,), dtype=np.int64)
    if plain(pool.attrs.get("budget")) != int(budget):   # each write is bytes on disk
        pool.attrs["budget"] = int(budget)
    index_ds = snaps[INDEX]
    held = index_ds[()]
    before = held.copy()
    rows = {int(e): r for r, e in enumerate(snaps["epoch"][()])}
    wanted = set(kept_rows(row + 1, slots_for(budget, 2 * size)))
    held[[rows.get(int(e), -1) not in wanted for e in held]] = 0
    if row in wanted:
        free = np.flatnonzero(held == 0)
        slot = int(free[0]) if free.size else len(held)
        if slot == len(held):
            pool.id.set_extent((slot + 1, size))
            held = np.append(held, 0)
            index_ds.resize((slot + 1,))
        flat = np.concatenate([np.asarray(w, np.float16).ravel() for w in weights.values()])
        space = pool.id.get_space()
        space.select_hyperslab((slot, 0), (1, size))
        pool.id.write(h5py.h5s.create_simple((1, size)), space, flat.reshape(1, -1))
        held[slot] = epoch
    if held.size and not np.array_equal(held, before):
        index_ds[...] = held


def forget_after(snaps: h5py.Group, epoch: int) -> None:
    """Free the slots of epochs after ``epoch`` (a resume retrains them)."""
    if INDEX in snaps:
        held = snaps[INDEX][()]
        if (held > epoch).any():
            held[held > epoch] = 0
            snaps[INDEX][...] = held


def adopt_rows(snaps: h5py.Group) -> None:
    """A version 2 run's weights, one row per snapshot row, become a pool of that many
    slots (nothing is copied: the index says row r holds the epoch of snapshot row r)."""
    if POOL in snaps and INDEX not in snaps:
        epochs = snaps["epoch"][()].astype(np.int64)
        snaps.create_dataset(INDEX, data=epochs[:snaps[POOL].shape[0]], maxshape=(None,),
                             chunks=(64,))


# -- reading ----------------------------------------------------------------------------------

def load_index(path: Path | str, snaps: h5py.Group, epochs: list[int]) -> dict[int, int]:
    """epoch -> the row of ``snapshots/weights`` that holds its weights.

    A version 3 pool says so in its index; a version 2 file kept a row per snapshot.
    """
    if POOL not in snaps:
        return {}
    pool = snaps[POOL]
    if not isinstance(pool, h5py.Dataset):
        raise fail(path, f"{pool.name} should be a dataset")
    check_dataset(path, pool, "f", ndim=2)
    if INDEX not in snaps:
        if pool.shape[0] != len(epochs):
            raise fail(path, f"{pool.name} has {pool.shape[0]} epochs, the snapshot index "
                             f"{len(epochs)}")
        return {e: r for r, e in enumerate(epochs)}
    index = snaps[INDEX]
    if not isinstance(index, h5py.Dataset):
        raise fail(path, f"{index.name} should be a dataset")
    check_dataset(path, index, "iu", shape=(pool.shape[0],))
    known = set(epochs)
    return {int(e): r for r, e in enumerate(index[()]) if int(e) in known}


def load_slot(path: Path | str, snaps: h5py.Group, row: int) -> dict[str, np.ndarray]:
    """Row ``row`` of ``snapshots/weights`` split back into float32 parameters."""
    ds = snaps[POOL]
    flat = ds[row]
    layout = _layout(path, ds)
    out, at = {}, 0
    try:
        for name, shape in layout:
            size = int(np.prod(shape, dtype=np.int64))
            out[str(name)] = flat[at:at + size].astype(np.float32).reshape(shape)
            at += size
    except (TypeError, ValueError):
        raise fail(path, f"{ds.name} has a damaged layout attribute") from None
    if at != flat.size:
        raise fail(path, f"{ds.name} holds {flat.size} values, its layout {at}")
    return out


def _layout(path, ds) -> list:
    text = require_attr(path, ds, "layout", str)
    try:
        return json.loads(text)
    except ValueError:
        raise fail(path, f"the attribute 'layout' of {ds.name} is not valid JSON") from None


def checkpoint_epoch(run: h5py.Group) -> int | None:
    """The epoch whose end the run's checkpoint holds (None: none, or one mid-epoch)."""
    ck = run.get("checkpoint")
    if not isinstance(ck, h5py.Group) or "model" not in ck:
        return None
    epoch, position = plain(ck.attrs.get("epoch")), plain(ck.attrs.get("position"))
    if not isinstance(epoch, int) or isinstance(epoch, bool) or position != 0 or epoch < 1:
        return None
    return epoch


def load_from_checkpoint(path: Path | str, run: h5py.Group,
                         parts: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The interactive parts' weights (``<part>.*``) from the run's checkpoint, float32."""
    model = run["checkpoint"]["model"]
    out = {}
    for name, ds in model.items():
        if isinstance(ds, h5py.Dataset) and name.split(".", 1)[0] in parts:
            check_dataset(path, ds, "f")
            out[name] = np.asarray(ds[()], dtype=np.float32)
    return out
