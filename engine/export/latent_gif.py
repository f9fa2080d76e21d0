"""The latent map and manifold of a run across its saved epochs, as an animated GIF.

``python main.py export --gif`` and the Latent trails view call
:func:`export_gif`. Every frame shows the codes in one fixed plane
(:class:`LatentPlane`), so what moves between frames is the codes, not the
axes; beside them, the images decoded on a grid in that plane. Both have
axes with their values (:mod:`engine.export.plot_axes`) and, under them, what
each point colour means. Frames are drawn with Pillow from the grids and
codes of :mod:`engine.export.figures`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.decoding import LatentDecoder
from engine.events import EpochSnapshot
from engine.export.figures import (LABEL_COLOURS, MANIFOLD_SIDE, _font, image_grid,
                                    manifold_codes)
from engine.export.plot_axes import cell_ticks, legend_strip, linear_ticks, with_axes
from engine.session.reader import SessionRun
from engine.session.schema import fail

if TYPE_CHECKING:
    from PIL import Image

GIF_PANEL = 320          # pixels per side of each half of a GIF frame
GIF_TITLE = 26           # pixels of the title strip above them


class LatentPlane:
    """A fixed 2-D view of a run's codes for every frame of the GIF.

    A 2-D latent is shown as it is; a larger one in the plane of its first two
    principal components at the last epoch, through the codes' mean there (a
    1-D latent on a line). Fixed, so what moves between frames is the codes.

    Attributes
    ----------
    centre : (D,) the point the plane goes through; ``axes`` (2, D) its directions.
    limits : ((x0, x1), (y0, y1)) that hold the codes of every epoch (and, for a
        VAE, the prior's 3 sigma).
    """

    def __init__(self, codes_by_epoch: list[np.ndarray], variational: bool):
        last = codes_by_epoch[-1].astype(np.float64)
        d = last.shape[1]
        if d <= 2:
            self.centre = np.zeros(d)
            self.axes = np.eye(2, d)
        else:
            self.centre = last.mean(0)
            _, _, vt = np.linalg.svd(last - self.centre, full_matrices=False)
            self.axes = vt[:2]
        pts = np.concatenate([self.project(c) for c in codes_by_epoch])
        lo, hi = np.percentile(pts, 1, axis=0), np.percentile(pts, 99, axis=0)
        if variational:
            lo, hi = np.minimum(lo, -3.0), np.maximum(hi, 3.0)
        span = np.maximum(hi - lo, 1e-6)
        lo, hi = lo - 0.06 * span, hi + 0.06 * span
        self.limits = ((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1])))
        self.names = (("z1", "z2") if d == 2 else ("z1", "") if d == 1 else
                      ("PC 1", "PC 2"))

    def project(self, codes: np.ndarray) -> np.ndarray:
        """(N, D) codes -> (N, 2) map points."""
        return (np.asarray(codes, np.float64) - self.centre) @ self.axes.T

    def lift(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) map points -> (N, D) codes in the plane."""
        return (self.centre + np.asarray(points, np.float64) @ self.axes).astype(np.float32)


def _map_panel(points: np.ndarray, labels: np.ndarray | None, plane: LatentPlane,
               side: int) -> "Image.Image":
    """The codes as coloured dots on a white square, the lines through 0 in grey, with
    axes."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(img)
    (x0, x1), (y0, y1) = plane.limits

    def px(x, y):
        return (x - x0) / (x1 - x0) * (side - 1), (1 - (y - y0) / (y1 - y0)) * (side - 1)

    ox, oy = px(0.0, 0.0)
    if 0 <= ox < side:
        draw.line([(ox, 0), (ox, side)], fill="#d0d0d0")
    if 0 <= oy < side:
        draw.line([(0, oy), (side, oy)], fill="#d0d0d0")
    for i, (x, y) in enumerate(points):
        u, v = px(x, y)
        colour = LABEL_COLOURS[int(labels[i]) % 10] if labels is not None else "#505050"
        draw.ellipse([u - 2, v - 2, u + 2, v + 2], fill=colour)
    draw.rectangle([0, 0, side - 1, side - 1], outline="#909090")
    return with_axes(img, linear_ticks((x0, x1), side), linear_ticks((y0, y1), side, flip=True),
                     *plane.names)


def _manifold_panel(decoder: LatentDecoder, snap: EpochSnapshot, plane: LatentPlane,
                    variational: bool, side: int) -> "Image.Image":
    """Images decoded on a grid, with axes: the export's manifold for a 2-D latent (its
    grid follows the prior's quantiles: the ticks give each marked cell's value), else
    the plane's linear grid."""
    from PIL import Image
    d = decoder.latent_dim
    if d == 2:
        codes, n = manifold_codes(snap, variational), MANIFOLD_SIDE
        xs, ys = codes[:n, 0], codes[::n, 1]          # a row's z1, a column's z2 (top first)
    else:
        n = 12
        (x0, x1), (y0, y1) = plane.limits
        gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y1, y0, n))
        xs, ys = gx[0], gy[:, 0]
        codes = plane.lift(np.stack([gx.ravel(), gy.ravel()], axis=1))
    grid = image_grid(decoder.decode(codes), n, pad=0)
    img = Image.fromarray(grid).convert("RGB").resize((side, side), Image.LANCZOS)
    return with_axes(img, cell_ticks(xs, side), cell_ticks(ys, side), *plane.names)


def latent_frames(run: SessionRun, side: int = GIF_PANEL) -> list[np.ndarray]:
    """One picture per saved epoch: the latent map (left) and the manifold (right).

    Returns
    -------
    frames : (H, W, 3) uint8 each, all the same size: the title, the two panels with their
        axes (the map alone for a 1-D latent, which has no plane to decode) and the colours'
        legend.
    """
    from PIL import Image, ImageDraw
    cfg = run.config
    _check_animatable(run)
    snaps = [run.snapshot(e) for e in run.snapshot_epochs]
    missing = [s.epoch for s in snaps if "map_latents" not in s.arrays]
    if missing:
        raise fail(run.path, f"the snapshot of epoch {missing[0]} has no map_latents: the "
                             "file is damaged or incomplete")
    variational = cfg.model.variational
    plane = LatentPlane([s.arrays["map_latents"] for s in snaps], variational)
    labels = run.data.map_labels
    font = _font(15)
    what = "map" if cfg.model.latent_dim <= 2 else "map (PCA plane of the last epoch)"
    frames = []
    for snap in snaps:
        codes = snap.arrays["map_latents"]
        lab = labels if labels is not None and len(labels) == len(codes) else None
        panels = [_map_panel(plane.project(codes), lab, plane, side)]
        if cfg.model.latent_dim >= 2:
            panels.append(_manifold_panel(run.decoder(snap.epoch), snap, plane, variational,
                                          side))
        width = sum(p.width for p in panels)
        legend = _legend(run.data, lab, width)
        frame = Image.new("RGB", (width, GIF_TITLE + max(p.height for p in panels)
                                  + (legend.height if legend else 0)), "white")
        x = 0
        for p in panels:
            frame.paste(p, (x, GIF_TITLE))
            x += p.width
        if legend is not None:
            frame.paste(legend, (0, frame.height - legend.height))
        ImageDraw.Draw(frame).text(
            (6, 5), f"{cfg.name} · epoch {snap.epoch}/{run.snapshot_epochs[-1]} · latent "
                    f"{what} | decoded manifold" + (f" (weights of epoch {snap.weights_epoch})"
                                                    if snap.weights_epoch else ""),
            fill="#202020", font=font)
        frames.append(frame)
    # One size for all (a deterministic code's quantile ticks change width between epochs).
    w, h = max(f.width for f in frames), max(f.height for f in frames)
    same = []
    for f in frames:
        canvas = Image.new("RGB", (w, h), "white")
        canvas.paste(f, (0, 0))
        same.append(np.asarray(canvas))
    return same


def _legend(data, labels: np.ndarray | None, width: int):
    """What each point colour means (None without labels: the points are grey)."""
    if labels is None:
        return None
    classes = sorted(int(c) for c in np.unique(labels))
    names = [data.label_names[c] if data.label_names and c < len(data.label_names) else str(c)
             for c in classes]
    return legend_strip(names, [LABEL_COLOURS[c % 10] for c in classes], width)


def _check_animatable(run: SessionRun) -> None:
    if not run.snapshot_epochs:
        raise fail(run.path, f"run '{run.run_id}' has no saved epoch yet: nothing to animate")
    if not LatentDecoder.available(run.config):
        raise fail(run.path, f"run '{run.run_id}' is a {run.config.model.family}: it has no "
                             "latent map to animate")


def check_gif(run: SessionRun, path: str | Path, force: bool = False) -> None:
    """Raise what :func:`export_gif` would refuse, before anything is written."""
    _check_animatable(run)
    if Path(path).exists() and not force:
        raise fail(Path(path), "already exists; pass --force to overwrite it")


def export_gif(run: SessionRun, path: str | Path, force: bool = False,
               frame_ms: int = 400) -> Path:
    """Write :func:`latent_frames` as an animated GIF (looping; the last frame held longer)."""
    from PIL import Image
    path = Path(path)
    check_gif(run, path, force)
    frames = [Image.fromarray(f) for f in latent_frames(run)]
    durations = [frame_ms] * len(frames)
    durations[-1] = max(frame_ms, 1500)
    try:
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations,
                       loop=0, optimize=False)
    except OSError as e:
        raise fail(path, f"cannot write the GIF: {e.strerror or e}") from None
    return path
