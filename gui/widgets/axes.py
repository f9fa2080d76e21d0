"""Plot axes that read well: whole numbers for steps and epochs, log ticks that do not crowd.

pyqtgraph's default axis labels an epoch axis 1.0, 1.2, …, 2.0 (there is no
epoch 1.2) and, on a log axis spanning less than a couple of decades, every
mantissa 1…9 of each decade: a GAN's losses near 0.4-1.4 read "1 0.9 0.8 0.7
0.6 0.5 0.4", a dozen pixels apart. :class:`ReadableAxis` keeps whole-number
ticks where asked and, on a log axis, labels the densest of 1-2-3-5-7, 1-2-5,
1-3 or 1 per decade whose labels keep :data:`MIN_LABEL_GAP` pixels apart.
:func:`readable_axis_items` makes them for a new plot.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

#: Pixels between the centres of neighbouring tick labels, at least (about two text
#: heights on a vertical axis; a horizontal axis needs room for the labels' widths).
MIN_LABEL_GAP = {"left": 26, "right": 26, "bottom": 48, "top": 48}

#: Mantissas labelled per decade on a log axis, densest first.
LOG_MANTISSAS = ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 5, 7), (1, 2, 5), (1, 3), (1,))


class ReadableAxis(pg.AxisItem):
    """An axis with whole-number ticks (``integer``) and uncrowded log ticks.

    Parameters
    ----------
    orientation : ``'left'``, ``'bottom'``, …
    integer : only whole numbers are ticks (steps, epochs, counts).
    """

    def __init__(self, orientation: str, integer: bool = False, **kwargs):
        super().__init__(orientation, **kwargs)
        self.integer = integer

    def tickValues(self, minVal: float, maxVal: float, size: float):  # noqa: N802
        levels = super().tickValues(minVal, maxVal, size)
        if not self.integer or self.logMode:
            return levels
        whole = []
        for spacing, values in levels:
            if spacing is None or spacing < 1:
                continue     # a level between whole numbers: 1.25, 1.5
            whole.append((spacing, [v for v in values if abs(v - round(v)) < 1e-6]))
        if not any(values for _, values in whole):
            lo, hi = sorted((minVal, maxVal))
            whole = [(1.0, [float(v) for v in range(math.ceil(lo), math.floor(hi) + 1)])]
        return whole

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802
        decades = [(spacing, t) for spacing, t in stdTicks if spacing >= 1.0]
        if sum(len(t) for _, t in decades) >= 3:
            return decades       # several decades: 10^k labels, as pyqtgraph does
        lo, hi = sorted((minVal, maxVal))
        per_decade = size / max(hi - lo, 1e-9)          # pixels per decade
        gap = MIN_LABEL_GAP.get(self.orientation, 26)
        for mantissas in LOG_MANTISSAS:      # the densest set whose labels keep apart
            if _smallest_gap(mantissas) * per_decade >= gap:
                return [(None, _log_values(lo, hi, mantissas))]
        return [(None, _log_values(lo, hi, (1,)))]


def _log_values(lo: float, hi: float, mantissas: tuple[int, ...]) -> list[float]:
    """log10 of m·10^k for each mantissa m and decade k, inside [lo, hi] (log10 units)."""
    out = []
    for k in range(math.floor(lo), math.ceil(hi) + 1):
        for m in mantissas:
            v = k + math.log10(m)
            if lo <= v <= hi:
                out.append(v)
    return out


def _smallest_gap(mantissas: tuple[int, ...]) -> float:
    """The smallest distance, in decades, between neighbouring labels of ``mantissas``."""
    marks = np.log10(np.array(list(mantissas) + [10], float))
    return float(np.min(np.diff(marks)))


def readable_axis_items(integer_x: bool = False,
                        integer_y: bool = False) -> dict[str, ReadableAxis]:
    """Left and bottom :class:`ReadableAxis` items for a new plot
    (``addPlot(axisItems=...)``, ``pg.PlotWidget(axisItems=...)``)."""
    return {"bottom": ReadableAxis("bottom", integer=integer_x),
            "left": ReadableAxis("left", integer=integer_y)}
