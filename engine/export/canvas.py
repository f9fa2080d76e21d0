"""The one stack that draws the engine's figures to files: matplotlib's Agg canvas, in pixels.

Every PNG and GIF frame the engine writes (``export``'s epoch figures, the
latent GIF, traversals, the lessons' figure, the ``compare`` PNG) is a
matplotlib :class:`~matplotlib.figure.Figure` on the Agg canvas — no window,
no pyplot state, so it draws on any thread of a machine with no display.
Most of them are images laid out to the pixel (a 28-pixel digit stays 28
pixels per scale step), so :class:`PixelCanvas` places images, axes and text
by pixel from the top-left corner. Pillow only writes the GIF files
(:func:`save_gif`): matplotlib has no GIF writer of its own but Pillow's.

matplotlib is imported inside the functions here, when a figure is drawn:
``import engine`` and ``python main.py --help`` do not pay for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

DPI = 100                  # 1 point = DPI / 72 pixels: sizes below are in pixels
INK = "#303030"
GREY = "#969696"
#: room around a :meth:`PixelCanvas.framed` axes for its numbers and names
FRAME_LEFT, FRAME_TOP, FRAME_RIGHT, FRAME_BOTTOM = 50, 22, 16, 42


def points(pixels: float) -> float:
    """A size in pixels as matplotlib's points."""
    return pixels * 72 / DPI


def text_width(text: str, size: float) -> float:
    """Pixels ``text`` takes at ``size`` pixels (DejaVu Sans, the default font)."""
    from matplotlib.textpath import TextPath
    return TextPath((0, 0), text, size=points(size)).get_extents().width * DPI / 72


def cell_ticks(values, side: int) -> list[tuple[float, str]]:
    """(pixel, text) ticks at round values along a grid of ``len(values)`` cells drawn
    ``side`` pixels long, cell i showing ``values[i]`` (monotone, not necessarily evenly
    spaced: a grid of quantiles). Each tick sits where its value falls between the cell
    centres; the values are those matplotlib's own axis would mark."""
    from matplotlib.ticker import MaxNLocator
    v = np.asarray(values, np.float64)
    n = len(v)
    centres = (np.arange(n) + 0.5) * side / n
    if v[0] > v[-1]:                     # a y axis: the largest value in the top row
        v, centres = v[::-1], centres[::-1]
    lo, hi = float(v[0]), float(v[-1])
    ticks = [t for t in MaxNLocator(5, steps=[1, 2, 5, 10]).tick_values(lo, hi)
             if lo <= t <= hi]
    return [(float(np.interp(t, v, centres)), f"{0.0 if abs(t) < 1e-12 else t:.3g}")
            for t in ticks]


class PixelCanvas:
    """A white picture ``width`` x ``height`` pixels; positions in pixels from the top left.

    Attributes
    ----------
    figure : the matplotlib Figure, for what the methods here do not cover.
    """

    def __init__(self, width: float, height: float):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        self.width, self.height = int(round(width)), int(round(height))
        self.figure = Figure(figsize=(self.width / DPI, self.height / DPI), dpi=DPI,
                             facecolor="white")
        FigureCanvasAgg(self.figure)

    def _box(self, left: float, top: float, width: float, height: float) -> list[float]:
        return [left / self.width, 1 - (top + height) / self.height,
                width / self.width, height / self.height]

    def axes(self, left: float, top: float, width: float, height: float):
        """A matplotlib Axes filling the given rectangle."""
        return self.figure.add_axes(self._box(left, top, width, height))

    def image(self, pixels: np.ndarray, left: float, top: float, width: float | None = None,
              height: float | None = None, smooth: bool = False):
        """Draw ``pixels`` ((H, W) or (H, W, 3), uint8, or float in [0, 1]) with its top-left
        corner at (left, top), scaled to width x height (default: its own size); each pixel
        a block (``smooth``: Lanczos, for a picture shrunk). Returns its Axes (no frame)."""
        h, w = pixels.shape[:2]
        ax = self.axes(left, top, width or w, height or h)
        top_value = 255 if pixels.dtype == np.uint8 else 1.0
        ax.imshow(pixels, cmap="gray" if pixels.ndim == 2 else None, vmin=0, vmax=top_value,
                  interpolation="lanczos" if smooth else "nearest", aspect="auto",
                  extent=(0, w, h, 0))
        ax.set_axis_off()
        return ax

    def framed(self, left: float, top: float, width: float, height: float, x_name: str,
               y_name: str, size: float = 13):
        """An Axes in the rectangle with a left and a bottom axis: numbers ``size`` pixels
        high, the x name under the numbers, the y name above the axis (the room of
        FRAME_LEFT ... FRAME_BOTTOM around the rectangle holds them)."""
        ax = self.axes(left, top, width, height)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_color(INK)
        ax.tick_params(labelsize=points(size), colors=INK, length=5)
        ax.set_xlabel(x_name, fontsize=points(size), color=INK, labelpad=2)
        self.text(max(2, left - FRAME_LEFT + 2), top - size - 6, y_name, size)
        return ax

    def framed_image(self, pixels: np.ndarray, left: float, top: float, width: float,
                     height: float, x_ticks: Sequence[tuple[float, str]],
                     y_ticks: Sequence[tuple[float, str]], x_name: str, y_name: str,
                     smooth: bool = False):
        """``pixels`` in a :meth:`framed` axes, ticks at (pixel along the drawn width /
        height, text)."""
        ax = self.framed(left, top, width, height, x_name, y_name)
        top_value = 255 if pixels.dtype == np.uint8 else 1.0
        ax.imshow(pixels, cmap="gray" if pixels.ndim == 2 else None, vmin=0, vmax=top_value,
                  interpolation="lanczos" if smooth else "nearest", aspect="auto",
                  extent=(0, width, height, 0))
        ax.set_xticks([p for p, _ in x_ticks], [t for _, t in x_ticks])
        ax.set_yticks([p for p, _ in y_ticks], [t for _, t in y_ticks])
        return ax

    def text(self, x: float, y: float, text: str, size: float = 13, colour: str = INK,
             ha: str = "left", va: str = "top") -> None:
        """``text`` ``size`` pixels high at (x, y), aligned by ``ha`` / ``va``."""
        self.figure.text(x / self.width, 1 - y / self.height, text, fontsize=points(size),
                         color=colour, ha=ha, va=va)

    def rectangle(self, left: float, top: float, width: float, height: float,
                  colour: str) -> None:
        """A filled rectangle."""
        from matplotlib.patches import Rectangle
        x, y, w, h = self._box(left, top, width, height)
        self.figure.add_artist(Rectangle((x, y), w, h, color=colour, lw=0,
                                         transform=self.figure.transFigure))

    def legend(self, names: Sequence[str], colours: Sequence[str], size: float = 13) -> None:
        """A row of colour swatches and their names along the bottom edge."""
        from matplotlib.patches import Patch
        self.figure.legend([Patch(color=c) for c in colours], names, loc="lower left",
                           ncol=len(names), frameon=False, fontsize=points(size),
                           handlelength=1.0, handleheight=1.0, columnspacing=1.2,
                           borderaxespad=0.2)

    def to_array(self) -> np.ndarray:
        """The picture: (height, width, 3) uint8."""
        self.figure.canvas.draw()
        return np.asarray(self.figure.canvas.buffer_rgba())[..., :3].copy()

    def save(self, path: str | Path, metadata: dict[str, str] | None = None) -> None:
        """Write the PNG (``metadata``: text entries kept in the file)."""
        self.figure.canvas.print_png(str(path), metadata=metadata)


def save_png(pixels: np.ndarray, path: str | Path) -> None:
    """Write an (H, W) or (H, W, 3) uint8 picture as it is, pixel for pixel."""
    canvas = PixelCanvas(pixels.shape[1], pixels.shape[0])
    canvas.image(pixels, 0, 0)
    canvas.save(path)


def save_gif(frames: Sequence[np.ndarray], path: str | Path,
             durations: int | Sequence[int]) -> None:
    """Write (H, W, 3) uint8 frames as a looping GIF, each shown ``durations`` ms."""
    from PIL import Image
    pictures = [Image.fromarray(f) for f in frames]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=durations,
                     loop=0, optimize=False)
