"""Mapping latent codes to the 2-D map and map points back to codes.

A projection is an origin ``mu`` and two orthonormal rows ``basis`` (2, D):
``p = (z - mu) @ basis.T``. Two kinds are offered: a pair of latent
dimensions (``mu = 0``, rows are unit vectors) and PCA of the codes
(``mu`` = their mean, rows = the top two principal directions, by numpy's
SVD). Going back from a map point keeps the coordinates off the map plane
at a chosen *hold point*: ``z = hold + (p - project(hold)) @ basis``.
Plain numpy; no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LatentProjection:
    """A linear map from D-dim codes to the plane and back.

    Attributes
    ----------
    origin : (D,) float64, subtracted before projecting.
    basis : (2, D) float64 orthonormal rows.
    hold : (D,) float64, the code whose off-plane coordinates a map point keeps.
    axis_names : the names of the map's x and y axes.
    """

    origin: np.ndarray
    basis: np.ndarray
    hold: np.ndarray
    axis_names: tuple[str, str]

    @property
    def latent_dim(self) -> int:
        return int(self.basis.shape[1])

    def project(self, z: np.ndarray) -> np.ndarray:
        """z (N, D) -> points (N, 2)."""
        return (np.asarray(z, np.float64) - self.origin) @ self.basis.T

    def to_latent(self, points: np.ndarray) -> np.ndarray:
        """points (N, 2) -> codes (N, D) float32, off-plane coordinates from ``hold``."""
        points = np.atleast_2d(np.asarray(points, np.float64))
        held = self.project(self.hold[None])[0]
        return (self.hold[None] + (points - held) @ self.basis).astype(np.float32)

    def prior_centre(self) -> np.ndarray:
        """Where the prior's mean (z = 0) lands on the map, (2,)."""
        return self.project(np.zeros((1, self.latent_dim)))[0]


def dims_projection(latent_dim: int, dim_x: int, dim_y: int,
                    hold: np.ndarray) -> LatentProjection:
    """The map is latent dimensions ``dim_x`` and ``dim_y`` (0-based) themselves."""
    if not (0 <= dim_x < latent_dim and 0 <= dim_y < latent_dim) or dim_x == dim_y:
        raise ValueError(f"need two different dimensions below {latent_dim}, "
                         f"got {dim_x} and {dim_y}")
    basis = np.zeros((2, latent_dim))
    basis[0, dim_x] = basis[1, dim_y] = 1.0
    return LatentProjection(np.zeros(latent_dim), basis, np.asarray(hold, np.float64),
                            (f"z{dim_x + 1}", f"z{dim_y + 1}"))


def pca_projection(codes: np.ndarray, hold: np.ndarray) -> LatentProjection:
    """The map is the codes' first two principal components.

    Parameters
    ----------
    codes : (N, D) with D >= 2.
    hold : (D,) the code whose remaining components map points keep.
    """
    codes = np.asarray(codes, np.float64)
    mean = codes.mean(axis=0)
    _, _, vt = np.linalg.svd(codes - mean, full_matrices=False)
    basis = vt[:2]
    if basis.shape[0] < 2:  # fewer than two codes: fall back to the first two axes
        basis = np.eye(codes.shape[1])[:2]
    # SVD signs are arbitrary: fix them so the map does not flip between epochs.
    signs = np.sign(basis[np.arange(2), np.abs(basis).argmax(axis=1)])
    basis = basis * np.where(signs == 0, 1.0, signs)[:, None]
    return LatentProjection(mean, basis, np.asarray(hold, np.float64), ("PC 1", "PC 2"))


def grid_points(x_range: tuple[float, float], y_range: tuple[float, float],
                n: int) -> np.ndarray:
    """An n x n grid of cell centres, rows from the top (highest y) down: (n*n, 2)."""
    x0, x1 = x_range
    y0, y1 = y_range
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y1 - (np.arange(n) + 0.5) * (y1 - y0) / n
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])
