"""Load images a user points at: .npy, .npz, .h5/.hdf5, MNIST IDX, image folders.

:func:`load_file` picks the reader from the path, each reader only gets the
raw arrays out of their container, and :mod:`engine.data.arrays` checks and
converts them. Every failure of numpy, h5py or Pillow is caught here and
re-raised as a :class:`~engine.errors.DataError` naming the file, so the
GUI and the CLI never show a library traceback.
"""

from __future__ import annotations

import zipfile
import zlib
from os import PathLike
from pathlib import Path
from typing import Callable

import numpy as np

from engine.data.arrays import ImageArrays, as_images, as_labels, fail, image_layout
from engine.data.folder import load_image_folder
from engine.data.memory import check_fits, check_index_fits, fits_whole
from engine.data.mnist import IDX_NAME, load_idx
from engine.data.streamed import FileImages, fits_in_memory, load_all, loaded_bytes, read_runs

#: Names tried, in order, for the images when no key is given.
IMAGE_KEYS = ("images", "x", "x_train", "data")
#: Names tried, in order, for the labels when no labels key is given.
LABEL_KEYS = ("labels", "y", "y_train")
SUPPORTED = ".npy, .npz, .h5, .hdf5, MNIST IDX (*-idx3-ubyte[.gz]) or a folder of images"
#: The formats whose images can stay in the file (``stream``); folders stream too.
STREAMABLE = (".npy", ".h5", ".hdf5")

#: Given the number of images a file holds, the ones to keep: sorted indices, or None
#: for all (``data.limit``; see :func:`engine.data.dataset.limit_indices`).
RowChoice = Callable[[int], "np.ndarray | None"]


def load_file(path: str | PathLike, key: str | None = None,
              labels_key: str | None = None, rows: RowChoice | None = None,
              stream: bool | None = False, size: int | None = None) -> ImageArrays:
    """Load images (and labels, when there are any) from a file or folder.

    Parameters
    ----------
    path : a .npy, .npz, .h5/.hdf5 or IDX file, or a folder of PNG/JPEG
        images (one subfolder per class, or all images in the folder).
    key : the array inside an .npz or the dataset path inside an HDF5 file;
        default: the first of :data:`IMAGE_KEYS` present, else the only
        (or first) array of rank >= 3. Ignored by formats without names
        (.npy, IDX, folders).
    labels_key : the labels array/dataset; default: the one that pairs with
        the image key (``x_test`` → ``y_test``), else the first of
        :data:`LABEL_KEYS` present, else no labels.
    rows : the images ``data.limit`` keeps, as a function of how many there
        are. Used only where a file is too large to read whole (.npy and
        HDF5 read just those rows); otherwise every image is returned.
    stream : keep the images in a .npy or HDF5 file, or a folder, and read them
        a batch at a time (:class:`~engine.data.streamed.FileImages`,
        :class:`~engine.data.folder.FolderImages`): True always, None when they
        would not fit in memory (and ``data.limit`` does not bring them down
        to what fits), False never.
    size : ``data.image_size``: every image's centre square resized to
        ``size x size`` (:mod:`engine.data.resize`); None keeps their size.

    Returns
    -------
    ImageArrays
        images (N, C, H, W) float32 in [0, 1]; labels (N,) int64 or None;
        source = the path as given.

    Raises
    ------
    DataError
        naming the file, the problem and what to do; also, before anything
        is read, when the images would not fit in the available memory.
    """
    p = Path(path)
    if not p.exists():
        raise fail(p, "no such file or folder", "Check the path, or choose another file")
    if stream and not p.is_dir() and p.suffix.lower() not in STREAMABLE:
        raise fail(p, "only .npy and .h5/.hdf5 files and folders of images can be streamed",
                   "Save the images with numpy.save (.npy) or as an HDF5 dataset, "
                   "or set data.stream to null to load them into memory")
    if p.is_dir():
        return load_image_folder(p, rows, size, stream)
    name = p.name.lower()
    if IDX_NAME.search(name):
        return load_idx(p, size)
    suffix = p.suffix.lower()
    if suffix == ".npy":
        raw = _read_npy(p)
        if _streams(raw, p, rows, stream, size):
            return ImageArrays(images=FileImages(p, size=size), source=str(p))
        if size is not None:
            return ImageArrays(images=_load_fitted(raw, p, None, rows, size), source=str(p))
        return ImageArrays(images=as_images(_read_rows(raw, p, rows), p), source=str(p))
    if suffix == ".npz":
        return _load_npz(p, key, labels_key, size)
    if suffix in (".h5", ".hdf5"):
        return _load_h5(p, key, labels_key, rows, stream, size)
    raise fail(p, f"unknown file type {suffix or '(no extension)'!r}",
               f"Use {SUPPORTED}")


def _streams(raw, p: Path, rows: RowChoice | None, stream: bool | None,
             size: int | None = None) -> bool:
    """Should these images stay in their file? ``stream`` None: when loading them would not
    fit — whole, or as the subset ``data.limit`` keeps.

    Raises DataError when streaming would not fit either: the order of a
    streamed set's indices takes memory too (:func:`check_index_fits`).
    """
    if stream is not None:
        if stream:
            image_layout(raw, p)  # shape and dtype first, as when loading it whole
            keep = rows(raw.shape[0]) if rows is not None else None
            check_index_fits(p, tuple(raw.shape), raw.dtype, None if keep is None else len(keep))
        return bool(stream)
    if len(raw.shape) not in (3, 4) or fits_in_memory(loaded_bytes(raw, p, size)):
        return False
    keep = rows(raw.shape[0]) if rows is not None else None
    if keep is not None and fits_in_memory(loaded_bytes(raw, p, size) * len(keep)
                                           // raw.shape[0]):
        return False
    check_index_fits(p, tuple(raw.shape), raw.dtype, None if keep is None else len(keep))
    return True


def _load_fitted(raw, p: Path, key: str | None, rows: RowChoice | None,
                 size: int) -> np.ndarray:
    """A .npy or HDF5 data set's images made ``size x size``, read in pieces.

    Only the resized images are held whole, so a file whose images fit in
    memory at ``data.image_size`` but not at their own size still loads.
    """
    n = raw.shape[0] if raw.ndim else 0
    image_layout(raw, p)
    keep = None
    fitted = (n, size, size, 3)
    if rows is not None and not fits_whole(fitted, np.uint8):
        keep = rows(n)
    check_fits(p, fitted, np.uint8, None if keep is None else len(keep))
    return load_all(FileImages(p, key, keep, size=size))


def _read_npy(p: Path) -> np.ndarray:
    """The array of a .npy file, memory-mapped: nothing is read until it is indexed."""
    try:
        # allow_pickle=False: a data file must never run code on load.
        return np.load(p, mmap_mode="r", allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e) or "Python objects" in str(e):
            raise fail(p, "the array holds Python objects, not numbers",
                       "Save the images as a numeric array (uint8 or float)") from None
        if "mmap length is greater than file size" in str(e):
            raise fail(p, "the file is cut short: its header promises more data than it holds",
                       "Save it again with numpy.save, or copy it again") from None
        raise fail(p, f"not a valid .npy file ({e})", "Save it again with numpy.save") from None
    except (OSError, EOFError) as e:
        raise fail(p, f"not a valid .npy file ({e})", "Save it again with numpy.save") from None


def _read_rows(arr, p: Path, rows: RowChoice | None,
               keep: np.ndarray | None = None) -> np.ndarray:
    """Read an image array (memory-mapped .npy or HDF5 dataset), after checking it fits.

    The whole array when that is cheap; else only the rows ``rows`` keeps
    (``keep``, when the caller chose them already). Arrays whose rank is not
    that of images are read as they are, for :func:`as_images` to explain.
    """
    shape = tuple(arr.shape)
    if len(shape) not in (3, 4):
        return np.asarray(arr[()])
    if keep is None and rows is not None and not fits_whole(shape, arr.dtype):
        keep = rows(shape[0])
    check_fits(p, shape, arr.dtype, None if keep is None else len(keep))
    if keep is not None and not isinstance(arr, np.ndarray):
        # h5py's list indexing makes HDF5 visit every chunk between the first row and the
        # last: 136 s for 30 rows of a (10⁹, 28, 28) data set in chunks of one image.
        return read_runs(arr, np.asarray(keep, np.int64))
    if keep is not None:
        return np.asarray(arr[keep])
    # A memory map's values are only read when used: copy them now, into memory.
    return np.array(arr) if isinstance(arr, np.memmap) else np.asarray(arr[()])


def paired_label_keys(image_key: str | None) -> list[str]:
    """Label names to try for an image key: its partner first, then the defaults.

    ``x_test`` → ``y_test``, ``images_val`` → ``labels_val``, so choosing the
    test images does not silently pick up the training labels.
    """
    keys: list[str] = []
    if image_key:
        base = image_key.rsplit("/", 1)
        head, leaf = (base[0] + "/", base[1]) if len(base) == 2 else ("", base[0])
        for img, lab in (("x", "y"), ("X", "y"), ("images", "labels"), ("image", "label")):
            if leaf.startswith(img) and leaf != img:
                keys.append(head + lab + leaf[len(img):])
        keys += [head + k for k in LABEL_KEYS] if head else []
    return keys + [k for k in LABEL_KEYS if k not in keys]


def _npz_member_header(z: np.lib.npyio.NpzFile, name: str) -> tuple[tuple, np.dtype] | None:
    """(shape, dtype) of one array in an .npz, from its header; None when unreadable.

    Reading only the header avoids decompressing every array of a large
    archive just to find the images (or to learn that they would not fit).
    """
    fmt = np.lib.format
    try:
        with z.zip.open(name + ".npy") as f:
            major, _ = fmt.read_magic(f)
            read_header = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
            shape, _, dtype = read_header(f)
            return tuple(shape), dtype
    except Exception:  # noqa: BLE001 - odd member names or header versions
        return None


def _npz_member_rank(z: np.lib.npyio.NpzFile, p: Path, name: str) -> int:
    """Rank of one array in an .npz (from its header when possible)."""
    header = _npz_member_header(z, name)
    return len(header[0]) if header is not None else _npz_array(z, p, name).ndim


def _load_npz(p: Path, key: str | None, labels_key: str | None,
              size: int | None = None) -> ImageArrays:
    # Check the container first: on a non-zip file np.load falls through to
    # pickle and reports "pickled data", which would mislead.
    try:
        is_zip = zipfile.is_zipfile(p)
        with open(p, "rb") as f:
            is_npy = f.read(6) == b"\x93NUMPY"
    except OSError as e:
        raise fail(p, f"cannot read the file ({e})", "Check its permissions") from None
    if is_npy:
        raise fail(p, "this is a single .npy array, not an .npz archive",
                   "Rename it to .npy, or save it with numpy.savez")
    if not is_zip:
        raise fail(p, "not a valid .npz archive (it is not a zip file)",
                   "Save it again with numpy.savez")
    try:
        z = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise fail(p, f"not a valid .npz archive ({type(e).__name__}: {e})",
                   "Save it again with numpy.savez") from None
    with z:
        names = list(z.files)
        available = ", ".join(names) or "(none)"
        if key is not None:
            if key not in names:
                raise fail(p, f"no array named {key!r}; the file holds: {available}",
                           "Set data.key to one of those names (--set data.key=NAME)")
        else:
            key = next((k for k in IMAGE_KEYS if k in names), None)
            if key is None:
                key = next((k for k in names if _npz_member_rank(z, p, k) >= 3), None)
            if key is None:
                raise fail(p, f"no array of rank 3 or 4 to use as images; the file "
                           f"holds: {available}", "Set data.key to the images array "
                           "(--set data.key=NAME), shaped (N, H, W) or (N, H, W, C)")
        if labels_key is not None and labels_key not in names:
            raise fail(p, f"no labels array named {labels_key!r}; the file holds: "
                       f"{available}", "Set data.labels_key to one of those names "
                       "(--set data.labels_key=NAME), or clear it")
        if labels_key is None:
            labels_key = next((k for k in paired_label_keys(key)
                               if k in names and k != key), None)
        header = _npz_member_header(z, key)
        if header is not None and len(header[0]) in (3, 4):
            check_fits(p, header[0], header[1], partial_read=False)
        raw_images = _npz_array(z, p, key)
        images = as_images(raw_images, p, size)
        labels = None
        if labels_key is not None:
            labels = as_labels(_npz_array(z, p, labels_key), len(images), p)
    return ImageArrays(images=images, labels=labels, source=str(p))


def _npz_array(z: np.lib.npyio.NpzFile, p: Path, name: str) -> np.ndarray:
    try:
        return z[name]
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise fail(p, f"array {name!r} holds Python objects, not numbers",
                       "Save it as a numeric array (uint8 or float)") from None
        raise fail(p, f"array {name!r} cannot be read ({e})",
                   "Save the file again with numpy.savez") from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:
        raise fail(p, f"array {name!r} cannot be read ({e})",
                   "Save the file again with numpy.savez") from None


def _load_h5(p: Path, key: str | None, labels_key: str | None,
             rows: RowChoice | None = None, stream: bool | None = False,
             size: int | None = None) -> ImageArrays:
    import h5py  # imported here: h5py takes ~0.1 s to import and most runs never need it

    try:
        f = h5py.File(p, "r")
    except OSError as e:
        raise fail(p, f"not a readable HDF5 file ({e})",
                   "Check that it is an .h5 file written by h5py or another HDF5 tool") from None
    with f:
        datasets: dict[str, tuple[int, ...]] = {}

        def collect(name: str, obj: object) -> None:
            # Must return None: visititems stops at the first non-None result.
            if isinstance(obj, h5py.Dataset):
                datasets[name] = obj.shape

        f.visititems(collect)
        available = ", ".join(f"{n} {s}" for n, s in datasets.items()) or "(none)"
        if key is not None:
            key = key.strip("/")
            if key not in datasets:
                raise fail(p, f"no dataset named {key!r}; the file holds: {available}",
                           "Set data.key to one of those dataset paths (--set data.key=PATH)")
        else:
            candidates = [n for n, s in datasets.items() if len(s) >= 3]
            named = [k for k in IMAGE_KEYS if k in candidates]
            if len(candidates) == 1:
                key = candidates[0]
            elif named:
                key = named[0]
            elif not candidates:
                raise fail(p, f"no dataset of rank 3 or 4 to use as images; the file "
                           f"holds: {available}",
                           "Set data.key to the images dataset (--set data.key=PATH)")
            else:
                raise fail(p, "several datasets could be the images: "
                           + ", ".join(candidates),
                           "Set data.key to the one to use (--set data.key=PATH)")
        if labels_key is not None:
            labels_key = labels_key.strip("/")
            if labels_key not in datasets:
                raise fail(p, f"no labels dataset named {labels_key!r}; the file holds: "
                           f"{available}", "Set data.labels_key to one of those paths "
                           "(--set data.labels_key=PATH), or clear it")
        else:
            labels_key = next((k for k in paired_label_keys(key)
                               if k in datasets and k != key), None)
        ds = f[key]
        n = ds.shape[0] if ds.ndim else 0
        streams = isinstance(ds, h5py.Dataset) and _streams(ds, p, rows, stream, size)
        keep = None
        if not streams and ds.ndim in (3, 4) and rows is not None \
                and not fits_whole(ds.shape if size is None else (n, size, size, 3),
                                   ds.dtype if size is None else np.uint8):
            keep = rows(n)
        fitted = not streams and size is not None and isinstance(ds, h5py.Dataset)
        if fitted:
            image_layout(ds, p)
            check_fits(p, (n, size, size, 3), np.uint8, None if keep is None else len(keep))
        images = None if streams or fitted else as_images(_h5_array(f, p, key, keep), p)
        labels = None
        if labels_key is not None:
            lab = f[labels_key]
            # The labels of the kept rows; a count that does not match is reported
            # against every image of the file.
            same = keep is not None and lab.ndim and lab.shape[0] == n
            labels = as_labels(_h5_array(f, p, labels_key, keep if same else None),
                               len(keep) if keep is not None and same and not streams else n, p)
    if streams:  # opened after f is closed: h5py closes a file's objects together
        images = FileImages(p, key, size=size)
    elif fitted:
        images = load_all(FileImages(p, key, keep, size=size))
    return ImageArrays(images=images, labels=labels, source=str(p))


def _h5_array(f, p: Path, name: str, keep: np.ndarray | None = None) -> np.ndarray:
    """Dataset ``name`` (its rows ``keep`` only, when given), checked to fit first."""
    import h5py
    ds = f[name]
    if not isinstance(ds, h5py.Dataset):
        raise fail(p, f"{name!r} is a group, not a dataset",
                   "Set data.key to a dataset path (--set data.key=PATH)")
    try:
        if ds.ndim in (3, 4):
            return _read_rows(ds, p, None, keep)
        return np.asarray(ds[()]) if keep is None else read_runs(ds, np.asarray(keep, np.int64))
    except (OSError, ValueError, TypeError, KeyError) as e:
        # Compressed with an unavailable filter, damaged chunks, odd types.
        raise fail(p, f"dataset {name!r} cannot be read ({e})",
                   "Save it again as a plain numeric dataset") from None
