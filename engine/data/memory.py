"""Will an array fit in memory? Asked before reading it, from the shape a file claims.

A file's header can promise any shape: a ``.npy`` of 10¹² images, an HDF5
dataset of (10⁹, 28, 28) with nothing written. Reading such a thing ends in
a ``MemoryError`` traceback after a long wait (or in the system killing the
process). :func:`check_fits` compares what loading would take with the
memory the system has available and, when it does not fit, raises a
:class:`~engine.errors.DataError` that says how many images would, and that
``data.limit`` reads only that many.
"""

from __future__ import annotations

import os
import sys
from os import PathLike

import numpy as np

from engine.data.arrays import fail

#: Read a whole file (then subset it) only while it takes at most this share of
#: the available memory; else read just the rows that data.limit keeps.
WHOLE_FILE_SHARE = 0.5


def available_memory() -> int | None:
    """Bytes of memory the system can give this process now, or None if unknown."""
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/meminfo", encoding="ascii") as f:
                for line in f:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    if sys.platform == "win32":
        return _windows_available()
    try:  # macOS and other POSIX systems: physical memory, an upper bound
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def _windows_available() -> int | None:
    import ctypes

    class MemoryStatus(ctypes.Structure):
        _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong),
                    ("total_phys", ctypes.c_ulonglong), ("avail_phys", ctypes.c_ulonglong),
                    ("total_page", ctypes.c_ulonglong), ("avail_page", ctypes.c_ulonglong),
                    ("total_virtual", ctypes.c_ulonglong),
                    ("avail_virtual", ctypes.c_ulonglong),
                    ("avail_extended", ctypes.c_ulonglong)]

    status = MemoryStatus()
    status.length = ctypes.sizeof(MemoryStatus)
    try:
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return int(status.avail_phys)
    except (AttributeError, OSError):
        pass
    return None


def loading_bytes(shape: tuple[int, ...], dtype, rows: int | None = None) -> int:
    """Memory to load ``rows`` images (default all) of an array ``shape`` of ``dtype``:
    the raw values plus their float32 copy."""
    per_image = int(np.prod(shape[1:], dtype=np.float64)) if len(shape) > 1 else 1
    n = shape[0] if rows is None else rows
    return int(float(n) * per_image * (np.dtype(dtype).itemsize + 4))


def fits_whole(shape: tuple[int, ...], dtype, available: int | None = None) -> bool:
    """Is reading every image cheap enough (under :data:`WHOLE_FILE_SHARE` of the memory)?"""
    available = available_memory() if available is None else available
    return available is None or loading_bytes(shape, dtype) <= WHOLE_FILE_SHARE * available


def check_fits(where: str | PathLike, shape: tuple[int, ...], dtype, rows: int | None = None,
               *, partial_read: bool = True, available: int | None = None) -> None:
    """Raise DataError when loading ``rows`` images (default all) of ``shape`` would not fit.

    Parameters
    ----------
    where : the file, for the message.
    shape : (N, ...) the array's claimed shape; dtype its element type.
    rows : how many of the N images will be read (``data.limit``), or None for all.
    partial_read : can this format read only some rows (.npy, HDF5)? If not, the
        message says to convert it rather than to set ``data.limit``.
    available : bytes available; default :func:`available_memory` (None: no check).
    """
    available = available_memory() if available is None else available
    if available is None or len(shape) == 0:
        return
    needed = loading_bytes(shape, dtype, rows)
    if needed <= available:
        return
    per_image = max(1, loading_bytes(shape, dtype, 1))
    fit = max(0, int(WHOLE_FILE_SHARE * available // per_image))
    what = (f"{rows:,} of its {shape[0]:,} images" if rows is not None and rows < shape[0]
            else f"its {shape[0]:,} images")
    claim = f"the file claims images of shape {tuple(shape)} {np.dtype(dtype)}"
    if partial_read:
        fix = (f"Set data.limit to {fit:,} or fewer (a random subset of that many images; only "
               f"those are read from the file), or data.stream to true (every image, read "
               f"from the file a batch at a time)" if fit >= 2 else
               "One image alone is larger than the memory: use smaller images")
    else:
        fix = ("This kind of file is read whole: save the images as .npy or .h5, where "
               f"data.limit (e.g. {fit:,}) reads only a subset, or use a smaller file")
    raise fail(where, f"{claim}; loading {what} needs about {size_words(needed)} of memory "
                      f"and {size_words(available)} is available", fix)


#: Memory a streamed set takes per image beside its pixels, which stay in the file: int64
#: indices for the split (a permutation, then the sorted halves) and for each epoch's order
#: (a permutation, and its batches).
INDEX_BYTES = 32


def check_index_fits(where: str | PathLike, shape: tuple[int, ...], dtype,
                     rows: int | None = None, *, available: int | None = None) -> None:
    """Raise DataError when the order of ``rows`` streamed images (default all) would not fit.

    A file's images can stay in the file, their indices cannot: an HDF5 data set
    created with a shape of 10⁹ images and never written is a 1.4 KB file, and
    shuffling its claimed images would take 32 GB. Checked before anything
    is indexed, with the same advice as :func:`check_fits`.
    """
    available = available_memory() if available is None else available
    n = shape[0] if rows is None else rows
    # The pixels stay in the file: the indices may take what memory there is.
    if available is None or INDEX_BYTES * float(n) <= available:
        return
    fit = int(available // INDEX_BYTES)
    raise fail(where, f"the file claims images of shape {tuple(shape)} {np.dtype(dtype)}; "
               f"even streamed, training on {n:,} images needs about "
               f"{size_words(INDEX_BYTES * float(n))} of memory for the order of their indices "
               f"alone, and {size_words(available)} is available",
               f"Set data.limit to {fit:,} or fewer (a random subset of that many images; "
               "only those are read from the file)")


def size_words(n: float) -> str:
    """Bytes as people say them: 784.0 MB, 3.1 TB."""
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{int(n)} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"
