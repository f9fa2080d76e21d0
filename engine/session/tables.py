"""Tables of named scalar columns (the loss history, the epoch means) as HDF5 compound datasets.

A table is one resizable, chunked 1-D dataset whose dtype has a field per
column (``step``, ``epoch``, ``wall_time``, one per loss term). Tools read it
as a table with named columns: h5py (``f["history"]["total"]``), pandas
(``pd.DataFrame(f["history"][:])``), HDFView, h5dump.

One dataset rather than a dataset per column because rows arrive in
batches at every epoch end, and appending to a dozen datasets cost a dozen
chunk reads and writes each time; one compound dataset costs one.

:class:`RowBuffer` keeps rows in memory until the commit. A row that lacks
a column gets NaN (or -1 for integers); a column that appears late widens
the table, with NaN for the rows before it.
"""

from __future__ import annotations

import h5py
import numpy as np

INT_FIELDS = ("step", "epoch")


class RowBuffer:
    """Rows of scalars waiting to be written."""

    def __init__(self):
        self._rows: list[dict[str, float]] = []

    def add(self, row: dict[str, float]) -> None:
        self._rows.append(row)

    def __len__(self) -> int:
        return len(self._rows)

    def take(self) -> list[dict[str, float]]:
        """The buffered rows, in order; the buffer is emptied."""
        rows, self._rows = self._rows, []
        return rows


def table_dtype(names: list[str]) -> np.dtype:
    """A compound dtype: int64 for step and epoch, float64 for every other column."""
    return np.dtype([(n, np.int64 if n in INT_FIELDS else np.float64) for n in names])


def create_table(parent: h5py.Group, name: str, columns: list[str], chunk: int) -> h5py.Dataset:
    """An empty table with these columns (rows per chunk: ``chunk``)."""
    return parent.create_dataset(name, shape=(0,), maxshape=(None,), chunks=(chunk,),
                                 dtype=table_dtype(columns))


def append_rows(table: h5py.Dataset, rows: list[dict[str, float]]) -> h5py.Dataset:
    """Append rows to a table, widening it first if a row brings a new column.

    Returns
    -------
    The table (a new dataset if it was widened).
    """
    if not rows:
        return table
    names = list(table.dtype.names)
    new = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in names]
    if new:
        table = _widen(table, names + new)
        names += new
    data = np.empty(len(rows), dtype=table.dtype)
    for name in names:
        fill = -1 if name in INT_FIELDS else np.nan
        data[name] = [r.get(name, fill) for r in rows]
    start = table.shape[0]
    dset = table.id
    dset.set_extent((start + len(rows),))
    space = dset.get_space()
    space.select_hyperslab((start,), (len(rows),))
    dset.write(h5py.h5s.create_simple((len(rows),)), space, data)
    return table


def truncate_rows(table: h5py.Dataset, keep: int) -> None:
    """Keep the first ``keep`` rows."""
    if table.shape[0] > keep:
        table.resize((keep,))


def _widen(table: h5py.Dataset, names: list[str]) -> h5py.Dataset:
    """Rewrite ``table`` with more columns (rare: a loss term that appears mid-run)."""
    old = table[()]
    parent, name = table.parent, table.name.rsplit("/", 1)[-1]
    attrs = dict(table.attrs)
    del parent[name]
    wide = create_table(parent, name, names, table.chunks[0])
    data = np.empty(len(old), dtype=wide.dtype)
    for n in names:
        data[n] = old[n] if n in old.dtype.names else (-1 if n in INT_FIELDS else np.nan)
    wide.resize((len(old),))
    if len(old):
        wide[:] = data
    wide.attrs.update(attrs)
    return wide
