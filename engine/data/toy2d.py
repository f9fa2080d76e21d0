"""Procedural 2-D point sets: two moons, concentric rings, a spiral, 8 Gaussians on a circle.

The classic toy data of generative modelling (GAN Lab, TensorFlow
Playground): each "image" is one point, shape ``(1, 1, 2)``, so every
family trains on it through the same :class:`~engine.data.Dataset` as on
pictures, and the window draws *data space* itself — real points, generated
points, a discriminator's or a density's map behind them.

Points are drawn in each set's natural coordinates (the circle of the
Gaussians has radius 1), noise is added there, and a fixed affine map —
the same for every seed — puts them in the unit square
:data:`DATA_EXTENT`, where grey values live. So a Bernoulli likelihood, a
sigmoid generator and the session's 8-bit images all apply unchanged, and
a run's data space is always the same square.

========== ======================================= ============ ===============
source     what                                    labels       default noise
========== ======================================= ============ ===============
moons      two interleaved half circles            the moon     0.08
rings      circles of radius 1 and 0.5             the ring     0.04
spiral     two interleaved arms, 1.5 turns each    the arm      0.03
gaussians  8 Gaussians on a circle of radius 1     the mode     0.05
========== ======================================= ============ ===============

The noise is the standard deviation of isotropic Gaussian noise in the
natural coordinates (``data.point_noise``; None picks the default above).
"""

from __future__ import annotations

import math

import numpy as np

from engine.data.arrays import ImageArrays

TOY_SETS = ("moons", "rings", "spiral", "gaussians")
#: The shape of one point as an "image": (C, H, W).
POINT_SHAPE = (1, 1, 2)
#: Data space, on both axes: every point set is mapped into this square.
DATA_EXTENT = (0.0, 1.0)
#: What a snapshot draws in data space for 2-D data: generated points, and a map
#: (a discriminator's D(x), a density's log p(x)) on a MAP_SIDE x MAP_SIDE grid.
GENERATED_POINTS = 1000
MAP_SIDE = 64
DEFAULT_NOISE = {"moons": 0.08, "rings": 0.04, "spiral": 0.03, "gaussians": 0.05}
#: (centre x, centre y, natural units per unit of data space): fits each set, with
#: room for 3 standard deviations of noise at most 0.1, inside the unit square.
_PLACEMENT = {"moons": (0.5, 0.25, 3.6), "rings": (0.0, 0.0, 2.7),
              "spiral": (0.0, 0.0, 2.5), "gaussians": (0.0, 0.0, 2.7)}
_LABEL_NAMES = {"moons": ("upper moon", "lower moon"), "rings": ("outer ring", "inner ring"),
                "spiral": ("arm 1", "arm 2"),
                "gaussians": tuple(f"mode {k + 1}" for k in range(8))}
_TITLES = {"moons": "two moons", "rings": "concentric rings", "spiral": "a two-armed spiral",
           "gaussians": "8 Gaussians on a circle"}
_TOY_STREAM = 0x70E2D  # keeps the point draws independent of the split and probe draws


def is_point_data(image_shape) -> bool:
    """Whether images of this (C, H, W) shape are 2-D points (data space can be drawn)."""
    return tuple(int(d) for d in image_shape) == POINT_SHAPE


def natural_points(name: str, n: int, noise: float, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Points of one set in its natural coordinates.

    Returns
    -------
    points : (n, 2) float64
    labels : (n,) int64, the component each point was drawn from
    """
    labels = rng.integers(0, len(_LABEL_NAMES[name]), size=n)
    if name == "moons":
        t = rng.uniform(0.0, math.pi, size=n)
        upper = np.stack([np.cos(t), np.sin(t)], 1)
        lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], 1)
        pts = np.where(labels[:, None] == 0, upper, lower)
    elif name == "rings":
        t = rng.uniform(0.0, 2 * math.pi, size=n)
        radius = np.where(labels == 0, 1.0, 0.5)
        pts = radius[:, None] * np.stack([np.cos(t), np.sin(t)], 1)
    elif name == "spiral":
        # sqrt makes the points roughly uniform along the arm (its length grows with r).
        s = np.sqrt(rng.uniform(0.02, 1.0, size=n))
        angle = 3.0 * math.pi * s + math.pi * labels
        pts = s[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
    elif name == "gaussians":
        angle = 2 * math.pi * labels / 8
        pts = np.stack([np.cos(angle), np.sin(angle)], 1)
    else:
        raise ValueError(f"unknown point set {name!r}")
    return pts + noise * rng.standard_normal((n, 2)), labels.astype(np.int64)


def to_data_space(name: str, points: np.ndarray) -> np.ndarray:
    """Natural coordinates (n, 2) -> the unit square (fixed per set, clipped to it)."""
    cx, cy, scale = _PLACEMENT[name]
    out = 0.5 + (np.asarray(points, np.float64) - (cx, cy)) / scale
    return np.clip(out, *DATA_EXTENT)


def make_points(name: str, n: int = 4000, noise: float | None = None,
                seed: int = 0) -> ImageArrays:
    """One toy point set as images.

    Parameters
    ----------
    name : one of :data:`TOY_SETS`.
    n : number of points.
    noise : std of the Gaussian noise in natural units; None: the set's default.
    seed : the same seed gives the same points.

    Returns
    -------
    ImageArrays
        images (n, 1, 1, 2) float32 in [0, 1] (x, y); labels (n,) int64, the
        component (moon, ring, arm, mode) with its ``label_names``.
    """
    noise = DEFAULT_NOISE[name] if noise is None else float(noise)
    rng = np.random.default_rng([seed, _TOY_STREAM, TOY_SETS.index(name)])
    pts, labels = natural_points(name, n, noise, rng)
    images = to_data_space(name, pts).astype(np.float32).reshape(n, *POINT_SHAPE)
    return ImageArrays(images=np.ascontiguousarray(images), labels=labels,
                       label_names=_LABEL_NAMES[name],
                       source=f"{_TITLES[name]} ({n:,} points, noise {noise:g})")


def grid_points(side: int) -> np.ndarray:
    """(side*side, 2) float32 centres of a side x side grid over data space, row 0 at the
    bottom (y = 0), x fastest: ``values.reshape(side, side)`` is then an image whose
    row index grows with y."""
    lo, hi = DATA_EXTENT
    step = (hi - lo) / side
    axis = lo + step * (np.arange(side) + 0.5)
    gx, gy = np.meshgrid(axis, axis)
    return np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)
