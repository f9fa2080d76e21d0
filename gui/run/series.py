"""Growing numpy buffers for plot data, and exponential smoothing.

A curve with a million points must not be rebuilt from a Python list on
every update: :class:`SeriesBuffer` appends into preallocated arrays that
double when full, and hands out views. :func:`ema` smooths a whole series
in vectorised blocks; :class:`EmaState` continues it over appended points.
"""

from __future__ import annotations

import math

import numpy as np


class SeriesBuffer:
    """x and y values appended in batches; ``x`` and ``y`` are views of the filled part."""

    def __init__(self, capacity: int = 1024):
        self._x = np.empty(capacity, np.float64)
        self._y = np.empty(capacity, np.float64)
        self.n = 0

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        k = len(x)
        if self.n + k > len(self._x):
            cap = max(2 * len(self._x), self.n + k)
            self._x = np.resize(self._x, cap)
            self._y = np.resize(self._y, cap)
        self._x[self.n:self.n + k] = x
        self._y[self.n:self.n + k] = y
        self.n += k

    def clear(self) -> None:
        self.n = 0

    @property
    def x(self) -> np.ndarray:
        return self._x[:self.n]

    @property
    def y(self) -> np.ndarray:
        return self._y[:self.n]

    def __len__(self) -> int:
        return self.n


def ema(y: np.ndarray, weight: float, start: float | None = None) -> np.ndarray:
    """Exponential moving average ``s[t] = weight*s[t-1] + (1-weight)*y[t]``.

    ``s[-1]`` is ``start``, or ``y[0]`` when None (so the curve starts on the
    data, as TensorBoard's does). Computed in blocks with the closed form
    ``s[i] = w^(i+1) s[-1] + (1-w) w^i Σ_{j<=i} w^-j y[j]``: the block length
    keeps ``w^-j`` far from overflow, and no Python loop runs per point.

    Parameters
    ----------
    y : (N,) float
    weight : in [0, 1); 0 returns a copy of ``y``.
    """
    y = np.asarray(y, dtype=np.float64)
    if weight <= 0 or len(y) == 0:
        return y.copy()
    w = float(weight)
    block = max(1, min(1 << 16, int(100 * math.log(10) / -math.log(w))))
    out = np.empty_like(y)
    prev = float(y[0]) if start is None else float(start)
    for b0 in range(0, len(y), block):
        seg = y[b0:b0 + block]
        j = np.arange(len(seg), dtype=np.float64)
        up = w ** -j                     # grows to at most 1e100 by the choice of block
        down = w ** j
        out[b0:b0 + len(seg)] = w * down * prev + (1 - w) * down * np.cumsum(seg * up)
        prev = out[b0 + len(seg) - 1]
    return out


class EmaState:
    """An EMA continued over appended batches: the smoothed series stays in a buffer."""

    def __init__(self, weight: float):
        self.weight = weight
        self.buffer = SeriesBuffer()

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        start = self.buffer.y[-1] if self.buffer.n else None
        self.buffer.extend(x, ema(y, self.weight, start))

    def rebuild(self, x: np.ndarray, y: np.ndarray, weight: float) -> None:
        """Recompute over the whole series (after the weight changed)."""
        self.weight = weight
        self.buffer.clear()
        self.buffer.extend(x, ema(y, weight))
