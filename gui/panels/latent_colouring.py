"""Colours of the latent map's points: by class label or by a ground-truth factor.

Brushes are built once per (run, choice) and reused: the map is redrawn at
every epoch with the same points in the same colours.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from engine.events import DatasetInfo
from gui.style import LABEL_COLOURS, label_colour
from gui.widgets.markup import escaped

LABEL_CHOICE = "label"
NO_COLOUR = "none"
MAX_CATEGORIES = 12   # a factor with at most this many integer values is coloured as classes


class PointColouring:
    """Chooses and caches the brushes of the map's points."""

    def __init__(self):
        self._cache: dict[tuple[int, str], tuple[list, str]] = {}

    @staticmethod
    def options(data: DatasetInfo) -> list[str]:
        """The colour choices this data set offers, best first."""
        out = []
        if data.map_labels is not None:
            out.append(LABEL_CHOICE)
        if data.map_factors is not None:
            out += list(data.factor_names) or [f"factor {i + 1}"
                                               for i in range(data.map_factors.shape[1])]
        return out + [NO_COLOUR]

    def brushes(self, data: DatasetInfo, choice: str) -> tuple[list | pg.QtGui.QBrush, str]:
        """(one brush per map point, or one brush for all, legend as rich text) for ``choice``."""
        key = (id(data), choice)
        if key not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if k[0] == id(data)}
            self._cache[key] = self._build(data, choice)
        return self._cache[key]

    def _build(self, data: DatasetInfo, choice: str) -> tuple[list | pg.QtGui.QBrush, str]:
        values = self._values(data, choice)
        if values is None:
            # One brush for every point: with neither labels nor factors there is no
            # count to make a list from (a list of 0 brushes broke unlabelled data).
            return pg.mkBrush(60, 60, 60, 150), "points: validation images"
        discrete = (np.allclose(values, np.round(values))
                    and len(np.unique(values)) <= MAX_CATEGORIES)
        if choice == LABEL_CHOICE or discrete:
            classes = np.unique(values.astype(np.int64))
            table = {int(c): pg.mkBrush(_with_alpha(label_colour(int(c)), 200)) for c in classes}
            brushes = [table[int(v)] for v in values.astype(np.int64)]
            names = self._class_names(data, choice, classes)
            legend = "  ".join(f'<span style="color:{LABEL_COLOURS[int(c) % len(LABEL_COLOURS)]};'
                               f'font-size:14pt">■</span>&nbsp;{escaped(name)}'
                               for c, name in zip(classes, names))
            return brushes, legend
        lo, hi = float(values.min()), float(values.max())
        t = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
        colours = pg.colormap.get("viridis").map(t, mode="qcolor")
        brushes = [pg.mkBrush(_with_alpha(c, 200)) for c in colours]
        legend = (f"{escaped(choice)}: <span style='color:#440154'>■</span> {lo:.3g} … "
                  f"<span style='color:#fde725;background:#444'>■</span> {hi:.3g} (viridis)")
        return brushes, legend

    @staticmethod
    def score_brushes(values: np.ndarray | None, name: str) -> tuple[list | pg.QtGui.QBrush, str]:
        """Brushes for points that are no data (a GAN's prior samples), by a score in [0, 1]."""
        if values is None:
            return pg.mkBrush(60, 60, 60, 150), "points: z drawn from the prior N(0, I)"
        v = np.asarray(values, np.float64)
        lo, hi = float(v.min()), float(v.max())
        # Over the scores' own range: near equilibrium they all lie close to 0.5.
        t = (v - lo) / (hi - lo) if hi - lo > 1e-6 else np.full_like(v, 0.5)
        colours = pg.colormap.get("viridis").map(t, mode="qcolor")
        legend = (f"{name}: <span style='color:#440154'>■</span> {lo:.2f} (more 'generated') "
                  f"… <span style='color:#fde725;background:#444'>■</span> {hi:.2f} (more "
                  "'real')")
        return [pg.mkBrush(_with_alpha(c, 200)) for c in colours], legend

    @staticmethod
    def _values(data: DatasetInfo, choice: str) -> np.ndarray | None:
        if choice == LABEL_CHOICE and data.map_labels is not None:
            return np.asarray(data.map_labels, np.float64)
        if data.map_factors is not None:
            names = list(data.factor_names) or [f"factor {i + 1}"
                                                for i in range(data.map_factors.shape[1])]
            if choice in names:
                return np.asarray(data.map_factors[:, names.index(choice)], np.float64)
        return None

    @staticmethod
    def _class_names(data: DatasetInfo, choice: str, classes: np.ndarray) -> list[str]:
        if choice == LABEL_CHOICE and data.label_names is not None:
            return [data.label_names[int(c)] if int(c) < len(data.label_names) else str(c)
                    for c in classes]
        return [str(int(c)) for c in classes]

    @staticmethod
    def label_of(data: DatasetInfo | None, index: int) -> str:
        """A short name for map point ``index`` (its class name, else its number)."""
        if data is not None and data.map_labels is not None and index < len(data.map_labels):
            lab = int(data.map_labels[index])
            if data.label_names is not None and lab < len(data.label_names):
                return data.label_names[lab]
            return str(lab)
        return f"#{index}"


def _with_alpha(colour, alpha: int):
    c = pg.mkColor(colour)
    c.setAlpha(alpha)
    return c
