"""MNIST: the bundled 5,000-digit subset and the original IDX file format.

The subset lives in ``resources/data/mnist_5k.npz`` (``images`` uint8
``(5000, 28, 28)``, ``labels`` uint8 ``(5000,)``, 500 per digit), written once
by ``scripts/make_mnist_subset.py``. Loading it needs only numpy, so the app
starts without any download or extra dependency.

IDX is the format of the files on Yann LeCun's MNIST page (and of
Fashion-MNIST, KMNIST, EMNIST): a 4-byte magic number giving the element
type and rank, the dimensions as big-endian uint32, then the raw data.
"""

from __future__ import annotations

import gzip
import re
from importlib import resources as _resources
from pathlib import Path

import numpy as np

from engine.data.arrays import ImageArrays, as_images, as_labels, fail
from engine.data.memory import check_fits

MNIST_SOURCE = "bundled MNIST subset (5,000 digits)"
MNIST_FILE = "mnist_5k.npz"
DIGIT_NAMES = tuple(str(d) for d in range(10))

# IDX element types: magic byte 3 → big-endian numpy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
#: Matches IDX file names, with or without ``.gz``: ``train-images-idx3-ubyte``,
#: ``train-images.idx3-ubyte`` (the Kaggle spelling), ``t10k-labels-idx1-ubyte.gz``.
IDX_NAME = re.compile(r"[-.]idx(\d)-ubyte(\.gz)?$", re.IGNORECASE)


def bundled_mnist_path() -> Path:
    """Where the bundled subset is: inside the ``resources`` package.

    Falls back to the repository layout (``<root>/resources/data``) in case
    another top-level module called ``resources`` shadows ours.
    """
    try:
        path = Path(str(_resources.files("resources") / "data" / MNIST_FILE))
        if path.is_file():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / "resources" / "data" / MNIST_FILE


def load_mnist(size: int | None = None) -> ImageArrays:
    """Load the bundled MNIST subset.

    Parameters
    ----------
    size : ``data.image_size``, or None for the digits' own 28x28.

    Returns
    -------
    ImageArrays
        images (5000, 1, 28, 28) float32 in [0, 1] (S x S with ``size``);
        labels (5000,) int64 in 0..9; label_names ``("0", ..., "9")``.
    """
    path = bundled_mnist_path()
    if not path.is_file():
        raise fail(path, "the bundled MNIST subset is missing",
                   "Reinstall the application, or run scripts/make_mnist_subset.py")
    try:
        with np.load(path, allow_pickle=False) as z:
            raw_images, raw_labels = z["images"], z["labels"]
    except (OSError, ValueError, KeyError) as e:
        raise fail(path, f"the bundled MNIST subset cannot be read ({e})",
                   "Reinstall the application, or run scripts/make_mnist_subset.py") from None
    return ImageArrays(images=as_images(raw_images, path, size),
                       labels=as_labels(raw_labels, len(raw_images), path),
                       label_names=DIGIT_NAMES, source=MNIST_SOURCE)


# -- IDX ---------------------------------------------------------------------

def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (raw or gzip-compressed).

    Parameters
    ----------
    path : an ``*-idx<rank>-ubyte`` file, optionally ending in ``.gz``.

    Returns
    -------
    array : the stored array in native byte order, e.g. (N, 28, 28) uint8
        for an image file, (N,) uint8 for a label file.
    """
    path = Path(path)
    try:
        opener = gzip.open if path.suffix.lower() == ".gz" else open
        with opener(path, "rb") as f:
            head = f.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_DTYPES:
                raise fail(path, "this is not an IDX file (bad magic number)",
                           "Choose an MNIST-style *-idx3-ubyte image file")
            dtype, rank = _IDX_DTYPES[head[2]], head[3]
            dims = f.read(4 * rank)
            if len(dims) < 4 * rank:
                raise fail(path, f"the IDX file is truncated: its header needs {4 + 4 * rank} "
                           f"bytes but the file has {4 + len(dims)}", "Download the file again")
            shape = tuple(int(d) for d in np.frombuffer(dims, ">u4", count=rank))
            if rank >= 3:  # images: do they fit, before reading them?
                check_fits(path, shape, dtype, partial_read=False)
            count = int(np.prod(shape, dtype=np.int64))
            buf = f.read(count * dtype.itemsize)
    except (OSError, EOFError) as e:
        # BadGzipFile is an OSError; a gzip stream cut short is an EOFError.
        raise fail(path, f"cannot read the file ({e})",
                   "Download it again; a .gz file must be a complete gzip archive") from None
    header = 4 + 4 * rank
    expected = header + count * dtype.itemsize
    if len(buf) < count * dtype.itemsize:
        raise fail(path, f"the IDX file is truncated: shape {shape} needs {expected} "
                   f"bytes but the file has {header + len(buf)}", "Download the file again")
    data = np.frombuffer(buf, dtype, count=count)
    return data.reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def idx_labels_path(images_path: Path) -> Path | None:
    """The labels file that belongs to an IDX image file, if it exists.

    ``train-images-idx3-ubyte.gz`` → ``train-labels-idx1-ubyte[.gz]``; both the
    compressed and the raw spelling are tried, so a set unpacked only in part
    still finds its labels.
    """
    m = IDX_NAME.search(images_path.name)
    if m is None:
        return None
    stem = images_path.name[:m.start()].replace("images", "labels")
    sep = images_path.name[m.start()]
    for suffix in ("", ".gz"):
        candidate = images_path.with_name(f"{stem}{sep}idx1-ubyte{suffix}")
        if candidate != images_path and candidate.is_file():
            return candidate
    return None


def load_idx(path: str | Path, size: int | None = None) -> ImageArrays:
    """Load IDX images and, when a sibling labels file exists, their labels.

    ``size`` is ``data.image_size`` (None keeps the images' size).

    Returns
    -------
    ImageArrays
        images (N, 1, H, W) float32 in [0, 1]; labels (N,) int64 or None.
    """
    path = Path(path)
    images = as_images(read_idx(path), path, size)
    labels = None
    labels_path = idx_labels_path(path)
    if labels_path is not None:
        labels = as_labels(read_idx(labels_path), len(images), labels_path)
    return ImageArrays(images=images, labels=labels, source=str(path))
