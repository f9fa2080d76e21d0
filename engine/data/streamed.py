"""Images read from their files a batch at a time: a memory-mapped .npy or an HDF5 data set.

A data set larger than memory stays in its file. :class:`FileImages` stands
for the ``(N, C, H, W)`` float32 array :func:`~engine.data.arrays.as_images`
would have made of it: indexing it with rows reads only those rows and
converts them exactly as the in-memory path does (the same layout and
scaling functions), so a streamed run trains on the same numbers. uint8 and
bool files are used as they are; other integers and floats are read once,
in pieces, for their range (and, for floats, to reject NaN and infinity), as
the in-memory path reads them whole.

It is cheap to pickle (a path and a few numbers): DataLoader workers open the
file again in their own process; an open h5py file never crosses a fork.
:class:`StreamedImages` is the protocol the data path reads; a folder of image
files is the other kind (:class:`~engine.data.folder.FolderImages`). A batch
crosses to the device as stored — uint8 for 8-bit sources, a quarter of the
bytes of float32 — and is divided by 255 there.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engine.data import memory
from engine.data.arrays import (fail, image_layout, layout_shape, stored_rows, to_layout,
                                to_unit, unit_scale)

#: Bytes read at a time when scanning a file for its range.
SCAN_BYTES = 64 << 20
#: Read a block of consecutive rows instead of single rows when the rows asked
#: for fill at least this share of it (HDF5 reads a slab far faster than points).
SLAB_DENSITY = 0.25


def loaded_bytes(raw, where, size: int | None = None) -> int:
    """Bytes the images of a raw array (memmap, h5py dataset) take loaded as float32
    (resized to ``size x size`` when given).

    Raises
    ------
    DataError
        When ``raw`` is not an image array (its shape and dtype are checked).
    """
    n, c, h, w = layout_shape(tuple(raw.shape), image_layout(raw, where))
    if size is not None:
        h = w = size
    return int(np.prod((n, c, h, w), dtype=np.int64)) * 4


def load_all(images: "StreamedImages") -> np.ndarray:
    """Every image of a streamed set, as the (N, C, H, W) float32 array, read in pieces."""
    out = np.empty(images.shape, np.float32)
    per_image = max(1, int(np.prod(images.shape[1:], dtype=np.int64)) * 4)
    step = max(1, SCAN_BYTES // per_image)
    for i in range(0, len(images), step):
        out[i:i + step] = images[i:i + step]
    return out


def fits_in_memory(nbytes: int) -> bool:
    """Whether ``nbytes`` of images can be loaded whole, with room left to train."""
    free = memory.available_memory()
    return free is None or nbytes <= memory.WHOLE_FILE_SHARE * free


class StreamedImages:
    """(N, C, H, W) float32 images in [0, 1] that stay in their files until indexed.

    The protocol the data path reads (:class:`FileImages`, and
    :class:`~engine.data.folder.FolderImages` for a folder of image files):
    ``images[idx]`` reads and converts rows ``idx``; :meth:`stored` gives the
    same rows as a batch carries them to the device — uint8 for 8-bit sources,
    which the device divides by 255 (:func:`~engine.data.arrays.to_unit`).
    A subclass sets ``shape``, ``rows`` and ``stored_dtype`` and reads with
    :meth:`_read_stored`. Cheap to pickle: DataLoader workers reopen the files.
    """

    dtype = np.dtype(np.float32)
    ndim = 4
    shape: tuple[int, int, int, int]
    #: (N,) int64 rows of the source this stands for (a ``limit`` subset), or None for all.
    rows: np.ndarray | None = None
    #: uint8 (8-bit sources: a batch is a quarter of the bytes) or float32.
    stored_dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        """Bytes of the float32 array in memory (what loading it whole would take)."""
        return int(np.prod(self.shape, dtype=np.int64)) * 4

    def __getitem__(self, idx) -> np.ndarray:
        """Rows ``idx`` (a slice or (k,) integers, any order) as (k, C, H, W) float32."""
        return to_unit(self.stored(idx))

    def stored(self, idx) -> np.ndarray:
        """Rows ``idx`` as a batch carries them: (k, C, H, W) of :attr:`stored_dtype`."""
        rows = np.arange(len(self))[idx] if isinstance(idx, slice) else np.asarray(idx, np.int64)
        if rows.ndim != 1:
            raise IndexError(f"{type(self).__name__} takes a slice or a 1-d array of rows")
        if self.rows is not None:
            rows = self.rows[rows]
        return self._read_stored(rows)

    def _source_rows(self, idx: np.ndarray) -> np.ndarray:
        """Positions in this set -> rows of the source (for :meth:`subset`)."""
        rows = np.asarray(idx, np.int64)
        return rows if self.rows is None else self.rows[rows]

    def _read_stored(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def subset(self, idx: np.ndarray) -> "StreamedImages":
        raise NotImplementedError

    def release(self) -> None:
        """Close this process's handles (before DataLoader workers fork); reopened on use."""

    def __array__(self, dtype=None, copy=None):
        # np.asarray(images) would read everything: say so rather than run out of memory.
        raise TypeError(f"{self} is streamed from its files; index it with rows")


class FileImages(StreamedImages):
    """A memory-mapped .npy or an HDF5 data set, read a batch at a time.

    Parameters
    ----------
    path : a .npy file (memory-mapped) or an HDF5 file.
    key : the dataset path in an HDF5 file; None for .npy.
    rows : (N,) int64 rows of the file this stands for, in order (a ``limit``
        subset); None for every row.
    size : ``data.image_size`` (each image's centre square resized), or None.

    Raises
    ------
    DataError
        For a file that cannot be opened, a shape or dtype that is not images,
        NaN or infinite values.
    """

    def __init__(self, path: str | os.PathLike, key: str | None = None,
                 rows: np.ndarray | None = None, *, size: int | None = None, _scale=None):
        self.path = Path(path)
        self.key = key
        self.size = size
        self._raw = None
        self._pid = -1
        raw = self._file_array()
        self.layout = image_layout(raw, self.path)
        self.raw_rows = int(raw.shape[0])
        self.rows = None if rows is None else np.asarray(rows, np.int64)
        n, c, h, w = layout_shape(tuple(raw.shape), self.layout)
        if size is not None:
            h = w = size
        self.shape = (len(self.rows) if self.rows is not None else n, c, h, w)
        self.scale = _scale if _scale is not None else unit_scale(
            raw.dtype, self._scan_chunks(raw), self.path)
        self.stored_dtype = np.dtype(np.uint8 if self.scale.kind == "uint8" else np.float32)

    def _read_stored(self, rows: np.ndarray) -> np.ndarray:
        return stored_rows(to_layout(self._read_rows(rows), self.layout), self.scale, self.size)

    def subset(self, idx: np.ndarray) -> "FileImages":
        """The images at ``idx`` (``(K,)`` rows of this one), still in the file."""
        return FileImages(self.path, self.key, self._source_rows(idx), size=self.size,
                          _scale=self.scale)

    def __repr__(self) -> str:
        return f"FileImages({str(self.path)!r}, key={self.key!r}, shape={self.shape})"

    # -- the file ---------------------------------------------------------------------------
    def release(self) -> None:
        raw, self._raw, self._pid = self._raw, None, -1
        if raw is not None and self.key is not None:
            raw.file.close()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_raw"], state["_pid"] = None, -1
        return state

    def _file_array(self):
        """The raw array (np.memmap or h5py.Dataset), opened once per process."""
        if self._raw is not None and self._pid == os.getpid():
            return self._raw
        if self.key is None:
            try:
                # allow_pickle=False: a data file must never run code on load.
                raw = np.load(self.path, mmap_mode="r", allow_pickle=False)
            except (ValueError, OSError, EOFError) as e:
                raise fail(self.path, f"cannot be memory-mapped ({e})",
                           "Save it with numpy.save as a numeric array") from None
        else:
            import h5py  # most runs never need it
            try:
                raw = h5py.File(self.path, "r")[self.key]
            except (OSError, KeyError) as e:
                raise fail(self.path, f"dataset {self.key!r} cannot be opened ({e})",
                           "Check the file and data.key") from None
        self._raw, self._pid = raw, os.getpid()
        return raw

    def _scan_chunks(self, raw):
        """The file's rows (or this subset's) in pieces of about SCAN_BYTES."""
        per_row = max(1, int(np.prod(raw.shape[1:], dtype=np.int64)) * raw.dtype.itemsize)
        step = max(1, SCAN_BYTES // per_row)
        if self.rows is None:
            for i in range(0, self.raw_rows, step):
                yield np.asarray(raw[i:i + step])
        else:
            for i in range(0, len(self.rows), step):
                yield self._read_rows(self.rows[i:i + step])

    def _read_rows(self, rows: np.ndarray) -> np.ndarray:
        """Raw rows of the file, in the order asked, read in increasing order."""
        raw = self._file_array()
        if len(rows) == 0:
            return np.zeros((0, *raw.shape[1:]), raw.dtype)
        if rows.min() < 0 or rows.max() >= self.raw_rows:
            raise IndexError(f"rows out of range 0..{self.raw_rows - 1}")
        uniq, inverse = np.unique(rows, return_inverse=True)
        lo, hi = int(uniq[0]), int(uniq[-1]) + 1
        try:
            if len(uniq) >= SLAB_DENSITY * (hi - lo):
                block = np.asarray(raw[lo:hi])[uniq - lo]
            elif self.key is None:
                block = np.asarray(raw[uniq])
            else:
                block = read_runs(raw, uniq)
        except (OSError, ValueError, TypeError) as e:
            # A damaged chunk, a filter this h5py lacks, a truncated file.
            raise fail(self.path, f"rows cannot be read ({e})",
                       "Check the file, or save it again") from None
        return block if np.array_equal(uniq, rows) else block[inverse.reshape(-1)]


def read_runs(dataset, rows: np.ndarray) -> np.ndarray:
    """Rows of an h5py dataset, increasing, read as runs of consecutive rows.

    h5py's list indexing builds one selection of many hyperslabs, which HDF5
    walks slowly: 128 random rows of 28x28 uint8 took 4-11 ms that way and
    0.7-1.1 ms read one run at a time (chunks of 1, 16 and 64 images).
    """
    out = np.empty((len(rows), *dataset.shape[1:]), dataset.dtype)
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    start = 0
    for end in [*breaks.tolist(), len(rows)]:
        first = int(rows[start])
        out[start:end] = dataset[first:first + (end - start)]
        start = end
    return out
