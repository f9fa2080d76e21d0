"""Turn whatever array a user hands us into the one image layout the engine uses.

Every source (bundled MNIST, sprites, user files) ends in :class:`ImageArrays`:
float32 images ``(N, C, H, W)`` in [0, 1] plus optional labels and factors.
:func:`as_images` and :func:`as_labels` do the checking and conversion so
that each file reader only has to get an array out of its container; every
problem becomes a :class:`~engine.errors.DataError` that names the file, says
what is wrong and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike, fspath

import numpy as np

from engine.errors import DataError

#: Channel counts we accept: greyscale, RGB, RGBA (alpha is dropped).
CHANNELS = (1, 3, 4)


def fail(where: str | PathLike, problem: str, fix: str = "") -> DataError:
    """Build a DataError reading ``"<where>: <problem>. <fix>"``.

    Returned rather than raised so call sites read ``raise fail(...)`` and
    type checkers see the raise.
    """
    msg = f"{fspath(where)}: {problem}"
    if fix:
        msg += f". {fix}"
    return DataError(msg)


@dataclass(eq=False)
class ImageArrays:
    """Images and annotations from one source, before splitting.

    Attributes
    ----------
    images : (N, C, H, W) float32 in [0, 1], C-contiguous (or
        :class:`~engine.data.streamed.FileImages` for a file read batch by batch)
    labels : (N,) int64 >= 0, or None
    factors : (N, F) float32, or None
    factor_names : F names, ``()`` when there are no factors
    label_names : class names indexed by label, or None
    source : human description of where the images came from
    """

    images: np.ndarray
    labels: np.ndarray | None = None
    factors: np.ndarray | None = None
    factor_names: tuple[str, ...] = ()
    label_names: tuple[str, ...] | None = None
    source: str = ""

    def take(self, idx: np.ndarray) -> "ImageArrays":
        """The subset at integer indices ``idx`` (``(K,)``), in that order."""
        # Images streamed from a file stay there: their subset is a list of rows.
        streamed = not isinstance(self.images, np.ndarray)
        return ImageArrays(
            images=self.images.subset(idx) if streamed else np.ascontiguousarray(self.images[idx]),
            labels=None if self.labels is None else self.labels[idx],
            factors=None if self.factors is None else self.factors[idx],
            factor_names=self.factor_names,
            label_names=self.label_names,
            source=self.source,
        )


def _check_numeric(arr: np.ndarray, where: str, what: str) -> None:
    # Strings, objects, structured records and complex numbers have no
    # sensible pixel intensity; numpy would either refuse or silently
    # produce garbage, so stop here with a message.
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise fail(where, f"{what} have dtype {arr.dtype}, which is not numeric",
                   "Save the images as numbers (uint8 0-255 or float 0-1)")


def channel_layout(shape: tuple[int, ...]) -> str:
    """Decide how a rank-4 array is laid out.

    Parameters
    ----------
    shape : (N, A, B, D)

    Returns
    -------
    ``"NHWC"`` when the last axis looks like channels (1, 3 or 4) and axis 1
    does not, ``"NCHW"`` when axis 1 does and the last does not; when both
    could be channels we pick channels-last, the layout of image files and
    most numpy/Keras data. ``""`` when neither axis can hold channels.
    """
    last, first = shape[3] in CHANNELS, shape[1] in CHANNELS
    if last:
        return "NHWC"
    if first:
        return "NCHW"
    return ""


def as_images(arr: np.ndarray, where: str | PathLike, size: int | None = None) -> np.ndarray:
    """Check an image array and convert it to the engine's layout.

    Parameters
    ----------
    arr : (N, H, W), (N, H, W, C) or (N, C, H, W) with C in {1, 3, 4};
        any integer, bool or float dtype.
    where : file (or other source) to name in error messages.
    size : ``data.image_size``: each image's centre square resized to
        ``size x size`` (:mod:`engine.data.resize`); None keeps the size.

    Returns
    -------
    images : (N, C, H, W) float32 in [0, 1], C-contiguous, C in {1, 3}
        (H = W = ``size`` when given).
        uint8 is divided by 255; other integers by the array's maximum
        (min-max when negative values occur); floats already in [0, 1] are
        kept and other floats are min-max scaled.

    Raises
    ------
    DataError
        for empty arrays, a rank other than 3 or 4, no channel axis,
        non-numeric dtypes, and NaN or infinite values.
    """
    arr = np.asarray(arr)
    layout = image_layout(arr, where)
    arr = to_layout(arr, layout)
    scale = unit_scale(arr.dtype, [arr], where)
    if size is None:
        return apply_unit_scale(arr, scale)
    out = np.empty((len(arr), arr.shape[1], size, size), np.float32)
    for i in range(0, len(arr), 1024):  # in pieces: no float32 copy at the original size
        out[i:i + 1024] = to_unit(stored_rows(arr[i:i + 1024], scale, size))
    return out


def stored_rows(rows: np.ndarray, scale: "UnitScale", size: int | None) -> np.ndarray:
    """Raw rows in the engine's layout -> what a batch carries to the training device.

    Parameters
    ----------
    rows : (k, C, H, W) raw values (:func:`to_layout`).
    scale : the source's :class:`UnitScale`.
    size : ``data.image_size``, or None.

    Returns
    -------
    (k, C, S, S) uint8 when the source is 8-bit (a quarter of the bytes; the
    device divides by 255, :func:`to_unit`), else float32 in [0, 1].
    """
    from engine.data.resize import fit_images

    if scale.kind == "uint8":
        return fit_images(np.ascontiguousarray(rows, dtype=np.uint8), size)
    return fit_images(apply_unit_scale(rows, scale), size)


def to_unit(stored: np.ndarray) -> np.ndarray:
    """A stored batch (:func:`stored_rows`) as float32 in [0, 1]: uint8 / 255, exactly as
    :func:`apply_unit_scale` (and ``torch``'s float32 division on a device) computes it."""
    if stored.dtype == np.uint8:
        out = stored.astype(np.float32)
        out /= 255.0
        return out
    return stored


def image_layout(arr, where: str | PathLike) -> str:
    """Check an image array's dtype and shape; its layout: ``NHW``, ``NHWC`` or ``NCHW``.

    Reads ``arr.dtype``, ``arr.ndim``, ``arr.shape`` and ``arr.size`` only, so
    it checks a memory-mapped file or an HDF5 dataset without reading it.
    """
    _check_numeric(arr, where, "the images")
    if arr.ndim not in (3, 4):
        raise fail(where, f"the image array has shape {arr.shape} (rank {arr.ndim}); "
                   "expected (N, H, W), (N, H, W, C) or (N, C, H, W)",
                   "Reshape it to one of those layouts, e.g. flat 784-pixel rows "
                   "to (N, 28, 28)")
    if arr.size == 0:
        raise fail(where, f"the image array is empty (shape {arr.shape})",
                   "Choose a file that holds at least two images")
    if arr.ndim == 3:
        return "NHW"
    layout = channel_layout(arr.shape)
    if not layout:
        raise fail(where, f"cannot find a channel axis in shape {arr.shape}: "
                   "axis 1 or the last axis must have 1, 3 or 4 channels",
                   "Save greyscale images as (N, H, W) and colour ones as "
                   "(N, H, W, 3)")
    return layout


def to_layout(arr: np.ndarray, layout: str) -> np.ndarray:
    """Rows of an array in ``layout`` as a (k, C, H, W) view, C in {1, 3} (alpha dropped)."""
    if layout == "NHW":
        return arr[:, None]
    if layout == "NHWC":
        arr = arr.transpose(0, 3, 1, 2)
    if arr.shape[1] == 4:
        arr = arr[:, :3]  # RGBA: the models reconstruct colour, not opacity
    return arr


def layout_shape(shape: tuple[int, ...], layout: str) -> tuple[int, int, int, int]:
    """The (N, C, H, W) shape :func:`to_layout` gives an array of ``shape``."""
    if layout == "NHW":
        n, h, w = shape
        c = 1
    elif layout == "NHWC":
        n, h, w, c = shape
    else:
        n, c, h, w = shape
    return int(n), 3 if c == 4 else int(c), int(h), int(w)


@dataclass(frozen=True)
class UnitScale:
    """How raw pixel values map to float32 in [0, 1] (see :func:`as_images`).

    ``kind`` is ``cast`` (bool, or floats already in [0, 1]), ``uint8`` (/255),
    ``int`` ((x - lo) / (hi - lo), lo <= 0) or ``float`` (min-max in the
    source precision, clipped); ``lo``, ``hi`` the data's range where it matters.
    """

    kind: str
    lo: float = 0.0
    hi: float = 1.0


def unit_scale(dtype: np.dtype, chunks, where: str | PathLike) -> UnitScale:
    """The scaling of images of ``dtype`` whose values are the arrays in ``chunks``.

    ``chunks`` is read only when the scaling depends on the data (integers
    other than uint8, floats): the whole array, or its rows in pieces for a
    file too large to hold.

    Raises
    ------
    DataError
        for NaN or infinite values.
    """
    dtype = np.dtype(dtype)
    kind = dtype.kind
    if kind == "b":
        return UnitScale("cast")
    if dtype == np.uint8:
        return UnitScale("uint8")
    lo = hi = None
    n_nan = n_inf = 0
    for chunk in chunks:
        if kind == "f":
            # Test finiteness on the original dtype, before a float64 1e300
            # could overflow to inf in float32 and hide where the problem was.
            finite = np.isfinite(chunk)
            if not finite.all():
                nan = int(np.isnan(chunk).sum())
                n_nan += nan
                n_inf += int(chunk.size - finite.sum() - nan)
            del finite
            if n_nan or n_inf:
                continue
            c_lo, c_hi = float(chunk.min()), float(chunk.max())
        else:
            c_lo, c_hi = int(chunk.min()), int(chunk.max())
        lo = c_lo if lo is None else min(lo, c_lo)
        hi = c_hi if hi is None else max(hi, c_hi)
    if n_nan or n_inf:
        raise fail(where, f"the images contain {n_nan} NaN and {n_inf} infinite values",
                   "Replace them (e.g. with numpy.nan_to_num) before loading")
    if kind in "iu":
        # A fixed 255 would turn 0/1 masks black and 16-bit scans white;
        # the data's own maximum keeps both visible.
        return UnitScale("int", min(lo, 0), hi)
    if lo >= 0.0 and hi <= 1.0:
        return UnitScale("cast")
    return UnitScale("float", lo, hi)


def apply_unit_scale(arr: np.ndarray, scale: UnitScale) -> np.ndarray:
    """(k, C, H, W) raw values -> (k, C, H, W) float32 in [0, 1], C-contiguous."""
    if scale.kind == "cast":
        return np.ascontiguousarray(arr, dtype=np.float32)
    if scale.kind == "uint8":
        out = np.ascontiguousarray(arr, dtype=np.float32)
        out /= 255.0  # true division, so 255 maps exactly to 1.0
        return out
    lo, hi = scale.lo, scale.hi
    if scale.kind == "int":
        out = np.ascontiguousarray(arr, dtype=np.float32)
        if hi > lo:
            out -= lo
            out /= float(hi - lo)
        else:
            out[...] = 0.0
        return out
    if hi > lo:
        scaled = (arr - lo) * (1.0 / (hi - lo))  # in the source precision
        out = np.ascontiguousarray(scaled, dtype=np.float32)
        np.clip(out, 0.0, 1.0, out=out)  # rounding can step just past 1
        return out
    return np.clip(np.ascontiguousarray(arr, dtype=np.float32), 0.0, 1.0)


def as_labels(arr: np.ndarray, n_images: int, where: str | PathLike) -> np.ndarray:
    """Check class labels and convert them to ``(N,) int64``.

    Parameters
    ----------
    arr : (N,), (N, 1) or one-hot (N, K) labels; integer, bool or
        integer-valued float dtype, all >= 0.
    n_images : N, the number of images the labels must match.
    where : file to name in error messages.

    Returns
    -------
    labels : (N,) int64
    """
    arr = np.asarray(arr)
    _check_numeric(arr, where, "the labels")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    elif arr.ndim == 2 and arr.shape[1] > 1 and arr.shape[0] == n_images:
        # One-hot rows (Keras' to_categorical) carry the class as the argmax.
        if not (np.isin(arr, (0, 1)).all() and (arr.sum(axis=1) == 1).all()):
            raise fail(where, f"the labels have shape {arr.shape} but are not one-hot",
                       "Store one integer class per image, shape (N,)")
        arr = arr.argmax(axis=1)
    if arr.ndim != 1:
        raise fail(where, f"the labels have shape {arr.shape}; expected (N,)",
                   "Store one integer class per image")
    if arr.shape[0] != n_images:
        raise fail(where, f"there are {arr.shape[0]} labels for {n_images} images",
                   "Give exactly one label per image, or choose the matching "
                   "labels array (labels_key)")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not (arr == np.round(arr)).all():
            raise fail(where, "the labels are not whole numbers",
                       "Store class labels as integers 0, 1, 2, ...")
    if arr.size and arr.min() < 0:
        raise fail(where, f"the labels include the negative value {arr.min()}",
                   "Use class labels 0, 1, 2, ...")
    return np.ascontiguousarray(arr, dtype=np.int64)
