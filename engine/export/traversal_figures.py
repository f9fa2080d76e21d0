"""Latent traversals as a PNG grid and as an animated GIF (``export --traversals``).

The grid is :func:`engine.analysis.traversal.traversal_grid` drawn with
Pillow: one row per latent dimension, largest KL first, each labelled with
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
from engine.export.figures import _font, image_grid
from engine.session.runs import SessionRun
from engine.session.schema import fail

LABEL_WIDTH = 150
HEADER = 26
SCALE = 2
GREY, INK = (150, 150, 150), (25, 25, 25)


def row_label(grid: TraversalGrid, row: int) -> str:
    """``z3  KL 2.14`` (or ``z3  collapsed``): what a traversal row sweeps."""
    name = f"z{int(grid.order[row]) + 1}"
    if not grid.active[row]:
        return f"{name}  collapsed"
    return f"{name}  KL {grid.kl[row]:.2f}" if grid.kl is not None else name


def traversal_png(grid: TraversalGrid, title: str, scale: int = SCALE, text: int = 12):
    """The grid as a Pillow image (see the module docstring); ``text`` is the label size in
    pixels (the window draws the picture shrunk to fit, with larger labels)."""
    from PIL import Image, ImageDraw
    rows, steps = grid.images.shape[:2]
    label_w, header = int(LABEL_WIDTH * text / 12), int(HEADER * text / 12)
    pixels = image_grid(grid.images.reshape(rows * steps, *grid.images.shape[2:]), steps)
    body = Image.fromarray(pixels).convert("RGB")
    body = body.resize((body.width * scale, body.height * scale), Image.NEAREST)
    img = Image.new("RGB", (label_w + body.width, header * 2 + body.height), "white")
    img.paste(body, (label_w, header * 2))
    draw = ImageDraw.Draw(img)
    font, small = _font(text + 2), _font(text)
    draw.text((6, 5), title, fill=INK, font=font)
    cell = body.width / steps
    where = "prior" if grid.kind == "prior" else "posterior"
    for s, t in enumerate(np.linspace(-SWEEP, SWEEP, steps)):
        draw.text((label_w + (s + 0.5) * cell, header + header / 2), f"{t:+.1f}",
                  fill=INK, font=small, anchor="mm")
    draw.text((label_w - 8, header + header / 2), f"sd of the {where}", fill=GREY,
              font=small, anchor="rm")
    height = body.height / rows
    for r in range(rows):
        draw.text((label_w - 8, header * 2 + (r + 0.5) * height), row_label(grid, r),
                  fill=INK if grid.active[r] else GREY, font=small, anchor="rm")
    return img


def traversal_frames(grid: TraversalGrid, title: str, scale: int = SCALE) -> list:
    """GIF frames: at each step, every dimension's image side by side, labelled; forth and
    back, so the loop is seamless."""
    from PIL import Image, ImageDraw
    rows, steps = grid.images.shape[:2]
    per_row = min(rows, 10)
    font, small = _font(14), _font(11)
    frames = []
    ts = np.linspace(-SWEEP, SWEEP, steps)
    for s in list(range(steps)) + list(range(steps - 2, 0, -1)):
        pixels = image_grid(grid.images[:, s], per_row, pad=4)
        body = Image.fromarray(pixels).convert("RGB")
        body = body.resize((body.width * scale, body.height * scale), Image.NEAREST)
        band = 16
        n_bands = -(-rows // per_row)
        frame = Image.new("RGB", (max(body.width, 360), HEADER + body.height + band * n_bands),
                          "white")
        draw = ImageDraw.Draw(frame)
        draw.text((6, 5), f"{title} · {ts[s]:+.1f} sd", fill=INK, font=font)
        cell_w = body.width / per_row
        cell_h = body.height / n_bands
        for r in range(rows):
            band_row, col = divmod(r, per_row)
            y = HEADER + band_row * (cell_h + band)
            frame.paste(body.crop((0, int(band_row * cell_h), body.width,
                                   int((band_row + 1) * cell_h))), (0, int(y)))
            draw.text((col * cell_w + cell_w / 2, y + cell_h + 2), row_label(grid, r).split()[0],
                      fill=INK if grid.active[r] else GREY, font=small, anchor="mt")
        frames.append(frame)
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
            traversal_png(grid, title).save(png)
            written.append(png)
        frames = traversal_frames(grid, title.split(": ")[0].rsplit(" · probe", 1)[0])
        frames[0].save(gif, save_all=True, append_images=frames[1:], duration=180, loop=0)
        written.append(gif)
    except OSError as e:
        raise fail(path, f"cannot write the traversals: {e.strerror or e}") from None
    return written
