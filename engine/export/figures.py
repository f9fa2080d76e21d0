"""Figures of a session: PNGs of one epoch (reconstructions, samples, the 2-D manifold, data
space for 2-D points).

So results can go into a report without the GUI: ``python main.py export``
calls :func:`export_epoch` (and :func:`engine.export.latent_gif.export_gif`
for the animated latent map). Images are tiled into grids by :func:`engine.tiles.image_grid`,
and drawn with matplotlib (:mod:`engine.export.canvas`); the grids and codes here serve
the other figure writers too (the GIF, the compare PNG, TensorBoard, the lessons).
"""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist

import numpy as np

from engine.data.toy2d import is_point_data
from engine.decoding import LatentDecoder
from engine.events import EpochSnapshot
from engine.models import family_class
from engine.export.data_space import render_data_space
from engine.export.canvas import (FRAME_BOTTOM, FRAME_LEFT, FRAME_RIGHT, FRAME_TOP,
                                  PixelCanvas, cell_ticks, text_width)
from engine.tiles import image_grid
from engine.session.reader import SessionRun
from engine.session.schema import fail

GRID_COLUMNS = 16
MANIFOLD_SIDE = 20
#: tab10, as the window colours the map (gui/style.py LABEL_COLOURS)
LABEL_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


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


def draw_row_titles(canvas, titles: tuple[str, ...], strip: float, image_height: int,
                    pad: int = 2, scale: int = 1, size: float = 10) -> None:
    """Name each row of an :func:`image_grid` of equal bands of ``len(titles)`` rows drawn
    ``scale`` times its size right of a ``strip`` pixels wide, right-aligned in the strip."""
    n_rows = (canvas.height // scale - pad) // (image_height + pad)
    for r in range(n_rows):
        centre = (pad + r * (image_height + pad) + image_height / 2) * scale
        canvas.text(strip - 4 * scale, centre, titles[r % len(titles)], size, ha="right",
                    va="center_baseline")


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
    # Real-valued codes decode to pictures: drawn from the prior, or around the data's codes.
    if "samples" not in figures and (prior or traits.continuous_code):
        figures["samples"] = image_grid(decoder.decode(prior_codes(snap, prior, 64, cfg.seed)), 8)
    if cfg.model.latent_dim == 2 and traits.continuous_code:
        figures["manifold"] = image_grid(decoder.decode(manifold_codes(snap, prior)),
                                         MANIFOLD_SIDE, pad=0)
    return figures


def check_figures(session: SessionRun, epoch: int | None, out_dir: str | Path,
                  force: bool = False) -> int:
    """Raise what :func:`export_epoch` would refuse, before anything is drawn or written;
    returns the epoch it would draw."""
    if not session.snapshot_epochs:
        raise fail(session.path, f"run '{session.run_id}' has no snapshots to export (no "
                                 "epoch finished)")
    epoch = session.snapshot_epochs[-1] if epoch is None else epoch
    existing = sorted(Path(out_dir).glob(f"epoch{epoch:04d}_*.png"))
    if existing and not force:
        raise fail(existing[0], "already exists; pass --force to overwrite the figures")
    return epoch


def export_epoch(session: SessionRun, epoch: int | None, out_dir: str | Path,
                 force: bool = False, scale: int = 2) -> list[Path]:
    """Write the PNG figures of one epoch of a run.

    Parameters
    ----------
    session : the run (of an open session).
    epoch : a snapshot epoch; None for the last one.
    out_dir : created if missing.
    force : overwrite existing figures of the same names.
    scale : each pixel becomes scale x scale pixels (not for the data-space picture). The
        reconstructions get row titles, the manifold axes with the values of z1 and z2
        (:func:`_figure_canvas`).

    Returns
    -------
    The files written, ``epochNNNN_<figure>.png`` for each of :func:`epoch_figures`.

    Raises
    ------
    SessionError
        No snapshots, an unknown epoch, a damaged file, a family with nothing to draw,
        or a figure that exists.
    """
    epoch = check_figures(session, epoch, out_dir, force)
    figures = epoch_figures(session, epoch)
    if not figures:
        raise fail(session.path, f"run '{session.run_id}' is a {session.config.model.family}: "
                                 "it has no reconstructions or samples to draw")
    out = Path(out_dir)
    paths = {name: out / f"epoch{epoch:04d}_{name}.png" for name in figures}
    existing = [p.name for p in paths.values() if p.exists()]
    if existing and not force:
        raise fail(out / existing[0], "already exists; pass --force to overwrite the figures")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, pixels in figures.items():
            _figure_canvas(name, pixels, session, epoch, 1 if name == "data_space" else scale
                           ).save(paths[name])
    except OSError as e:
        raise fail(out, f"cannot write the figures: {e.strerror or e}") from None
    return list(paths.values())


def _figure_canvas(name: str, pixels: np.ndarray, session: SessionRun, epoch: int,
                   scale: int):
    """The picture of one of :func:`epoch_figures`, each pixel ``scale`` x ``scale``: the
    reconstructions with their rows' titles on the left, the manifold framed by the values
    of z1 and z2 (a VAE's grid follows the prior's quantiles, a deterministic code's its
    codes' percentiles: not a linear scale, so each marked column and row carries its own
    value), the others as they are."""
    h, w = pixels.shape[0] * scale, pixels.shape[1] * scale
    if name == "reconstructions":
        titles = row_titles(session.config.objective.corruption != "none")
        size = max(10, 6 * scale)
        strip = 8 * scale + int(max(text_width(t, size) for t in titles)) + 1
        canvas = PixelCanvas(strip + w, h)
        canvas.image(pixels, strip, 0, w, h)
        draw_row_titles(canvas, titles, strip, session.data.image_shape[1], scale=scale,
                        size=size)
        return canvas
    if name == "manifold":
        cfg = session.config
        prior = family_class(cfg).traits(cfg).prior_samples
        codes = manifold_codes(session.snapshot(epoch), prior)
        n = MANIFOLD_SIDE
        grid = "quantiles of N(0, 1)" if prior else "percentiles of the codes"
        canvas = PixelCanvas(FRAME_LEFT + w + FRAME_RIGHT, FRAME_TOP + h + FRAME_BOTTOM)
        canvas.framed_image(pixels, FRAME_LEFT, FRAME_TOP, w, h, cell_ticks(codes[:n, 0], w),
                            cell_ticks(codes[::n, 1], h), f"z1 (a grid of {grid})", "z2")
        return canvas
    canvas = PixelCanvas(w, h)
    canvas.image(pixels, 0, 0, w, h)
    return canvas
