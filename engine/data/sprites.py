"""Procedural dSprites-like images with known generative factors.

Each image is one white shape on black, drawn from five factors:

========  ==========================  =====================================
factor    range                       meaning
========  ==========================  =====================================
shape     {0, 1, 2}                   square, ellipse, heart
scale     [0.5, 1.0]                  size relative to the largest sprite
rotation  [0, 2π) radians             counter-clockwise turn
x         [0, 1]                      0 = leftmost position, 1 = rightmost
y         [0, 1]                      0 = top position, 1 = bottom (rows)
========  ==========================  =====================================

Because the factors are known, a latent map can be coloured by them and a
model's disentanglement judged, as with dSprites (Matthey et al., 2017).

Shapes are rasterised without any drawing library: every pixel evaluates
the shape's signed distance function (SDF), and the pixel's intensity is
``clip(0.5 - distance_in_pixels, 0, 1)`` — the fraction of a pixel that a
straight edge at that distance covers. This anti-aliases edges for the cost
of one clip, where supersampling would multiply the work 16-fold, and it is
a handful of vectorised numpy operations over ``(N, S, S)``.
"""

from __future__ import annotations

import math

import numpy as np

from engine.data.arrays import ImageArrays

SHAPE_NAMES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "rotation", "x", "y")
#: The factors of colour sprites: the five above and the shape's hue.
COLOUR_FACTOR_NAMES = FACTOR_NAMES + ("hue",)
#: Closed ranges of the continuous factors (rotation's upper end is open).
FACTOR_RANGES = {
    "shape": (0.0, 2.0),
    "scale": (0.5, 1.0),
    "rotation": (0.0, 2.0 * math.pi),
    "x": (0.0, 1.0),
    "y": (0.0, 1.0),
}

# Shapes are defined in "shape units": a square of scale 1 spans [-1, 1]².
# One shape unit is UNIT * image size pixels, so a 32-px image holds a
# largest square of side ~10 px and a smallest of ~5 px.
UNIT = 0.16
# The farthest any shape reaches from its centre, in shape units (the
# square's corner, √2; the heart's lobes reach 1.426). Positions keep the
# largest sprite inside the frame at any rotation.
REACH = 1.43
ELLIPSE_AXES = (1.4, 0.7)  # semi-axes, 2:1 like dSprites' ellipse
# Heart = a diamond (square of side HEART_SIDE turned 45°) with two discs of
# diameter HEART_SIDE on its upper edges; shifted down so the bounding box
# is centred. Its area (≈ 4.0) matches the square's.
HEART_SIDE = 1.5
_CHUNK = 2048  # sprites per pass: keeps the (chunk, S, S) temporaries in cache-friendly sizes

_SPRITES_STREAM = 0x5B17E5  # keeps the factor draws independent of split/probe draws
_SHAPE_STREAM = 0x5A9E  # a narrowed shape range's classes
_HUE_STREAM = 0x4E3  # its own stream: colour sprites have the grey ones' shapes and places


def parse_factor_ranges(spec: str) -> dict[str, tuple[float, float]]:
    """The ranges a ``data.sprite_factors`` text sets, e.g. ``"shape=0, y=0.3:0.7"``.

    Each comma-separated item is ``name=value`` (the factor fixed) or ``name=lo:hi`` (drawn
    uniformly from that range), inside :data:`FACTOR_RANGES`; shape takes classes, 0 to 2.
    The factors not named keep their full range. "" names none.

    Returns
    -------
    {factor name: (lo, hi)}, lo == hi for a fixed factor.

    Raises
    ------
    ValueError
        Naming the item that is wrong and what it must be.
    """
    out: dict[str, tuple[float, float]] = {}
    for item in (p.strip() for p in spec.split(",")):
        if not item:
            continue
        name, eq, value = (t.strip() for t in item.partition("="))
        if not eq or name not in FACTOR_RANGES:
            raise ValueError(f"'{item}' must be name=value or name=low:high with name one "
                             f"of {', '.join(FACTOR_NAMES)}")
        try:
            lo, hi = (float(t) for t in (value.split(":") if ":" in value else (value,) * 2))
        except ValueError:
            raise ValueError(f"'{item}': {value!r} is no number or low:high range") from None
        a, b = FACTOR_RANGES[name]
        if not (a <= lo <= hi <= b) or (name == "shape" and not (lo.is_integer()
                                                                 and hi.is_integer())):
            what = "whole numbers" if name == "shape" else "numbers"
            raise ValueError(f"'{item}': {name} takes {what} from {a:g} to {b:g}, "
                             "the low end first")
        if name in out:
            raise ValueError(f"'{item}': {name} is named twice")
        out[name] = (lo, hi)
    return out


def sample_factors(n: int, seed: int, spec: str = "") -> np.ndarray:
    """Draw sprite factors uniformly over :data:`FACTOR_RANGES` (or the ranges ``spec`` sets).

    Parameters
    ----------
    n : number of sprites.
    seed : the same seed always gives the same factors.
    spec : :func:`parse_factor_ranges` text: fixed factors and narrower ranges. The draws
        are those of the full ranges mapped onto the narrower ones, so a run with one
        factor narrowed has the same shapes, sizes and turns as the full set.

    Returns
    -------
    factors : (n, 5) float32, columns :data:`FACTOR_NAMES`; shape holds
        the integers 0, 1, 2.
    """
    rng = np.random.default_rng([seed, _SPRITES_STREAM])
    f = np.empty((n, 5), dtype=np.float64)
    f[:, 0] = rng.integers(0, len(SHAPE_NAMES), size=n)
    f[:, 1] = rng.uniform(*FACTOR_RANGES["scale"], size=n)
    f[:, 2] = rng.uniform(*FACTOR_RANGES["rotation"], size=n)
    f[:, 3] = rng.uniform(0.0, 1.0, size=n)
    f[:, 4] = rng.uniform(0.0, 1.0, size=n)
    for name, (lo, hi) in parse_factor_ranges(spec).items():
        k = FACTOR_NAMES.index(name)
        a, b = FACTOR_RANGES[name]
        if name == "shape":       # classes lo..hi, each as likely, from a stream of their own
            f[:, k] = np.random.default_rng([seed, _SHAPE_STREAM]).integers(lo, hi + 1, n)
        else:                     # the same draw, moved linearly into [lo, hi]
            f[:, k] = lo + (f[:, k] - a) * (hi - lo) / (b - a)
    return f.astype(np.float32)


def _box_sdf(u: np.ndarray, v: np.ndarray, half: float) -> np.ndarray:
    """Exact signed distance to an axis-aligned square of half-side ``half``."""
    qx = np.abs(u) - half
    qy = np.abs(v) - half
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    return outside + np.minimum(np.maximum(qx, qy), 0)


def _ellipse_sdf(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Signed distance to the ellipse, to first order: (k - 1) / |∇k|.

    ``k = sqrt((u/a)² + (v/b)²)`` is 1 on the outline; dividing by its
    gradient turns it into a distance, exact on the outline, which is all
    the anti-aliasing needs. |∇k| lies in [1/a, 1/b]; clipping it there
    avoids 0/0 at the centre.
    """
    a, b = ELLIPSE_AXES
    k = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    grad = np.sqrt((u / (a * a)) ** 2 + (v / (b * b)) ** 2) / np.maximum(k, 1e-6)
    return (k - 1.0) / np.clip(grad, 1.0 / a, 1.0 / b)


def _heart_sdf(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Signed distance to the heart: the union (min) of a diamond and two discs."""
    s = HEART_SIDE
    r = s / 2.0
    lobe = s / (2.0 * math.sqrt(2.0))  # disc centres: midpoints of the upper edges
    # Centre the bounding box: top at lobe + r, bottom tip at -s/√2.
    v = v - (-(lobe + r - s / math.sqrt(2.0)) / 2.0)
    c = math.sqrt(0.5)
    diamond = _box_sdf((u + v) * c, (v - u) * c, r)
    au = np.abs(u)  # the heart is mirror-symmetric: one disc serves both lobes
    disc = np.hypot(au - lobe, v - lobe) - r
    return np.minimum(diamond, disc)


_SDFS = (lambda u, v: _box_sdf(u, v, 1.0), _ellipse_sdf, _heart_sdf)


def render_sprites(factors: np.ndarray, size: int = 32) -> np.ndarray:
    """Draw sprites from their factors.

    Parameters
    ----------
    factors : (N, 5) columns shape, scale, rotation, x, y (see module doc).
    size : image side S in pixels.

    Returns
    -------
    images : (N, 1, S, S) float32 in [0, 1], white shape on black.
    """
    factors = np.asarray(factors, dtype=np.float32)
    n = len(factors)
    out = np.zeros((n, 1, size, size), dtype=np.float32)
    unit = UNIT * size  # pixels per shape unit at scale 1
    margin = REACH * unit * FACTOR_RANGES["scale"][1] + 0.5
    travel = size - 2.0 * margin
    # Only a window around each sprite can be lit: evaluating the SDF there
    # rather than on the whole image does 3-4x less work.
    win = min(size, int(math.ceil(2.0 * margin)) + 1)
    steps = np.arange(win)
    shapes = np.rint(factors[:, 0]).astype(np.int64)
    for shape_id, sdf in enumerate(_SDFS):
        for start in range(0, n, _CHUNK):
            sel = np.nonzero(shapes[start:start + _CHUNK] == shape_id)[0] + start
            if len(sel) == 0:
                continue
            f = factors[sel]
            px_per_unit = (unit * f[:, 1])[:, None, None]  # (k, 1, 1)
            cx = margin + f[:, 3] * travel
            cy = margin + f[:, 4] * travel
            # Top-left pixel of each window, kept inside the image.
            ox = np.clip(np.floor(cx - win / 2.0).astype(np.int64), 0, size - win)
            oy = np.clip(np.floor(cy - win / 2.0).astype(np.int64), 0, size - win)
            cols = ox[:, None] + steps  # (k, win) image columns
            rows = oy[:, None] + steps  # (k, win) image rows
            # Offsets of pixel centres from the sprite centre in shape units,
            # y pointing up so that a positive rotation turns the sprite
            # counter-clockwise on screen.
            dx = ((cols + 0.5 - cx[:, None])[:, None, :] / px_per_unit).astype(np.float32)
            dy = ((cy[:, None] - rows - 0.5)[:, :, None] / px_per_unit).astype(np.float32)
            cos = np.cos(f[:, 2])[:, None, None]
            sin = np.sin(f[:, 2])[:, None, None]
            u = cos * dx + sin * dy  # rotate the grid by -rotation = the shape by +rotation
            v = cos * dy - sin * dx
            dist_px = sdf(u, v) * px_per_unit  # (k, win, win)
            np.clip(0.5 - dist_px, 0.0, 1.0, out=dist_px)
            out[sel[:, None, None], 0, rows[:, :, None], cols[:, None, :]] = dist_px
    return out


def hue_rgb(hue: np.ndarray) -> np.ndarray:
    """(n,) hues in [0, 1) -> (n, 3) float32 RGB of full saturation and value (HSV)."""
    k = (np.asarray(hue, np.float64)[:, None] * 6.0 + np.array([5.0, 3.0, 1.0])) % 6.0
    return (1.0 - np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)).astype(np.float32)


def make_sprites(n: int = 8000, size: int = 32, seed: int = 0,
                 colour: bool = False, factors: str = "") -> ImageArrays:
    """Generate a sprite data set.

    Parameters
    ----------
    n : number of sprites.
    size : image side S, 32 or 64.
    seed : the same seed gives the same images and factors.
    colour : each shape in a colour of its own (a sixth factor, ``hue``, drawn
        uniformly from the colour wheel) on black; the other factors, and so the
        shapes and their places, are those of the grey set of the same seed.
    factors : fixed factors and narrower ranges (:func:`parse_factor_ranges`); the
        factor columns keep all five, a fixed one constant.

    Returns
    -------
    ImageArrays
        images (n, 1, S, S) float32 in [0, 1] ((n, 3, S, S) in colour);
        factors (n, 5) float32 named :data:`FACTOR_NAMES` ((n, 6),
        :data:`COLOUR_FACTOR_NAMES`, in colour); labels (n,) int64 = shape
        index, label_names :data:`SHAPE_NAMES`.
    """
    factors_spec = factors
    factors = sample_factors(n, seed, factors_spec)
    images = render_sprites(factors, size)
    names = FACTOR_NAMES
    if colour:
        hue = np.random.default_rng([seed, _HUE_STREAM]).uniform(0.0, 1.0, n)
        images = images * hue_rgb(hue)[:, :, None, None]  # (n, 1, S, S) * (n, 3, 1, 1)
        factors = np.concatenate([factors, hue[:, None].astype(np.float32)], axis=1)
        names = COLOUR_FACTOR_NAMES
    return ImageArrays(
        images=np.ascontiguousarray(images, dtype=np.float32),
        labels=factors[:, 0].astype(np.int64),
        factors=factors,
        factor_names=names,
        label_names=SHAPE_NAMES,
        source=(f"procedural {'colour ' if colour else ''}sprites ({n:,} shapes, {size}x{size}"
                + (f"; {factors_spec}" if factors_spec.strip() else "") + ")"),
    )
