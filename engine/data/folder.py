"""A folder of images, one subfolder per class or all in one folder: listed, decoded, resized.

::

    photos/                     photos/
      cat/  a.png b.jpg           a.jpg
      dog/  c.png d.jpg           b.png

The left layout gives labels (subfolder names, sorted: ``cat`` = 0,
``dog`` = 1); the right gives none. Listing a folder reads names only, never
an image, so a folder of 200,000 photos is indexed in about a second. With
``data.image_size`` every image's centre square is resized to that size
(:mod:`engine.data.resize`), so photos of mixed sizes and shapes train;
without it every image must have the size of the first.

Colour: the images are RGB when any of up to :data:`COLOUR_SAMPLE` files
spread over the folder is in colour (their headers are read, not their
pixels), else greyscale; a grey image in a colour set becomes grey RGB and a
colour image in a grey set its luminance. Transparent pixels (RGBA, LA,
palettes with transparency) are composited over black — the background of
the app's own data — rather than showing whatever colour they happen to
store. 16-bit and float images keep their precision (float32 in [0, 1]).

An unreadable file stops loading with a message naming it (every unreadable
file found, when the folder is read whole): a set that quietly shrinks would
train on different images from one run, or one resume, to the next.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engine.data.arrays import ImageArrays, fail, to_unit
from engine.data.memory import check_fits, fits_whole
from engine.data.resize import fit_pillow
from engine.data.streamed import StreamedImages

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
#: Files whose headers decide whether a folder is in colour.
COLOUR_SAMPLE = 64
#: With data.stream null, a folder that fits in memory is still streamed when decoding
#: all of it first would take longer than this (a run should start in seconds).
WHOLE_DECODE_SECONDS = 20.0
# Pillow modes that hold one intensity per pixel; everything else is colour.
_GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_HIGH_BIT = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}


def _is_image(entry: os.DirEntry) -> bool:
    # Hidden files include macOS' "._name.png" resource forks, which are not images.
    return (entry.is_file() and not entry.name.startswith(".")
            and entry.name.lower().endswith(IMAGE_SUFFIXES))


def _images_below(folder: str) -> list[str]:
    """Every image under ``folder`` (recursively), in sorted order, as paths."""
    found: list[str] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(root, f) for f in sorted(files)
                  if not f.startswith(".") and f.lower().endswith(IMAGE_SUFFIXES)]
    return found


def list_image_folder(folder: Path) -> tuple[list[str], np.ndarray | None, tuple[str, ...] | None]:
    """Find the images of a folder and their classes, from names alone.

    Returns
    -------
    files : the N image paths, class by class, each class in sorted order.
    labels : (N,) int64 class indices, or None when there are no subfolders.
    label_names : the class (subfolder) names, sorted, or None.
    """
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    loose = [e.path for e in entries if _is_image(e)]
    subdirs = [e for e in entries if e.is_dir() and not e.name.startswith(".")]
    classes = [(d.name, _images_below(d.path)) for d in subdirs]
    classes = [(name, files) for name, files in classes if files]
    if classes and loose:
        raise fail(folder, f"the folder mixes loose images ({Path(loose[0]).name}, ...) with "
                   f"class subfolders ({classes[0][0]}, ...)",
                   "Move the loose images into a subfolder, or remove the subfolders")
    if classes:
        files = [f for _, fs in classes for f in fs]
        labels = np.concatenate([np.full(len(fs), i, dtype=np.int64)
                                 for i, (_, fs) in enumerate(classes)])
        return files, labels, tuple(name for name, _ in classes)
    if not loose:
        raise fail(folder, "the folder holds no images ("
                   + ", ".join(IMAGE_SUFFIXES) + ")",
                   "Put the images in it, or in one subfolder per class")
    return loose, None, None


def _unreadable(path, e: Exception):
    return fail(path, f"cannot read the image ({type(e).__name__}: {e})",
                "Remove or replace the file")


def _open(path):
    from PIL import Image
    try:
        return Image.open(path)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
        raise _unreadable(path, e) from None


def image_header(path) -> tuple[str, tuple[int, int]]:
    """(Pillow mode, (width, height)) of an image file, from its header alone."""
    with _open(path) as im:
        return im.mode, im.size


def read_image(path, size: int | None = None, colour: bool | None = None) -> np.ndarray:
    """Decode one image file.

    Parameters
    ----------
    size : ``data.image_size``: the centre square resized to ``size x size``.
    colour : True: RGB; False: greyscale; None: as stored.

    Returns
    -------
    pixels : (H, W) greyscale or (H, W, 3) colour; uint8 for 8-bit images,
        float32 in [0, 1] for 16-bit and floating-point ones.
    """
    from PIL import Image

    try:
        with _open(path) as im:
            if size is not None and im.format == "JPEG":
                im.draft(im.mode, (size, size))  # decode at a reduced scale where it suffices
            im.load()  # decode now, inside the try: Pillow decodes lazily
            im = _plain_mode(im)
            if im.mode == "F":
                if colour:  # a 16-bit scan in a colour set: its 8-bit grey, as RGB
                    im = Image.fromarray(np.round(np.asarray(im) * 255).astype(np.uint8))
            if im.mode != "F" and colour is not None:
                im = im.convert("RGB" if colour else "L")
            if size is not None:
                im = fit_pillow(im, size)
            a = np.asarray(im)
            return np.clip(a, 0.0, 1.0) if a.dtype != np.uint8 else a
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
        # UnidentifiedImageError and "image file is truncated" are OSErrors;
        # some plugins report a broken header as SyntaxError.
        raise _unreadable(path, e) from None


def _plain_mode(im):
    """L, RGB or F (16-bit and float greyscale as float32 in [0, 1]); alpha over black."""
    from PIL import Image

    mode = im.mode
    if mode == "P" and "transparency" in im.info:
        im, mode = im.convert("RGBA"), "RGBA"
    if mode in _ALPHA_MODES:
        grey = mode in ("LA", "La")
        rgba = im.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        out = Image.alpha_composite(black, rgba).convert("RGB")
        return out.convert("L") if grey else out
    if mode in _HIGH_BIT:
        # Pillow's convert("L") would clip at 255 rather than scale, so scale here.
        a = np.asarray(im, dtype=np.float32)
        if mode != "F":
            a = a / 65535.0
        return Image.fromarray(np.clip(a, 0.0, 1.0).astype(np.float32), mode="F")
    if mode in ("1", "L"):
        return im.convert("L")
    return im.convert("RGB")  # CMYK, YCbCr, palettes, ...


def folder_is_colour(files: list[str]) -> bool:
    """Is any of up to :data:`COLOUR_SAMPLE` files spread over ``files`` in colour?"""
    picks = np.unique(np.linspace(0, len(files) - 1, min(len(files), COLOUR_SAMPLE)).astype(int))
    return any(image_header(files[i])[0] not in _GREY_MODES for i in picks)


class FolderImages(StreamedImages):
    """A folder's images decoded a batch at a time (in DataLoader workers where cores allow).

    Parameters
    ----------
    folder : the folder (for messages).
    files : the N image paths (:func:`list_image_folder`).
    size : ``data.image_size``, or None: every image must then have the first's size.
    colour : RGB (True) or greyscale; default :func:`folder_is_colour`.
    """

    stored_dtype = np.dtype(np.uint8)

    def __init__(self, folder: str | Path, files: list[str], size: int | None = None,
                 colour: bool | None = None, rows: np.ndarray | None = None):
        self.folder = Path(folder)
        self.files = files
        self.size = size
        self.colour = folder_is_colour(files) if colour is None else colour
        self.rows = None if rows is None else np.asarray(rows, np.int64)
        if size is not None:
            h = w = size
        else:
            w, h = image_header(files[0])[1]
        n = len(self.rows) if self.rows is not None else len(files)
        self.shape = (n, 3 if self.colour else 1, h, w)

    def _read_stored(self, rows: np.ndarray) -> np.ndarray:
        """(k, C, H, W) uint8, or float32 in [0, 1] when a 16-bit image is among them."""
        pixels = [self._decode(int(r)) for r in rows]
        dtype = np.uint8 if all(a.dtype == np.uint8 for a in pixels) else np.float32
        out = np.empty((len(rows), *self.shape[1:]), dtype)
        for i, a in enumerate(pixels):
            if dtype != a.dtype:
                a = to_unit(a)
            out[i] = a.transpose(2, 0, 1) if a.ndim == 3 else a
        return out

    def _decode(self, row: int) -> np.ndarray:
        path = self.files[row]
        a = read_image(path, self.size, self.colour)
        if a.shape[:2] != self.shape[2:]:
            (h0, w0), (h1, w1) = self.shape[2:], a.shape[:2]
            first = os.path.relpath(self.files[0], self.folder)
            raise fail(self.folder, f"images differ in size: {first} is {w0}x{h0} but "
                       f"{os.path.relpath(path, self.folder)} is {w1}x{h1}",
                       "Set data.image_size (e.g. 64) to resize and crop every image to one "
                       "square size, or resize them all before loading")
        return a

    def subset(self, idx: np.ndarray) -> "FolderImages":
        return FolderImages(self.folder, self.files, self.size, self.colour,
                            self._source_rows(idx))

    def __repr__(self) -> str:
        return f"FolderImages({str(self.folder)!r}, shape={self.shape})"


def load_image_folder(folder: str | Path, rows=None, size: int | None = None,
                      stream: bool | None = False) -> ImageArrays:
    """A folder's images, decoded now or streamed.

    Parameters
    ----------
    folder : see the module docstring for the two layouts.
    rows : ``n -> sorted indices or None``, the images ``data.limit`` keeps: only
        those files are decoded when all of them would not fit in memory.
    size : ``data.image_size``, or None to keep the images' own (common) size.
    stream : True: decode a batch at a time while training (:class:`FolderImages`);
        None: when the decoded images would not fit in memory, or decoding them all
        first would take over :data:`WHOLE_DECODE_SECONDS`; False: never.

    Returns
    -------
    ImageArrays
        images (N, C, H, W) float32 in [0, 1] (or FolderImages), C = 3 for a
        colour folder else 1; labels (N,) int64 and label_names when the images
        are in class subfolders; source = the folder path.
    """
    folder = Path(folder)
    files, labels, label_names = list_image_folder(folder)
    images = FolderImages(folder, files, size)
    claimed = (len(files), *images.shape[2:], images.shape[1])
    whole = fits_whole(claimed, np.uint8)
    if stream is None and whole and _decoding_seconds(images) > WHOLE_DECODE_SECONDS:
        stream = True  # it fits, but decoding it all first would keep the run from starting
    if stream or (stream is None and not whole):
        keep = rows(len(files)) if rows is not None and not stream else None
        if keep is None or not fits_whole((len(keep), *claimed[1:]), np.uint8):
            return ImageArrays(images=images, labels=labels, label_names=label_names,
                               source=str(folder))
    if rows is not None and not whole:
        keep = rows(len(files))
        if keep is not None:
            images = images.subset(keep)
            labels = None if labels is None else labels[keep]
    check_fits(folder, claimed, np.uint8, len(images))
    return ImageArrays(images=_decode_all(images), labels=labels, label_names=label_names,
                       source=str(folder))


def _decoding_seconds(images: FolderImages, sample: int = 8) -> float:
    """About how long decoding every image would take, timed on a few spread over the folder."""
    import time
    picks = np.unique(np.linspace(0, len(images) - 1, min(len(images), sample)).astype(int))
    t0 = time.perf_counter()
    try:
        images.stored(picks)
    except Exception:  # noqa: BLE001 - a bad file is reported by the load itself, with the rest
        return 0.0
    return (time.perf_counter() - t0) * len(images) / len(picks)


def _decode_all(images: FolderImages) -> np.ndarray:
    """Every image of ``images`` as (N, C, H, W) float32; DataError naming every bad file."""
    out = np.empty(images.shape, np.float32)
    bad: list[str] = []
    first_error = None
    for i in range(len(images)):
        try:
            out[i] = to_unit(images.stored(np.array([i]))[0])
        except Exception as e:  # noqa: BLE001 - collected, then re-raised as one DataError
            from engine.errors import DataError
            if not isinstance(e, DataError) or "cannot read the image" not in str(e):
                raise
            first_error = first_error or e
            row = i if images.rows is None else int(images.rows[i])
            bad.append(os.path.relpath(images.files[row], images.folder))
    if len(bad) == 1:
        raise first_error
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise fail(images.folder, f"{len(bad)} files cannot be read as images: {shown}",
                   "Remove or replace them (the first says: "
                   f"{str(first_error).split(': ', 1)[1].split('. Remove')[0]})")
    return out
