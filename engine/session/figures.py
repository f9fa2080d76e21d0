"""Figures of a session: PNGs of one epoch (reconstructions, samples, the 2-D manifold, data
space for 2-D points) and an animated GIF of the latent map and manifold across epochs.

So results can go into a report without the GUI: ``python main.py export``
calls :func:`export_epoch` and :func:`export_gif`. Images are tiled into
grids with numpy, drawn and written with Pillow.
"""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from engine.data.toy2d import is_point_data
from engine.decoding import LatentDecoder
from engine.events import EpochSnapshot
from engine.models import family_class
from engine.session.data_space import render_data_space
from engine.session.reader import SessionRun
from engine.session.schema import fail

if TYPE_CHECKING:
    from PIL import Image

GRID_COLUMNS = 16
MANIFOLD_SIDE = 20
GIF_PANEL = 320          # pixels per side of each half of a GIF frame
GIF_TITLE = 26           # pixels of the title strip above them
#: tab10, as the window colours the map (gui/style.py LABEL_COLOURS)
LABEL_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def image_grid(images: np.ndarray, columns: int, pad: int = 2,
               pad_value: float = 1.0) -> np.ndarray:
    """Tile images into one picture.

    Parameters
    ----------
    images : (N, C, H, W) float in [0, 1], C = 1 (grey) or 3 (colour).
    columns : images per row.

    Returns
    -------
    (rows*(H+pad)+pad, columns*(W+pad)+pad) or (..., 3) uint8.
    """
    n, c, h, w = images.shape
    rows = max(1, -(-n // columns))
    grid = np.full((c, rows * (h + pad) + pad, columns * (w + pad) + pad), pad_value,
                   dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, columns)
        y, x = pad + r * (h + pad), pad + k * (w + pad)
        grid[:, y:y + h, x:x + w] = images[i]
    out = (np.clip(grid, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    return out[0] if c == 1 else np.moveaxis(out[:3], 0, -1)


def reconstruction_rows(original: np.ndarray, inputs: np.ndarray | None, recon: np.ndarray,
                        columns: int = GRID_COLUMNS) -> np.ndarray:
    """Bands of rows: original | encoder input | reconstruction (no input row when
    ``inputs`` is None: without corruption it is the original again).

    Parameters
    ----------
    original, inputs, recon : (P, C, H, W) in [0, 1].

    Returns
    -------
    (R*B*columns, C, H, W) images in grid order, R rows a band, B = ceil(P / columns);
    a band whose last row is short is padded with white images.
    """
    p = original.shape[0]
    bands = -(-p // columns)
    blank = np.ones((bands * columns - p, *original.shape[1:]), dtype=np.float32)
    rows = []
    for b in range(bands):
        for a in (original, inputs, recon):
            if a is None:
                continue
            part = np.concatenate([a, blank])[b * columns:(b + 1) * columns]
            rows.append(part)
    return np.concatenate(rows)


def row_titles(corrupted: bool) -> tuple[str, ...]:
    """The titles of one band's rows, as :func:`reconstruction_rows` orders them."""
    return ("original", "noisy input", "reconstruction") if corrupted else (
        "original", "reconstruction")


def with_row_titles(pixels: np.ndarray, titles: tuple[str, ...], image_height: int,
                    pad: int = 2, scale: int = 1) -> np.ndarray:
    """``pixels`` (an :func:`image_grid` of equal bands of ``len(titles)`` rows, already
    scaled by ``scale``) with a white strip on the left naming each row.

    Returns
    -------
    (H, W + strip) or (H, W + strip, 3) uint8, the mode of ``pixels``.
    """
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=max(10, 6 * scale))
    strip = 8 * scale + max(int(font.getlength(t)) for t in titles)
    h = pixels.shape[0]
    colour = pixels.ndim == 3
    out = np.full((h, pixels.shape[1] + strip, *pixels.shape[2:]), 255, np.uint8)
    out[:, strip:] = pixels
    img = Image.fromarray(out)
    draw = ImageDraw.Draw(img)
    n_rows = (h // scale - pad) // (image_height + pad)
    for r in range(n_rows):
        centre = (pad + r * (image_height + pad) + image_height / 2) * scale
        draw.text((strip - 4 * scale, centre), titles[r % len(titles)],
                  fill=(48, 48, 48) if colour else 48, font=font, anchor="rm")
    return np.asarray(img)


def prior_codes(snapshot: EpochSnapshot, variational: bool, n: int, seed: int) -> np.ndarray:
    """(n, D) codes to decode as samples.

    A VAE samples its prior N(0, I). A deterministic autoencoder has no prior,
    so codes are drawn from a Gaussian fitted to its validation codes.
    """
    rng = np.random.default_rng(seed)
    codes = snapshot.arrays["map_latents"]
    d = codes.shape[1]
    if variational or len(codes) < 2:
        return rng.standard_normal((n, d)).astype(np.float32)
    z = codes.astype(np.float64)
    cov = np.atleast_2d(np.cov(z, rowvar=False)) + 1e-6 * np.eye(d)
    return rng.multivariate_normal(z.mean(0), cov, size=n).astype(np.float32)


def manifold_codes(snapshot: EpochSnapshot, variational: bool,
                   side: int = MANIFOLD_SIDE) -> np.ndarray:
    """(side*side, 2) codes on a grid, top row = largest z2.

    A VAE's grid follows the prior's quantiles (5 % to 95 %), as in Kingma &
    Welling's figure; a deterministic model's spans 2 % to 98 % of its codes.
    """
    q = np.linspace(0.05, 0.95, side)
    if variational:
        axis = np.array([NormalDist().inv_cdf(v) for v in q])
        xs = ys = axis
    else:
        z = snapshot.arrays["map_latents"]
        xs = np.percentile(z[:, 0], np.linspace(2, 98, side))
        ys = np.percentile(z[:, 1], np.linspace(2, 98, side))
    gx, gy = np.meshgrid(xs, ys[::-1])
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


def epoch_figures(session: SessionRun, epoch: int) -> dict[str, np.ndarray]:
    """The pictures of one epoch of a run, by name: what its family has.

    ``reconstructions`` (probe images through the model), ``samples`` (codes
    from the prior N(0, I) decoded, or an RBM's Gibbs samples), ``manifold``
    (a 2-D latent's grid decoded) and, for 2-D points, ``data_space``.
    """
    cfg = session.config
    traits = family_class(cfg).traits(cfg)
    snap = session.snapshot(epoch)
    figures: dict[str, np.ndarray] = {}
    if is_point_data(session.data.image_shape):
        figures["data_space"] = render_data_space(
            snap.arrays, session.data.probe_images.reshape(-1, 2))
        return figures
    if traits.reconstructs:
        for name in ("probe_inputs", "probe_recon"):
            if name not in snap.images:
                raise fail(session.path, f"the snapshot of epoch {epoch} of run "
                                         f"'{session.run_id}' has no {name} (snapshots/images/"
                                         f"{name} is missing): the file is damaged or incomplete")
        # The encoder's inputs only when they differ from the originals (denoising).
        corrupted = cfg.objective.corruption != "none"
        figures["reconstructions"] = image_grid(reconstruction_rows(
            session.data.probe_images, snap.images["probe_inputs"] if corrupted else None,
            snap.images["probe_recon"]), GRID_COLUMNS)
    if "gibbs_samples" in snap.images:
        figures["samples"] = image_grid(snap.images["gibbs_samples"], 6)
    if not LatentDecoder.available(cfg) or "map_latents" not in snap.arrays:
        return figures
    decoder: LatentDecoder = session.decoder(epoch)
    prior = traits.prior_samples
    if "samples" not in figures and (prior or cfg.model.family == "autoencoder"):
        figures["samples"] = image_grid(decoder.decode(prior_codes(snap, prior, 64, cfg.seed)), 8)
    if cfg.model.latent_dim == 2 and cfg.model.family != "rbm":
        figures["manifold"] = image_grid(decoder.decode(manifold_codes(snap, prior)),
                                         MANIFOLD_SIDE, pad=0)
    return figures


def export_epoch(session: SessionRun, epoch: int | None, out_dir: str | Path,
                 force: bool = False, scale: int = 2) -> list[Path]:
    """Write the PNG figures of one epoch of a run.

    Parameters
    ----------
    session : the run (of an open session).
    epoch : a snapshot epoch; None for the last one.
    out_dir : created if missing.
    force : overwrite existing figures of the same names.
    scale : each pixel becomes scale x scale pixels (not for the data-space picture).

    Returns
    -------
    The files written, ``epochNNNN_<figure>.png`` for each of :func:`epoch_figures`.

    Raises
    ------
    SessionError
        No snapshots, an unknown epoch, a damaged file, a family with nothing to draw,
        or a figure that exists.
    """
    from PIL import Image

    if not session.snapshot_epochs:
        raise fail(session.path, f"run '{session.run_id}' has no snapshots to export (no "
                                 "epoch finished)")
    epoch = session.snapshot_epochs[-1] if epoch is None else epoch
    figures = epoch_figures(session, epoch)
    if not figures:
        raise fail(session.path, f"run '{session.run_id}' is a {session.config.model.family}: "
                                 "it has no reconstructions or samples to draw")
    corrupted = session.config.objective.corruption != "none"
    image_height = session.data.image_shape[1]
    out = Path(out_dir)
    paths = {name: out / f"epoch{epoch:04d}_{name}.png" for name in figures}
    existing = [p.name for p in paths.values() if p.exists()]
    if existing and not force:
        raise fail(out / existing[0], "already exists; pass --force to overwrite the figures")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, pixels in figures.items():
            img = Image.fromarray(pixels)
            if scale > 1 and name != "data_space":
                img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
            if name == "reconstructions":   # titles drawn at the final size: sharp text
                img = Image.fromarray(with_row_titles(np.asarray(img), row_titles(corrupted),
                                                      image_height, scale=scale))
            img.save(paths[name])
    except OSError as e:
        raise fail(out, f"cannot write the figures: {e.strerror or e}") from None
    return list(paths.values())


# -- the latent map and manifold across epochs (GIF) -----------------------------------------

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

    def project(self, codes: np.ndarray) -> np.ndarray:
        """(N, D) codes -> (N, 2) map points."""
        return (np.asarray(codes, np.float64) - self.centre) @ self.axes.T

    def lift(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) map points -> (N, D) codes in the plane."""
        return (self.centre + np.asarray(points, np.float64) @ self.axes).astype(np.float32)


def _font(size: int):
    from PIL import ImageFont
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def _map_panel(points: np.ndarray, labels: np.ndarray | None, plane: LatentPlane,
               side: int) -> "Image.Image":
    """The codes as coloured dots on a white square, with the axes through 0 dotted."""
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
    return img


def _manifold_panel(decoder: LatentDecoder, snap: EpochSnapshot, plane: LatentPlane,
                    variational: bool, side: int) -> "Image.Image":
    """Images decoded on a grid: the export's manifold for a 2-D latent, else the plane's."""
    from PIL import Image
    d = decoder.latent_dim
    if d == 2:
        codes, n = manifold_codes(snap, variational), MANIFOLD_SIDE
    else:
        n = 12
        (x0, x1), (y0, y1) = plane.limits
        gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y1, y0, n))
        codes = plane.lift(np.stack([gx.ravel(), gy.ravel()], axis=1))
    grid = image_grid(decoder.decode(codes), n, pad=0)
    img = Image.fromarray(grid).convert("RGB")
    return img.resize((side, side), Image.LANCZOS)


def latent_frames(run: SessionRun, side: int = GIF_PANEL) -> list[np.ndarray]:
    """One picture per saved epoch: the latent map (left) and the manifold (right).

    Returns
    -------
    frames : (GIF_TITLE + side, 2 * side, 3) uint8 each (the map alone, (.., side, 3),
        for a 1-D latent, which has no plane to decode).
    """
    from PIL import Image, ImageDraw
    cfg = run.config
    if not run.snapshot_epochs:
        raise fail(run.path, f"run '{run.run_id}' has no saved epoch yet: nothing to animate")
    if not LatentDecoder.available(cfg):
        raise fail(run.path, f"run '{run.run_id}' is a {cfg.model.family}: it has no latent "
                             "map to animate")
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
        frame = Image.new("RGB", (side * len(panels), side + GIF_TITLE), "white")
        for i, p in enumerate(panels):
            frame.paste(p, (i * side, GIF_TITLE))
        ImageDraw.Draw(frame).text(
            (6, 5), f"{cfg.name} · epoch {snap.epoch}/{run.snapshot_epochs[-1]} · latent "
                    f"{what} | decoded manifold", fill="#202020", font=font)
        frames.append(np.asarray(frame))
    return frames


def export_gif(run: SessionRun, path: str | Path, force: bool = False,
               frame_ms: int = 400) -> Path:
    """Write :func:`latent_frames` as an animated GIF (looping; the last frame held longer)."""
    from PIL import Image
    path = Path(path)
    if path.exists() and not force:
        raise fail(path, "already exists; pass --force to overwrite it")
    frames = [Image.fromarray(f) for f in latent_frames(run)]
    durations = [frame_ms] * len(frames)
    durations[-1] = max(frame_ms, 1500)
    try:
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations,
                       loop=0, optimize=False)
    except OSError as e:
        raise fail(path, f"cannot write the GIF: {e.strerror or e}") from None
    return path
