"""Latent traversals as a PNG grid and as an animated GIF (``export --traversals``).

The grid is :func:`engine.analysis.traversal.traversal_grid` drawn with
matplotlib (:mod:`engine.export.canvas`): one row per latent dimension, largest KL first, each labelled with
its dimension and KL, collapsed dimensions' labels in grey with
"collapsed"; columns from -3 to +3 standard deviations. The GIF sweeps the
value back and forth, every dimension side by side, so each frame shows
what each dimension does at that value. The window's traversal view
(gui/panels/latent_traversals.py) draws the same grid and saves the same
files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.analysis.traversal import SWEEP, TraversalGrid, traversal_grid
from engine.export.canvas import GREY, PixelCanvas, save_gif, save_png
from engine.tiles import image_grid
from engine.session.runs import SessionRun
from engine.session.schema import fail

LABEL_WIDTH = 150
HEADER = 26
SCALE = 2
INK = "#191919"
FRAME_MS = 180          # each GIF frame's time on screen


def row_label(grid: TraversalGrid, row: int) -> str:
    """``z3  KL 2.14`` (or ``z3  collapsed``): what a traversal row sweeps."""
    name = f"z{int(grid.order[row]) + 1}"
    if not grid.active[row]:
        return f"{name}  collapsed"
    return f"{name}  KL {grid.kl[row]:.2f}" if grid.kl is not None else name


def traversal_png(grid: TraversalGrid, title: str, scale: int = SCALE,
                  text: int = 12) -> np.ndarray:
    """The grid as an (H, W, 3) uint8 picture (see the module docstring); ``text`` is the
    label size in pixels (the window draws the picture shrunk to fit, with larger labels)."""
    rows, steps = grid.images.shape[:2]
    label_w, header = int(LABEL_WIDTH * text / 12), int(HEADER * text / 12)
    pixels = image_grid(grid.images.reshape(rows * steps, *grid.images.shape[2:]), steps)
    h, w = pixels.shape[0] * scale, pixels.shape[1] * scale
    canvas = PixelCanvas(label_w + w, header * 2 + h)
    canvas.image(pixels, label_w, header * 2, w, h)
    canvas.text(6, 5, title, text + 2, INK)
    cell = w / steps
    where = "prior" if grid.kind == "prior" else "posterior"
    for s, t in enumerate(np.linspace(-SWEEP, SWEEP, steps)):
        canvas.text(label_w + (s + 0.5) * cell, header * 1.5, f"{t:+.1f}", text, INK,
                    ha="center", va="center")
    canvas.text(label_w - 8, header * 1.5, f"sd of the {where}", text, GREY, ha="right",
                va="center")
    for r in range(rows):
        canvas.text(label_w - 8, header * 2 + (r + 0.5) * h / rows, row_label(grid, r), text,
                    INK if grid.active[r] else GREY, ha="right", va="center")
    return canvas.to_array()


def traversal_frames(grid: TraversalGrid, title: str, scale: int = SCALE) -> list[np.ndarray]:
    """GIF frames, (H, W, 3) uint8 each: at each step, every dimension's image side by side,
    labelled; forth and back, so the loop is seamless."""
    rows, steps = grid.images.shape[:2]
    per_row = min(rows, 10)
    n_bands = -(-rows // per_row)
    band = 16                                     # pixels under each band for its labels
    ts = np.linspace(-SWEEP, SWEEP, steps)
    frames = []
    for s in list(range(steps)) + list(range(steps - 2, 0, -1)):
        pixels = image_grid(grid.images[:, s], per_row, pad=4)
        w, h = pixels.shape[1] * scale, pixels.shape[0] * scale
        cell_w, cell_h = w / per_row, h / n_bands
        canvas = PixelCanvas(max(w, 360), HEADER + h + band * n_bands)
        canvas.text(6, 5, f"{title} · {ts[s]:+.1f} sd", 14, INK)
        for b in range(n_bands):            # each band of images with its labels under it
            y = HEADER + b * (cell_h + band)
            canvas.image(pixels[int(b * cell_h / scale):int((b + 1) * cell_h / scale)], 0, y,
                         w, cell_h)
        for r in range(rows):
            b, col = divmod(r, per_row)
            canvas.text(col * cell_w + cell_w / 2, HEADER + b * (cell_h + band) + cell_h + 2,
                        row_label(grid, r).split()[0], 11, INK if grid.active[r] else GREY,
                        ha="center")
        frames.append(canvas.to_array())
    return frames


def run_traversal(run: SessionRun, epoch: int | None = None, image: int = 0,
                  kind: str = "prior") -> tuple[TraversalGrid, str]:
    """(the grid, its title) of a stored run's probe image at ``epoch`` (default: the last).

    Raises
    ------
    SessionError
        When the run has no saved epoch, no decoder, or no codes of its images.
    """
    if not run.snapshot_epochs:
        raise fail(run.path, f"run '{run.run_id}' has no saved epoch yet: nothing to traverse")
    epoch = run.snapshot_epochs[-1] if epoch is None else epoch
    snap = run.snapshot(epoch)
    if "probe_latent_mean" not in snap.arrays or "map_latents" not in snap.arrays:
        raise fail(run.path, f"run '{run.run_id}' has no codes of its images to traverse (a "
                             f"{run.config.model.family} has no encoder)")
    decoder = run.decoder(epoch)
    try:
        grid = traversal_grid(snap.arrays, image, decoder.decode, kind)
    except ValueError as e:
        raise fail(run.path, str(e)) from None
    title = (f"{run.config.name} · epoch {epoch} · probe image {image}: each dimension "
             f"from -{SWEEP:g} to +{SWEEP:g} sd")
    return grid, title


def check_traversals(run: SessionRun, path: str | Path,
                     force: bool = False) -> tuple[Path | None, Path]:
    """Raise what :func:`export_traversals` would refuse before drawing or writing;
    returns (the PNG or None, the GIF) it would write."""
    path = Path(path)
    png = None if path.suffix.lower() == ".gif" else path.with_suffix(".png")
    gif = path.with_suffix(".gif")
    if not run.snapshot_epochs:
        raise fail(run.path, f"run '{run.run_id}' has no saved epoch yet: nothing to traverse")
    for p in (png, gif):
        if p is not None and p.exists() and not force:
            raise fail(p, "already exists; pass --force to overwrite it")
    return png, gif


def export_traversals(run: SessionRun, path: str | Path, epoch: int | None = None,
                      image: int = 0, kind: str = "prior", force: bool = False) -> list[Path]:
    """Write the traversal grid: ``path`` ending in .gif writes the animation, anything else
    the PNG grid with the animation beside it (same name, .gif)."""
    path = Path(path)
    png, gif = check_traversals(run, path, force)
    grid, title = run_traversal(run, epoch, image, kind)
    written = []
    try:
        if png is not None:
            save_png(traversal_png(grid, title), png)
            written.append(png)
        save_gif(traversal_frames(grid, title.split(": ")[0].rsplit(" · probe", 1)[0]), gif,
                 FRAME_MS)
        written.append(gif)
    except OSError as e:
        raise fail(path, f"cannot write the traversals: {e.strerror or e}") from None
    return written
