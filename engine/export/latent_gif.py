"""The latent map and manifold of a run across its saved epochs, as an animated GIF.

``python main.py export --gif`` and the Latent trails view call
:func:`export_gif`. Every frame shows the codes in one fixed plane
(:class:`LatentPlane`), so what moves between frames is the codes, not the
axes; beside them, the images decoded on a grid in that plane. Both have
axes with their values and, under them, what each point colour means. Frames
are drawn with matplotlib (:mod:`engine.export.canvas`) from the grids and
codes of :mod:`engine.export.figures`; Pillow writes the GIF.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.decoding import LatentDecoder
from engine.events import EpochSnapshot
from engine.export.figures import LABEL_COLOURS, MANIFOLD_SIDE, manifold_codes
from engine.export.canvas import (FRAME_BOTTOM, FRAME_LEFT, FRAME_RIGHT, FRAME_TOP,
                                  PixelCanvas, cell_ticks, save_gif)
from engine.tiles import image_grid
from engine.session.reader import SessionRun
from engine.session.schema import fail

GIF_PANEL = 320          # pixels per side of each half of a GIF frame
GIF_TITLE = 26           # pixels of the title strip above them
LEGEND = 28              # pixels of the colours' legend under them


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


def _map_panel(canvas, left: float, points: np.ndarray, labels: np.ndarray | None,
               plane: LatentPlane, side: int) -> None:
    """The codes as coloured dots in a square with axes, the lines through 0 in grey."""
    ax = canvas.framed(left, GIF_TITLE + FRAME_TOP, side, side, *plane.names)
    (x0, x1), (y0, y1) = plane.limits
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.axvline(0.0, color="#d0d0d0", lw=1, zorder=0)
    ax.axhline(0.0, color="#d0d0d0", lw=1, zorder=0)
    colours = ([LABEL_COLOURS[int(c) % 10] for c in labels] if labels is not None
               else "#505050")
    ax.scatter(points[:, 0], points[:, 1], s=16, c=colours, linewidths=0)


def _manifold_panel(canvas, left: float, decoder: LatentDecoder, snap: EpochSnapshot,
                    plane: LatentPlane, variational: bool, side: int) -> None:
    """Images decoded on a grid, with axes: the export's manifold for a 2-D latent (its
    grid follows the prior's quantiles: the ticks give each marked cell's value), else
    the plane's linear grid."""
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
    canvas.framed_image(grid, left, GIF_TITLE + FRAME_TOP, side, side, cell_ticks(xs, side),
                        cell_ticks(ys, side), *plane.names, smooth=True)


def latent_frames(run: SessionRun, side: int = GIF_PANEL) -> list[np.ndarray]:
    """One picture per saved epoch: the latent map (left) and the manifold (right).

    Returns
    -------
    frames : (H, W, 3) uint8 each, all the same size: the title, the two panels with their
        axes (the map alone for a 1-D latent, which has no plane to decode) and the colours'
        legend.
    """
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
    what = "map" if cfg.model.latent_dim <= 2 else "map (PCA plane of the last epoch)"
    panel = FRAME_LEFT + side + FRAME_RIGHT
    n_panels = 2 if cfg.model.latent_dim >= 2 else 1
    frames = []
    for snap in snaps:
        codes = snap.arrays["map_latents"]
        lab = labels if labels is not None and len(labels) == len(codes) else None
        legend = _legend(run.data, lab)
        canvas = PixelCanvas(n_panels * panel, GIF_TITLE + FRAME_TOP + side + FRAME_BOTTOM
                             + (LEGEND if labels is not None else 0))
        canvas.text(6, 5, f"{cfg.name} · epoch {snap.epoch}/{run.snapshot_epochs[-1]} · "
                          f"latent {what} | decoded manifold" + (
                              f" (weights of epoch {snap.weights_epoch})"
                              if snap.weights_epoch else ""), 15, colour="#202020")
        _map_panel(canvas, FRAME_LEFT, plane.project(codes), lab, plane, side)
        if n_panels == 2:
            _manifold_panel(canvas, panel + FRAME_LEFT, run.decoder(snap.epoch), snap, plane,
                            variational, side)
        if legend is not None:
            canvas.legend(*legend)
        frames.append(canvas.to_array())
    return frames


def _legend(data, labels: np.ndarray | None) -> tuple[list[str], list[str]] | None:
    """(names, colours) of what each point colour means (None without labels: the points
    are grey)."""
    if labels is None:
        return None
    classes = sorted(int(c) for c in np.unique(labels))
    names = [data.label_names[c] if data.label_names and c < len(data.label_names) else str(c)
             for c in classes]
    return names, [LABEL_COLOURS[c % 10] for c in classes]


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
    path = Path(path)
    check_gif(run, path, force)
    frames = latent_frames(run)
    durations = [frame_ms] * len(frames)
    durations[-1] = max(frame_ms, 1500)
    try:
        save_gif(frames, path, durations)
    except OSError as e:
        raise fail(path, f"cannot write the GIF: {e.strerror or e}") from None
    return path
