"""Load a folder of images, one subfolder per class or all in one folder.

::

    digits/                     digits/
      cat/  a.png b.png           a.png
      dog/  c.png d.jpg           b.png

The left layout gives labels (subfolder names, sorted: ``cat`` = 0,
``dog`` = 1); the right gives none. Images are never resized — a model has
one input size — so every image must have the same width and height, and a
DataError names two files that differ. Greyscale images give one channel;
if any image is in colour, all become RGB.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engine.data.arrays import ImageArrays, fail
from engine.data.memory import check_fits, fits_whole

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
# Pillow modes that hold one intensity per pixel; everything else is colour.
_GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def _is_image(entry: os.DirEntry) -> bool:
    # Hidden files include macOS' "._name.png" resource forks, which are not images.
    return (entry.is_file() and not entry.name.startswith(".")
            and entry.name.lower().endswith(IMAGE_SUFFIXES))


def _images_below(folder: Path) -> list[Path]:
    """Every image under ``folder`` (recursively), in sorted order."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root) / f for f in sorted(files)
                  if not f.startswith(".") and f.lower().endswith(IMAGE_SUFFIXES)]
    return found


def list_image_folder(folder: Path) -> tuple[list[Path], np.ndarray | None, tuple[str, ...] | None]:
    """Find the images of a folder and their classes.

    Returns
    -------
    files : the N image paths, class by class, each class in sorted order.
    labels : (N,) int64 class indices, or None when there are no subfolders.
    label_names : the class (subfolder) names, sorted, or None.
    """
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    loose = [Path(e.path) for e in entries if _is_image(e)]
    subdirs = [Path(e.path) for e in entries if e.is_dir() and not e.name.startswith(".")]
    classes = [(d.name, _images_below(d)) for d in subdirs]
    classes = [(name, files) for name, files in classes if files]
    if classes and loose:
        raise fail(folder, f"the folder mixes loose images ({loose[0].name}, ...) with "
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


def read_image(path: Path) -> np.ndarray:
    """Decode one image file.

    Returns
    -------
    pixels : (H, W) for greyscale or (H, W, 3) for colour; uint8 for 8-bit
        images, float32 in [0, 1] for 16-bit and floating-point ones.
    """
    from PIL import Image  # imported here so that loading MNIST never pays for Pillow

    try:
        with Image.open(path) as im:
            im.load()  # decode now, inside the try: Pillow decodes lazily
            mode = im.mode
            if mode in ("1", "LA", "La"):
                return np.asarray(im.convert("L"))
            if mode == "L":
                return np.asarray(im)
            if mode in _GREY_MODES:
                # 16/32-bit integer or float greyscale. Pillow's convert("L")
                # would clip at 255 rather than scale, so scale here.
                a = np.asarray(im, dtype=np.float32)
                if mode != "F":
                    a = a / 65535.0
                return np.clip(a, 0.0, 1.0)
            return np.asarray(im.convert("RGB"))  # drops alpha, expands palettes
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
        # UnidentifiedImageError and "image file is truncated" are OSErrors;
        # some plugins report a broken header as SyntaxError.
        raise fail(path, f"cannot read the image ({type(e).__name__}: {e})",
                   "Remove or replace the file") from None


def load_image_folder(folder: str | Path, rows=None) -> ImageArrays:
    """Load every image of a folder.

    Parameters
    ----------
    folder : see the module docstring for the two layouts.
    rows : ``n -> sorted indices or None``, the images ``data.limit`` keeps: only
        those files are decoded when all of them would not fit in memory.

    Returns
    -------
    ImageArrays
        images (N, C, H, W) float32 in [0, 1], C = 3 if any image is in
        colour else 1; labels (N,) int64 and label_names when the images
        are in class subfolders; source = the folder path.
    """
    folder = Path(folder)
    files, labels, label_names = list_image_folder(folder)
    # From the first image, what decoding them all would take (RGB as the worst case).
    h, w = read_image(files[0]).shape[:2]
    claimed = (len(files), h, w, 3)
    if rows is not None and not fits_whole(claimed, np.uint8):
        keep = rows(len(files))
        if keep is not None:
            files = [files[i] for i in keep]
            labels = None if labels is None else labels[keep]
    check_fits(folder, claimed, np.uint8, len(files))
    pixels: list[np.ndarray] = []
    for path in files:
        a = read_image(path)
        if pixels and a.shape[:2] != pixels[0].shape[:2]:
            (h0, w0), (h1, w1) = pixels[0].shape[:2], a.shape[:2]
            first, this = files[0].relative_to(folder), path.relative_to(folder)
            raise fail(folder, f"images differ in size: {first} is {w0}x{h0} "
                       f"but {this} is {w1}x{h1}",
                       "Resize all images to one size before loading")
        pixels.append(a)
    colour = any(a.ndim == 3 for a in pixels)
    h, w = pixels[0].shape[:2]
    images = np.empty((len(pixels), 3 if colour else 1, h, w), dtype=np.float32)
    for i, a in enumerate(pixels):
        if a.dtype == np.uint8:
            a = a.astype(np.float32) / 255.0
        # (H, W) broadcasts over all channels: greyscale in a colour set is grey RGB.
        images[i] = a.transpose(2, 0, 1) if a.ndim == 3 else a
    return ImageArrays(images=images, labels=labels, label_names=label_names,
                       source=str(folder))
