"""Your own distribution: 2-D points drawn by hand on the data-space plane (GAN Lab's tool).

``data.source = "drawn"`` trains on the points in ``data.points``, a short
text that is part of the run's config — so the drawing is saved with the
session (its config), a session reopens with it, and ``resume`` rebuilds the
same data set from it, as for every other source. Each point is ``x,y`` in
the unit square :data:`~engine.data.toy2d.DATA_EXTENT` with three decimals
(a thousandth of the plane, finer than a pixel of the drawing); points are
separated by spaces and strokes (one press, drag and release) by ``;``::

    "0.412,0.530 0.418,0.544 0.430,0.551;0.700,0.200 0.702,0.215"

A point is an "image" of shape ``(1, 1, 2)`` like the procedural sets of
:mod:`engine.data.toy2d`, labelled by its stroke (``stroke 1``, ``stroke 2``,
…), so the latent map colours each stroke. :data:`MAX_POINTS` keeps the
config small (a session stores it as one attribute, under 64 KB).

:func:`spray` is the brush: the window drops points uniformly in a disc
around the cursor as it drags.
"""

from __future__ import annotations

import numpy as np

from engine.data.arrays import ImageArrays
from engine.data.toy2d import DATA_EXTENT, POINT_SHAPE

DRAWN = "drawn"
MIN_POINTS = 16
MAX_POINTS = 3000
DECIMALS = 3


def encode_points(points: np.ndarray, strokes: np.ndarray | None = None) -> str:
    """Points (N, 2) in the unit square, and the stroke (N,) of each, as ``data.points`` text.

    Points are rounded to :data:`DECIMALS` and clipped to the square; a new stroke
    starts wherever ``strokes`` changes (None: one stroke).
    """
    pts = np.clip(np.asarray(points, np.float64).reshape(-1, 2), *DATA_EXTENT)
    strokes = (np.zeros(len(pts), np.int64) if strokes is None
               else np.asarray(strokes).reshape(-1))
    if len(strokes) != len(pts):
        raise ValueError(f"{len(pts)} points but {len(strokes)} stroke numbers")
    groups, current, last = [], [], None
    for (x, y), s in zip(pts, strokes):
        if last is not None and s != last and current:
            groups.append(" ".join(current))
            current = []
        current.append(f"{x:.{DECIMALS}f},{y:.{DECIMALS}f}")
        last = s
    if current:
        groups.append(" ".join(current))
    return ";".join(groups)


def decode_points(text: str) -> tuple[np.ndarray, np.ndarray]:
    """``data.points`` text -> (points (N, 2) float64, strokes (N,) int64 from 0).

    Raises
    ------
    ValueError
        naming the first entry that is not ``x,y`` with numbers.
    """
    if not isinstance(text, str):
        raise ValueError(f"must be text of x,y points (got {type(text).__name__})")
    points, strokes = [], []
    for s, group in enumerate(g for g in text.split(";") if g.strip()):
        for item in group.split():
            parts = item.split(",")
            try:
                if len(parts) != 2:
                    raise ValueError
                points.append((float(parts[0]), float(parts[1])))
            except ValueError:
                raise ValueError(f"has '{item[:20]}', which is not a point x,y (points are "
                                 "x,y pairs separated by spaces, strokes by ';')") from None
            strokes.append(s)
    return (np.asarray(points, np.float64).reshape(-1, 2),
            np.asarray(strokes, np.int64))


def points_problem(text: str) -> str:
    """Why ``text`` is not a usable drawing ("" when it is)."""
    try:
        pts, _ = decode_points(text)
    except ValueError as e:
        return str(e)
    if len(pts) < MIN_POINTS:
        return (f"needs at least {MIN_POINTS} points to train on (there are {len(pts)}): "
                "click and drag on the plane to draw more")
    if len(pts) > MAX_POINTS:
        return (f"holds at most {MAX_POINTS:,} points (there are {len(pts):,}): undo or "
                "clear some strokes")
    lo, hi = DATA_EXTENT
    if not np.isfinite(pts).all() or pts.min() < lo or pts.max() > hi:
        return f"must have every point in the unit square [{lo:g}, {hi:g}]²"
    return ""


def make_drawn(text: str) -> ImageArrays:
    """The drawn points as a data set.

    Returns
    -------
    ImageArrays
        images (N, 1, 1, 2) float32 (x, y) in [0, 1]; labels (N,) int64, the stroke.

    Raises
    ------
    DataError
        When the text is no usable drawing (:func:`points_problem`).
    """
    from engine.data.arrays import fail
    problem = points_problem(text)
    if problem:
        raise fail("data.points", problem, "Draw the points again (Run settings › Data)")
    pts, strokes = decode_points(text)
    n_strokes = int(strokes.max()) + 1
    images = pts.astype(np.float32).reshape(len(pts), *POINT_SHAPE)
    return ImageArrays(images=np.ascontiguousarray(images), labels=strokes,
                       label_names=tuple(f"stroke {k + 1}" for k in range(n_strokes)),
                       source=f"drawn by hand ({len(pts):,} points, {n_strokes} "
                              f"stroke{'s' if n_strokes != 1 else ''})")


def spray(centre, radius: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 2) points uniform in the disc of ``radius`` around ``centre``, kept in the square."""
    r = radius * np.sqrt(rng.uniform(0.0, 1.0, n))    # uniform over the disc's area
    t = rng.uniform(0.0, 2 * np.pi, n)
    pts = np.asarray(centre, np.float64)[None, :] + np.stack([r * np.cos(t), r * np.sin(t)], 1)
    return np.clip(pts, *DATA_EXTENT)
