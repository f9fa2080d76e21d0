"""The common data sets by name (full MNIST, Fashion-MNIST, CIFAR-10), fetched once into a cache.

``data.source=mnist-full`` (or ``fashion-mnist``, ``cifar10``) reads the set's
training images from the cache folder (:func:`cache_dir`). A file missing
there is downloaded once, with a progress bar, from the set's own site (or a
mirror), and kept only when its SHA-256 matches the one below; every later
run checks it again before reading it. Offline, the message names each file,
where to download it and the folder to put it in.

Plain ``urllib`` does the fetching: torchvision's dataset classes would do the
same, but the torchvision wheel on PyPI is built for CUDA and does not import
beside the CPU build of torch (``operator torchvision::nms does not exist``:
its package ``__init__`` loads the compiled operators before any dataset
module); see docs/data.md. CIFAR-10 is read from its *binary* version (fixed
records of a label byte and 3,072 pixel bytes), not the Python version, which
is a pickle: a data file must never run code on load.

``AUTOENCODER_STUDIO_DATA`` names another cache folder;
``AUTOENCODER_STUDIO_MIRROR`` a base URL tried before the sets' own sites
(``<mirror>/<set name>/<file name>``: a lab's server, or ``file:///path``).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from engine.data.arrays import ImageArrays, as_images, as_labels, fail
from engine.data.memory import size_words
from engine.data.mnist import DIGIT_NAMES, read_idx
from engine.errors import DataError

DATA_ENV, MIRROR_ENV = "AUTOENCODER_STUDIO_DATA", "AUTOENCODER_STUDIO_MIRROR"
_TIMEOUT_S = 30


@dataclass(frozen=True)
class RemoteFile:
    """One file of a named set: its name in the cache, SHA-256, size in bytes, and URLs."""

    name: str
    sha256: str
    size: int
    urls: tuple[str, ...]


@dataclass(frozen=True)
class NamedSet:
    """A data set known by name: what it is, its files, and how to read them (paths in order)."""

    name: str
    title: str
    files: tuple[RemoteFile, ...]
    read: Callable[[list[Path], "int | None"], ImageArrays]


def _read_idx_pair(paths: list[Path], size: int | None, names: tuple[str, ...],
                   title: str) -> ImageArrays:
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    return ImageArrays(images=as_images(images, paths[0], size),
                       labels=as_labels(labels, len(images), paths[1]),
                       label_names=names, source=title)


CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                 "ship", "truck")
FASHION_NAMES = ("T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                 "sneaker", "bag", "ankle boot")
_CIFAR_RECORD = 1 + 3 * 32 * 32  # a label byte, then the red, green and blue planes


def read_cifar_binary(archive: Path, size: int | None = None) -> ImageArrays:
    """The 50,000 training images of ``cifar-10-binary.tar.gz`` (data_batch_1..5.bin).

    Returns
    -------
    ImageArrays
        images (50000, 3, 32, 32) float32 in [0, 1]; labels (50000,) int64.
    """
    batches: dict[str, np.ndarray] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                base = os.path.basename(member.name)
                if member.isfile() and base.startswith("data_batch_") and base.endswith(".bin"):
                    raw = tar.extractfile(member).read()
                    if len(raw) % _CIFAR_RECORD:
                        raise fail(archive, f"{base} is not a whole number of CIFAR records",
                                   "Delete the file and download it again")
                    batches[base] = np.frombuffer(raw, np.uint8).reshape(-1, _CIFAR_RECORD)
    except (OSError, EOFError, tarfile.TarError) as e:
        raise fail(archive, f"cannot read the archive ({e})",
                   "Delete the file and download it again") from None
    if not batches:
        raise fail(archive, "the archive holds no data_batch_*.bin files",
                   "Use cifar-10-binary.tar.gz (the binary version, not the Python one)")
    records = np.concatenate([batches[k] for k in sorted(batches)])
    pixels = records[:, 1:].reshape(-1, 3, 32, 32)
    return ImageArrays(images=as_images(pixels, archive, size),
                       labels=as_labels(records[:, 0], len(records), archive),
                       label_names=CIFAR10_NAMES, source="CIFAR-10 (50,000 training images)")


_MNIST_URLS = ("https://storage.googleapis.com/cvdf-datasets/mnist/",
               "https://ossci-datasets.s3.amazonaws.com/mnist/")
_FASHION_URLS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)


def _idx_files(urls: tuple[str, ...], images: tuple[str, int], labels: tuple[str, int]):
    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
    return tuple(RemoteFile(n, h, size, tuple(u + n for u in urls))
                 for n, (h, size) in zip(names, (images, labels)))


NAMED_SETS: dict[str, NamedSet] = {s.name: s for s in (
    NamedSet("mnist-full", "MNIST (60,000 training digits)", _idx_files(
        _MNIST_URLS,
        ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9_912_422),
        ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881)),
        lambda p, size: _read_idx_pair(p, size, DIGIT_NAMES, "MNIST (60,000 training digits)")),
    NamedSet("fashion-mnist", "Fashion-MNIST (60,000 training images)", _idx_files(
        _FASHION_URLS,
        ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26_421_880),
        ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29_515)),
        lambda p, size: _read_idx_pair(p, size, FASHION_NAMES,
                                       "Fashion-MNIST (60,000 training images)")),
    NamedSet("cifar10", "CIFAR-10 (50,000 training images)", (RemoteFile(
        "cifar-10-binary.tar.gz",
        "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", 170_052_171,
        ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)),),
        lambda p, size: read_cifar_binary(p[0], size)),
)}


def cache_dir() -> Path:
    """Where named sets are kept: ``$AUTOENCODER_STUDIO_DATA``, else the user's cache folder."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "autoencoder-studio" / "datasets"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_named(name: str, size: int | None = None, *, sets: dict[str, NamedSet] | None = None,
               folder: Path | None = None, progress: bool = True) -> ImageArrays:
    """A named set's training images, fetched into the cache first when missing.

    Parameters
    ----------
    name : a key of :data:`NAMED_SETS` (or of ``sets``).
    size : ``data.image_size``, or None.
    folder : the set's cache folder; default ``cache_dir() / name``.

    Raises
    ------
    DataError
        offline or on a failed download: the files, their URLs and the folder to
        put them in; a file whose checksum does not match: which, and what to do.
    """
    named = (sets or NAMED_SETS)[name]
    folder = Path(folder) if folder is not None else cache_dir() / name
    paths = [_ensure(f, folder, named, progress) for f in named.files]
    return named.read(paths, size)


def _ensure(f: RemoteFile, folder: Path, named: NamedSet, progress: bool) -> Path:
    """The file in the cache, checked; downloaded first when missing."""
    path = folder / f.name
    if not path.is_file():
        _download(f, folder, named, progress)
    got = sha256_of(path)
    if got != f.sha256:
        raise fail(path, f"its SHA-256 is {got}, not the {f.sha256} of {named.title}'s "
                   f"{f.name}: the file is damaged or another file",
                   "Delete it; the next run downloads it again")
    return path


def _urls(f: RemoteFile, named: NamedSet) -> list[str]:
    mirror = os.environ.get(MIRROR_ENV, "").rstrip("/")
    return ([f"{mirror}/{named.name}/{f.name}"] if mirror else []) + list(f.urls)


def _download(f: RemoteFile, folder: Path, named: NamedSet, progress: bool) -> None:
    """Fetch ``f`` into ``folder`` through a partial file, checked before it is kept."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise fail(folder, f"the cache folder cannot be made ({e})",
                   f"Set {DATA_ENV} to a folder you can write") from None
    part = folder / (f.name + ".part")
    errors = []
    for url in _urls(f, named):
        try:
            _fetch(url, part, f, progress)
        except (OSError, ValueError) as e:  # URLError, timeouts and refusals are OSErrors
            errors.append(f"{url}: {getattr(e, 'reason', e)}")
            part.unlink(missing_ok=True)
            continue
        got = sha256_of(part)
        if got == f.sha256:
            os.replace(part, folder / f.name)
            return
        part.unlink(missing_ok=True)
        errors.append(f"{url}: the download's SHA-256 is {got}, expected {f.sha256}")
    raise DataError(offline_message(named, folder, errors))


def _fetch(url: str, part: Path, f: RemoteFile, progress: bool) -> None:
    from tqdm import tqdm

    with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response, open(part, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or f.size
        with tqdm(total=total, unit="B", unit_scale=True, desc=f.name, disable=not progress,
                  file=sys.stderr, leave=False) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                bar.update(len(block))


def offline_message(named: NamedSet, folder: Path, errors: list[str] = ()) -> str:
    """What to download, from where, and where to put it — when the app could not."""
    lines = [f"{named.name}: {named.title} is not in the cache folder {folder} and could not "
             "be downloaded" + (f" ({errors[0]})" if errors else "") + ". Download "
             + ("these files" if len(named.files) > 1 else "this file")
             + f" and put {'them' if len(named.files) > 1 else 'it'} in {folder}:"]
    for f in named.files:
        lines.append(f"  {f.name} ({size_words(f.size)}, SHA-256 {f.sha256}) from "
                     + " or ".join(f.urls))
    lines.append(f"(or set {DATA_ENV} to a folder that holds a {named.name}/ folder of them)")
    return "\n".join(lines)
