"""Axes and a colour legend for the exported pictures (the latent GIF, the manifold PNG).

A picture of codes or of a decoded grid says little without the values along
its sides: :func:`with_axes` puts a Pillow image in a frame with tick marks,
numbers and the axis names, and :func:`legend_strip` draws what each point
colour means. Ticks are either "nice" values on a linear axis
(:func:`nice_ticks`) or given positions with their own numbers (a manifold
whose grid follows the prior's quantiles, not a linear scale).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

INK = (48, 48, 48)
TICK = 5                       # pixels of a tick mark


def nice_ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) inside [lo, hi], at most ``most``."""
    span = hi - lo
    if not math.isfinite(span) or span <= 0:
        return [lo]
    raw = span / max(1, most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step) * step
    ticks = []
    v = first
    while v <= hi + 1e-9 * span:
        ticks.append(0.0 if abs(v) < 1e-12 * span else round(v, 10))
        v += step
    return ticks


def tick_text(v: float) -> str:
    """A tick's number, short: 2, 0.5, -1.64, 1e+03."""
    return f"{v:.3g}"      # an ASCII minus: Pillow's default font has no U+2212


def linear_ticks(limits: tuple[float, float], pixels: int,
                 flip: bool = False) -> list[tuple[float, str]]:
    """(pixel, text) of :func:`nice_ticks` on an axis spanning ``limits`` over ``pixels``
    (``flip``: the largest value at pixel 0, as a picture's y axis)."""
    lo, hi = limits
    out = []
    for v in nice_ticks(lo, hi):
        t = (v - lo) / (hi - lo) if hi > lo else 0.5
        out.append(((1 - t if flip else t) * (pixels - 1), tick_text(v)))
    return out


def cell_ticks(values, side: int) -> list[tuple[float, str]]:
    """(pixel, text) ticks at round values along a grid of ``len(values)`` cells drawn
    ``side`` pixels long, cell i showing ``values[i]`` (monotone, not necessarily evenly
    spaced: a grid of quantiles). Each tick sits where its value falls between the cell
    centres."""
    v = np.asarray(values, np.float64)
    n = len(v)
    centres = (np.arange(n) + 0.5) * side / n
    if v[0] > v[-1]:                     # a y axis: the largest value in the top row
        v, centres = v[::-1], centres[::-1]
    return [(float(np.interp(t, v, centres)), tick_text(t))
            for t in nice_ticks(float(v[0]), float(v[-1]))]


def with_axes(img: "Image.Image", x_ticks: Sequence[tuple[float, str]],
              y_ticks: Sequence[tuple[float, str]], x_name: str, y_name: str,
              size: int = 13) -> "Image.Image":
    """``img`` framed by a left and a bottom axis.

    Parameters
    ----------
    x_ticks, y_ticks : (pixel along the image's width / height, text) of each tick.
    x_name, y_name : the axes' names, under the x numbers and above the y ones.

    Returns
    -------
    A new RGB image: the left margin holds the y numbers, the bottom one the x numbers
    and the x axis's name; the y axis's name is written above the numbers.
    """
    from PIL import Image, ImageDraw
    from engine.export.figures import _font
    font = _font(size)
    widest = max([font.getlength(t) for _, t in y_ticks] + [font.getlength(y_name) / 2, 10])
    left = int(widest) + TICK + 6
    top = size + 6
    bottom = 2 * size + TICK + 10
    right = int(font.getlength(x_ticks[-1][1]) / 2) + 4 if x_ticks else 4
    out = Image.new("RGB", (left + img.width + right, top + img.height + bottom), "white")
    out.paste(img.convert("RGB"), (left, top))
    draw = ImageDraw.Draw(out)
    x_axis_y = top + img.height
    draw.line([(left - 1, top), (left - 1, x_axis_y)], fill=INK)
    draw.line([(left - 1, x_axis_y), (left + img.width, x_axis_y)], fill=INK)
    for px, text in x_ticks:
        x = left + px
        draw.line([(x, x_axis_y), (x, x_axis_y + TICK)], fill=INK)
        draw.text((x, x_axis_y + TICK + 1), text, fill=INK, font=font, anchor="mt")
    for py, text in y_ticks:
        y = top + py
        draw.line([(left - 1 - TICK, y), (left - 1, y)], fill=INK)
        draw.text((left - TICK - 3, y), text, fill=INK, font=font, anchor="rm")
    draw.text((left + img.width / 2, out.height - 3), x_name, fill=INK, font=font,
              anchor="md")
    draw.text((2, 2), y_name, fill=INK, font=font, anchor="lt")
    return out


def legend_strip(names: Sequence[str], colours: Sequence[str], width: int,
                 size: int = 13) -> "Image.Image":
    """A white strip ``width`` wide naming each point colour: a swatch, then its name,
    wrapped over as many lines as the names need."""
    from PIL import Image, ImageDraw
    from engine.export.figures import _font
    font = _font(size)
    swatch, gap, line = size, 6, size + 8
    items, x, rows = [], 6, 0
    for name, colour in zip(names, colours):
        need = swatch + 4 + int(font.getlength(name)) + 2 * gap
        if x + need > width and x > 6:
            x, rows = 6, rows + 1
        items.append((x, rows, name, colour))
        x += need
    out = Image.new("RGB", (width, (rows + 1) * line + 6), "white")
    draw = ImageDraw.Draw(out)
    for x, row, name, colour in items:
        y = 4 + row * line
        draw.rectangle([x, y, x + swatch, y + swatch], fill=colour)
        draw.text((x + swatch + 4, y + swatch / 2), name, fill=INK, font=font, anchor="lm")
    return out
