"""Latent traversals and interpolation: which codes to decode, in which order.

A *traversal* holds one image's code and sweeps one latent dimension at a
time across a range, one row per dimension: a disentangled dimension
changes one factor of the image (its position, its size), a collapsed one
changes nothing. The range is ±3 standard deviations

- of the prior (``"prior"``): z_d from -3 to 3 for a VAE, whose prior is
  N(0, 1); for a deterministic code, which has no prior, the mean ± 3 std of
  that dimension over the map's images;
- of the image's own posterior (``"posterior"``, a VAE only): mu_d ± 3 sigma_d.
  Active dimensions are sure of their value (a small sigma) and barely move;
  collapsed ones have sigma ≈ 1.

Rows are sorted by the KL of each dimension (largest first), or by the
variance of its mean code when the model has no KL, so the dimensions the
model uses come first and the collapsed ones (:mod:`.latent_usage`) last.

An *interpolation* decodes the path between two codes: a straight line, or
for a Gaussian prior the spherical path (slerp; White 2016, "Sampling
generative networks"), which keeps the norm of the codes near that of the
ends, where a prior N(0, I) puts its mass, instead of cutting through the
low-norm middle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from engine.analysis.latent_usage import active_units, code_variance

#: Steps of a traversal row and of an interpolation, and the sweep in standard deviations.
TRAVERSAL_STEPS = 9
INTERPOLATION_STEPS = 10
SWEEP = 3.0
RANGES = ("prior", "posterior")


def dimension_order(kl_per_dim: np.ndarray | None, map_latents: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The rows' order and which dimensions are active.

    Parameters
    ----------
    kl_per_dim : (D,) nats, or None for a model without a KL (a deterministic code).
    map_latents : (M, D) mean codes of the map's images.

    Returns
    -------
    order : (D,) int64, largest KL (or code variance) first; ties in index order.
    active : (D,) bool, Burda et al.'s active units, in dimension order (not sorted).
    """
    key = code_variance(map_latents) if kl_per_dim is None else np.asarray(kl_per_dim,
                                                                           np.float64)
    return np.argsort(-key, kind="stable"), active_units(map_latents)


def sweep_values(centre: np.ndarray, spread: np.ndarray, steps: int = TRAVERSAL_STEPS,
                 sweep: float = SWEEP) -> np.ndarray:
    """(D, steps) values of each dimension: centre_d + spread_d * t, t from -sweep to sweep."""
    t = np.linspace(-sweep, sweep, steps)
    return np.asarray(centre, np.float64)[:, None] + np.asarray(spread, np.float64)[:, None] * t


def traversal_codes(code: np.ndarray, values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The codes of a traversal grid.

    Parameters
    ----------
    code : (D,) the held code (the image's mean code).
    values : (D, S) the values each dimension takes (:func:`sweep_values`).
    order : (R,) the dimensions to sweep, one row each, in row order.

    Returns
    -------
    (R, S, D) float32: row r, column s is ``code`` with dimension ``order[r]`` set to
    ``values[order[r], s]``.
    """
    code = np.asarray(code, np.float32).ravel()
    order = np.asarray(order, np.int64)
    s = values.shape[1]
    grid = np.repeat(np.repeat(code[None, None], len(order), 0), s, 1)
    grid[np.arange(len(order)), :, order] = values[order]
    return grid


def traversal_range(kind: str, code: np.ndarray, logvar: np.ndarray | None,
                    map_latents: np.ndarray, variational: bool
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(centre, spread), each (D,), of the sweep ``kind`` (see the module docstring).

    Raises
    ------
    ValueError
        For ``posterior`` without a posterior (a deterministic code), or an unknown kind.
    """
    code = np.asarray(code, np.float64).ravel()
    if kind == "posterior":
        if logvar is None:
            raise ValueError("a deterministic code has no posterior to sweep: use the prior")
        return code, np.exp(0.5 * np.asarray(logvar, np.float64).ravel())
    if kind != "prior":
        raise ValueError(f"the range is one of {', '.join(RANGES)}, not {kind!r}")
    if variational:
        return np.zeros_like(code), np.ones_like(code)
    m = np.asarray(map_latents, np.float64)
    return m.mean(0), np.sqrt(code_variance(m))


def lerp(a: np.ndarray, b: np.ndarray, steps: int = INTERPOLATION_STEPS) -> np.ndarray:
    """(steps, D) float32 points on the straight line from a to b, both ends included."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return ((1 - t) * a + t * b).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, steps: int = INTERPOLATION_STEPS) -> np.ndarray:
    """(steps, D) float32 points on the spherical path from a to b (White 2016).

    ``sin((1-t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b`` with Ω the angle between a and b:
    the direction turns at a constant rate, and for ends of one norm every point has
    that norm (a straight line's midpoint has only cos(Ω/2) of it). Nearly parallel
    ends (or a zero end) fall back to the straight line, which is then the same path.
    """
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return lerp(a, b, steps)
    cos = np.clip(a @ b / (na * nb), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return lerp(a, b, steps)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    path = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
    return path.astype(np.float32)


def interpolation_path(a: np.ndarray, b: np.ndarray, how: str,
                       steps: int = INTERPOLATION_STEPS) -> np.ndarray:
    """``how`` is ``linear`` or ``spherical``; (steps, D) float32."""
    if how == "linear":
        return lerp(a, b, steps)
    if how == "spherical":
        return slerp(a, b, steps)
    raise ValueError(f"an interpolation is linear or spherical, not {how!r}")


@dataclass(frozen=True)
class TraversalGrid:
    """A decoded traversal of one image's code.

    Attributes
    ----------
    images : (R, S, C, H, W) float32 in [0, 1], row r sweeping dimension ``order[r]``.
    order : (R,) int64 the swept dimensions, largest KL (or code variance) first.
    active : (R,) bool whether each row's dimension is active (Burda et al.).
    values : (R, S) the values the row's dimension takes.
    kl : (R,) the rows' KL in nats, or None for a model without one.
    kind : ``prior`` or ``posterior``.
    """

    images: np.ndarray
    order: np.ndarray
    active: np.ndarray
    values: np.ndarray
    kl: np.ndarray | None
    kind: str


def traversal_grid(arrays: dict[str, np.ndarray], index: int,
                   decode: Callable[[np.ndarray], np.ndarray], kind: str = "prior",
                   steps: int = TRAVERSAL_STEPS) -> TraversalGrid:
    """The traversal of probe image ``index`` at one epoch, decoded.

    Parameters
    ----------
    arrays : the epoch's snapshot arrays: ``probe_latent_mean`` (P, D), ``map_latents``
        (M, D), and for a VAE ``probe_latent_logvar`` and ``kl_per_dim`` — a snapshot
        with a log-variance is a variational code (its prior is N(0, I)).
    decode : codes (N, D) -> mean images (N, C, H, W) (a CPU copy's decoder).
    kind : :data:`RANGES`.

    Raises
    ------
    KeyError
        When the snapshot has no probe codes; ValueError for a bad ``index`` or ``kind``.
    """
    means = np.asarray(arrays["probe_latent_mean"], np.float64)
    if not 0 <= index < len(means):
        raise ValueError(f"probe image {index} does not exist (0 to {len(means) - 1})")
    logvars = arrays.get("probe_latent_logvar")
    logvar = None if logvars is None else np.asarray(logvars, np.float64)[index]
    kl = arrays.get("kl_per_dim")
    map_latents = np.asarray(arrays["map_latents"], np.float64)
    order, active = dimension_order(kl, map_latents)
    centre, spread = traversal_range(kind, means[index], logvar, map_latents,
                                     variational=logvar is not None)
    values = sweep_values(centre, spread, steps)
    codes = traversal_codes(means[index], values, order)
    images = np.asarray(decode(codes.reshape(-1, codes.shape[-1])), np.float32)
    return TraversalGrid(images=images.reshape(len(order), steps, *images.shape[1:]),
                         order=order, active=active[order], values=values[order],
                         kl=None if kl is None else np.asarray(kl, np.float64)[order],
                         kind=kind)
