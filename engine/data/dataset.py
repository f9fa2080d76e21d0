"""The :class:`Dataset` every run trains on, and :func:`load_dataset` that builds it.

A data set is images plus a train/validation split and a *probe set*: the
same few images, shown every epoch, so reconstructions and latent maps of
different epochs (and runs) can be compared. All three index sets are a
function of the run's seed alone, so a session can rebuild them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.config import DataConfig
from engine.data.arrays import ImageArrays, fail
from engine.data.drawn import DRAWN, make_drawn
from engine.data.memory import check_index_fits
from engine.data.toy2d import TOY_SETS, make_points

# Each random choice draws from its own stream, seeded by (seed, stream), so
# that e.g. changing n_probe leaves the split unchanged.
_LIMIT_STREAM, _SPLIT_STREAM, _PROBE_STREAM = 0x11D17, 0x5B117, 0x9B0BE


@dataclass(eq=False, repr=False)
class Dataset:
    """Images ready for training, with their split and probe set.

    Attributes
    ----------
    images : (N, C, H, W) float32 in [0, 1], C-contiguous; or, for a file
        streamed batch by batch, :class:`~engine.data.streamed.FileImages`,
        which reads the rows it is indexed with (``images[idx]``)
    labels : (N,) int64, or None
    factors : (N, F) float32 ground-truth generative factors, or None
    factor_names : F names, ``()`` when there are no factors
    label_names : class names indexed by label, or None
    source : human description, e.g. the file path
    train_idx : (n_train,) int64, sorted indices into ``images``
    val_idx : (n_val,) int64, sorted, disjoint from ``train_idx``; together
        they cover every image
    probe_idx : (n_probe,) int64, fixed images shown every epoch; from
        ``val_idx`` when it has enough, else ``train_idx``; with labels,
        ordered round-robin over the classes (0, 1, 2, ..., 0, 1, 2, ...)
    """

    images: np.ndarray
    labels: np.ndarray | None
    factors: np.ndarray | None
    factor_names: tuple[str, ...]
    label_names: tuple[str, ...] | None
    source: str
    train_idx: np.ndarray
    val_idx: np.ndarray
    probe_idx: np.ndarray

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(int(d) for d in self.images.shape[1:])  # type: ignore[return-value]

    @property
    def n_train(self) -> int:
        return int(len(self.train_idx))

    @property
    def n_val(self) -> int:
        return int(len(self.val_idx))

    @property
    def n_classes(self) -> int | None:
        """Number of classes: len(label_names), else max label + 1, else None."""
        if self.label_names is not None:
            return len(self.label_names)
        if self.labels is None or len(self.labels) == 0:
            return None
        return int(self.labels.max()) + 1

    def __repr__(self) -> str:
        c, h, w = self.image_shape
        return (f"Dataset({self.source!r}, {len(self.images)} images {c}x{h}x{w}, "
                f"train={self.n_train}, val={self.n_val}, probe={len(self.probe_idx)}, "
                f"classes={self.n_classes}, factors={self.factor_names or None})")


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random train/validation split of ``range(n)``.

    Parameters
    ----------
    n : number of images, >= 2.
    val_fraction : share of images for validation, in [0, 0.9]. A positive
        fraction keeps at least one image on each side.

    Returns
    -------
    train_idx : (n - n_val,) int64, sorted
    val_idx : (n_val,) int64, sorted
    """
    n_val = int(round(n * val_fraction))
    if val_fraction > 0:
        n_val = min(max(n_val, 1), n - 1)
    perm = np.random.default_rng([seed, _SPLIT_STREAM]).permutation(n)
    # Sorted, so that gathering a split reads memory (or an HDF5 file) in order.
    return np.sort(perm[n_val:]).astype(np.int64), np.sort(perm[:n_val]).astype(np.int64)


def choose_probe(train_idx: np.ndarray, val_idx: np.ndarray, labels: np.ndarray | None,
                 n_probe: int, seed: int) -> np.ndarray:
    """Pick the fixed probe images.

    Parameters
    ----------
    train_idx, val_idx : the split, (n_train,) and (n_val,) int64.
    labels : (N,) int64, or None.
    n_probe : how many to pick; capped at the number of images.

    Returns
    -------
    probe_idx : (min(n_probe, N),) int64. Drawn from the validation images
        (unseen in training, so reconstructions are honest) when there are
        enough, else from the training images, else from both. With labels,
        ordered round-robin by class so that any prefix spans the classes.
    """
    for pool in (val_idx, train_idx, np.concatenate([train_idx, val_idx])):
        if len(pool) >= n_probe:
            break
    n_probe = min(n_probe, len(pool))
    rng = np.random.default_rng([seed, _PROBE_STREAM])
    pool = rng.permutation(pool)
    if labels is None:
        return pool[:n_probe].astype(np.int64)
    lab = labels[pool]
    by_class = np.argsort(lab, kind="stable")  # random order within each class
    lab_sorted = lab[by_class]
    starts = np.searchsorted(lab_sorted, lab_sorted, side="left")
    rank = np.arange(len(pool)) - starts  # position of each image within its class
    order = np.lexsort((lab_sorted, rank))  # by rank, then class: 0,1,..,9,0,1,..
    return pool[by_class[order][:n_probe]].astype(np.int64)


def build_dataset(data: ImageArrays, cfg: DataConfig, seed: int) -> Dataset:
    """Apply ``cfg.limit``, split and pick probes for already loaded images.

    Parameters
    ----------
    data : images (N, C, H, W) float32 and their annotations.
    cfg : uses ``limit``, ``val_fraction`` and ``n_probe``.
    seed : the run's seed; the same seed gives the same indices.
    """
    n = len(data.images)
    if not isinstance(data.images, np.ndarray):  # streamed: the indices must still fit
        check_index_fits(data.source, data.images.shape, np.float32,
                         None if cfg.limit is None else min(cfg.limit, n))
    keep = limit_indices(n, cfg.limit, seed)
    if keep is not None:
        data = data.take(keep)
        n = len(keep)
    if n < 2:
        raise fail(data.source, f"only {n} image(s); at least 2 are needed to split "
                   "into training and validation", "Choose a file with more images")
    train_idx, val_idx = split_indices(n, cfg.val_fraction, seed)
    probe_idx = choose_probe(train_idx, val_idx, data.labels, cfg.n_probe, seed)
    return Dataset(images=data.images, labels=data.labels, factors=data.factors,
                   factor_names=tuple(data.factor_names), label_names=data.label_names,
                   source=data.source, train_idx=train_idx, val_idx=val_idx,
                   probe_idx=probe_idx)


def limit_indices(n: int, limit: int | None, seed: int) -> np.ndarray | None:
    """The images ``data.limit`` keeps of ``n``: (limit,) int64 sorted, or None for all.

    A function of (n, limit, seed) alone, so a file reader can read only these
    rows of a file too large to load whole, and the result is the same subset.
    """
    if limit is None or limit >= n:
        return None
    rng = np.random.default_rng([seed, _LIMIT_STREAM])
    # Sorted, so a limited set keeps the file's order (and reads it in order).
    return np.sort(rng.choice(n, size=limit, replace=False)).astype(np.int64)


def load_source(cfg: DataConfig, seed: int) -> ImageArrays:
    """Load the images of ``cfg.source`` (no split or probe yet).

    Every image, except from a file too large to read whole: of that, only the
    rows ``data.limit`` keeps (:func:`limit_indices`). ``data.image_size``
    resizes the images of every image source (:mod:`engine.data.resize`).
    """
    size = cfg.image_size
    if cfg.source == "mnist":
        from engine.data.mnist import load_mnist
        return load_mnist(size)
    if cfg.source == "sprites":
        from engine.data.resize import fit_float
        from engine.data.sprites import make_sprites
        data = make_sprites(cfg.n_sprites, cfg.sprite_size, seed, cfg.sprite_colour,
                            cfg.sprite_factors)
        if size is not None and size != cfg.sprite_size:
            data.images = fit_float(data.images, size)
        return data
    if cfg.source in TOY_SETS:
        return make_points(cfg.source, cfg.n_points, cfg.point_noise, seed)
    if cfg.source == DRAWN:
        return make_drawn(cfg.points)
    if cfg.source == "file":
        if not cfg.path:
            raise fail("data.path", "no file chosen", "Choose a file or folder of images")
        from engine.data.files import load_file
        return load_file(cfg.path, cfg.key, cfg.labels_key,
                         rows=lambda n: limit_indices(n, cfg.limit, seed), stream=cfg.stream,
                         size=size)
    from engine.data.named import NAMED_SETS, load_named
    if cfg.source in NAMED_SETS:
        return load_named(cfg.source, size)
    raise fail("data.source", f"unknown data source {cfg.source!r}",
               "Use mnist, sprites, " + ", ".join(TOY_SETS) + f", {DRAWN}, file or "
               + ", ".join(NAMED_SETS))


def load_dataset(cfg: DataConfig, seed: int) -> Dataset:
    """Load the data a config asks for, with its split and probe set.

    Parameters
    ----------
    cfg : which source (``mnist``, ``sprites``, ``file``) and how to split it.
    seed : the run's seed; sprites, limit subset, split and probe all follow
        from it.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        when the source cannot be loaded or has fewer than 2 images.
    """
    return build_dataset(load_source(cfg, seed), cfg, seed)
