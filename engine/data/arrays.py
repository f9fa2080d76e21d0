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
    images : (N, C, H, W) float32 in [0, 1], C-contiguous
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
        return ImageArrays(
            images=np.ascontiguousarray(self.images[idx]),
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


def as_images(arr: np.ndarray, where: str | PathLike) -> np.ndarray:
    """Check an image array and convert it to the engine's layout.

    Parameters
    ----------
    arr : (N, H, W), (N, H, W, C) or (N, C, H, W) with C in {1, 3, 4};
        any integer, bool or float dtype.
    where : file (or other source) to name in error messages.

    Returns
    -------
    images : (N, C, H, W) float32 in [0, 1], C-contiguous, C in {1, 3}.
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
        arr = arr[:, None]
    else:
        layout = channel_layout(arr.shape)
        if not layout:
            raise fail(where, f"cannot find a channel axis in shape {arr.shape}: "
                       "axis 1 or the last axis must have 1, 3 or 4 channels",
                       "Save greyscale images as (N, H, W) and colour ones as "
                       "(N, H, W, 3)")
        if layout == "NHWC":
            arr = arr.transpose(0, 3, 1, 2)
        if arr.shape[1] == 4:
            arr = arr[:, :3]  # RGBA: the models reconstruct colour, not opacity
    return _to_unit_float(arr, where)


def _to_unit_float(arr: np.ndarray, where: str | PathLike) -> np.ndarray:
    """(N, C, H, W) numeric → (N, C, H, W) float32 in [0, 1], C-contiguous."""
    kind = arr.dtype.kind
    if kind == "b":
        return np.ascontiguousarray(arr, dtype=np.float32)
    if arr.dtype == np.uint8:
        out = np.ascontiguousarray(arr, dtype=np.float32)
        out /= 255.0  # true division, so 255 maps exactly to 1.0
        return out
    if kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
        # A fixed 255 would turn 0/1 masks black and 16-bit scans white;
        # the data's own maximum keeps both visible.
        if lo >= 0:
            lo = 0
        out = np.ascontiguousarray(arr, dtype=np.float32)
        if hi > lo:
            out -= lo
            out /= float(hi - lo)
        else:
            out[...] = 0.0
        return out
    # Floats: test finiteness on the original dtype, before a float64 1e300
    # could overflow to inf in float32 and hide where the problem was.
    finite = np.isfinite(arr)
    if not finite.all():
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(arr.size - finite.sum() - n_nan)
        raise fail(where, f"the images contain {n_nan} NaN and {n_inf} infinite values",
                   "Replace them (e.g. with numpy.nan_to_num) before loading")
    del finite
    lo, hi = float(arr.min()), float(arr.max())
    if lo >= 0.0 and hi <= 1.0:
        return np.ascontiguousarray(arr, dtype=np.float32)
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
