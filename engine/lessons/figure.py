"""One PNG per lesson that shows its effect: the claim's numbers as bars, each run's images.

Drawn with matplotlib by pixel, as the export figures are
(:mod:`engine.export.canvas`): a heading with the lesson's title and the
claim's sentence; bars of the numbers that decide the claim, one group per
quantity; then a row per run — its probe images and their reconstructions
(and, for the identity lessons, uniform noise and what the run makes of it),
its samples, or its points in data space.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Sequence

import numpy as np

from engine.analysis.identity_probe import NOISE_IMAGES
from engine.data.toy2d import is_point_data
from engine.errors import SessionError
from engine.models import family_class
from engine.session import Session
from engine.export.canvas import PixelCanvas
from engine.export.figures import LABEL_COLOURS
from engine.tiles import image_grid

WIDTH = 1100
MARGIN = 16
IMAGES_SHOWN = 12
SCALE = 2
#: measure -> groups of bars: (title, [value keys]); keys absent from the values are left out
BARS: dict[str, list[tuple[str, list[str]]]] = {
    "reconstruction_improves": [("reconstruction error (MSE per pixel)",
                                 ["error_first_epoch", "error_last_epoch"])],
    "identity_risk": [("share of the noise not copied (identity ratio)",
                       ["identity_ratio_undercomplete", "identity_ratio_overcomplete"]),
                      ("noise-reconstruction error", ["noise_error_undercomplete",
                                                      "noise_error_overcomplete"]),
                      ("digit-reconstruction error", ["digit_error_undercomplete",
                                                      "digit_error_overcomplete"])],
    "identity_removed": [("share of the noise not copied (identity ratio)",
                          ["identity_ratio_*"]),
                         ("noise-reconstruction error", ["noise_error_*"]),
                         ("digit-reconstruction error", ["digit_error_*"])],
    "sparsity": [("fraction of code activations at zero",
                  ["zero_fraction_without", "zero_fraction_with"])],
    "contractive": [("Jacobian norm ||dh/dx||_F",
                     ["jacobian_norm_plain", "jacobian_norm_contractive"])],
    "denoising": [("error on corrupted digits vs clean", ["error_plain", "error_denoising"])],
    "likelihoods": [("bits per pixel (8-bit grey levels)", ["bits_per_pixel_*"])],
    "stochastic_codes": [("spread of the stochastic encoders",
                          ["vae_posterior_std", "rbm_hidden_std"])],
    "pretraining_gain": [("validation accuracy (mean over seeds)",
                          ["pretrained_mean", "random_mean"])],
    "greedy_vs_rbm": [("validation accuracy", ["ae_accuracy", "dbn_accuracy",
                                               "random_accuracy"])],
    "explicit_implicit": [("samples near a mode", ["vae_on_data", "gan_on_data"]),
                          ("modes covered (of 8)", ["vae_modes", "gan_modes"])],
    "beta_tension": [("active units", ["active_units_*"]), ("KL (nats)", ["kl_*"]),
                     ("reconstruction (nats)", ["recon_*"])],
    "disentanglement_beta": [("MIG (mutual information gap)", ["mig_*"]),
                             ("DCI disentanglement", ["dci_disentanglement_*"]),
                             ("FactorVAE score", ["factor_vae_*"]),
                             ("I(x; z) (nats)", ["mutual_information_*"])],
}
IDENTITY_MEASURES = ("identity_risk", "identity_removed")


def _keys(values: dict, wanted: list[str]) -> list[str]:
    out = []
    for w in wanted:
        if w.endswith("*"):
            out += [k for k in values if k.startswith(w[:-1])]
        elif w in values:
            out.append(w)
    return out


def bar_names(keys: list[str]) -> dict[str, str]:
    """Words for a group's value keys: their shared prefix dropped (the group's title
    says it), underscores as spaces — ``zero_fraction_with`` beside ``zero_fraction_without``
    is "with" and "without"."""
    if len(keys) < 2:
        return {k: k.replace("_", " ") for k in keys}
    parts = [k.split("_") for k in keys]
    shared = 0
    while all(len(p) > shared + 1 and p[shared] == parts[0][shared] for p in parts):
        shared += 1
    if shared and all(_is_number(p[-1]) for p in parts) and all(len(p) - shared < 2
                                                               for p in parts):
        shared -= 1   # a bare "0.5" says nothing: keep the word before it ("beta 0.5")
    return {k: " ".join(p[shared:]) for k, p in zip(keys, parts)}


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


class Panel:
    """A strip of the figure, ``height`` pixels high: ``draw(canvas, top)`` draws it there."""

    def __init__(self, height: int, draw):
        self.height, self.draw = height, draw


def _bars(title: str, items: list[tuple[str, float]], width: int) -> Panel:
    """A panel of horizontal bars, one per (name, value), on one scale from 0."""
    row = 22
    top = max([abs(v) for _, v in items if np.isfinite(v)] or [1.0]) or 1.0
    name_w = 260
    bar_w = width - name_w - 120

    def draw(canvas, y0):
        canvas.text(MARGIN, y0 + 4, title, 14, "#141414")
        for i, (name, v) in enumerate(items):
            y = y0 + 28 + i * row
            canvas.text(MARGIN + name_w - 8, y + row / 2, name, 12, "#3c3c3c", ha="right",
                        va="center")
            length = 0 if not np.isfinite(v) else max(1, bar_w * abs(v) / top)
            if length:
                canvas.rectangle(MARGIN + name_w, y + 3, length, row - 6,
                                 LABEL_COLOURS[i % len(LABEL_COLOURS)])
            canvas.text(MARGIN + name_w + length + 6, y + row / 2, f"{v:.4g}", 12, "#141414",
                        va="center")
    return Panel(28 + row * len(items), draw)


def _labelled(label: str, pixels: np.ndarray, width: int) -> Panel:
    """A grid of images, each pixel SCALE x SCALE, under its label."""
    def draw(canvas, y):
        canvas.text(MARGIN, y + 2, label, 13, "#141414")
        canvas.image(pixels, MARGIN, y + 20, pixels.shape[1] * SCALE, pixels.shape[0] * SCALE)
    return Panel(pixels.shape[0] * SCALE + 22, draw)


def _points(label: str, arrays: dict, width: int, side: int = 220) -> Panel:
    """Real points (grey) and generated or reconstructed ones (colour) in the unit square."""
    def draw(canvas, y):
        canvas.text(MARGIN, y + 2, label, 13, "#141414")
        x0 = MARGIN
        for name, colour in (("recon_points", LABEL_COLOURS[0]),
                             ("generated_points", LABEL_COLOURS[1])):
            if name not in arrays:
                continue
            ax = canvas.axes(x0, y + 20, side, side)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color("#909090")
            real = np.asarray(arrays.get("real_points", np.zeros((0, 2))))[:600]
            ax.scatter(real[:, 0], real[:, 1], s=1, c="#b0b0b0", linewidths=0)
            pts = np.asarray(arrays[name])[:600]
            ax.scatter(pts[:, 0], pts[:, 1], s=9, c=colour, linewidths=0)
            canvas.text(x0 + 4, y + 24, name.replace("_", " "), 11, "#3c3c3c")
            x0 += side + 12
    return Panel(side + 22, draw)


def _run_panels(path: Path, identity: bool, width: int,
                first_epoch: bool = False) -> list[Panel]:
    """The images of a session's primary run at its last snapshot (none for a
    comparison: its numbers are in the bars)."""
    panels = []
    with Session.open(path) as s:
        run = s.run()
        traits = family_class(run.config).traits(run.config)
        if not run.snapshot_epochs or not (traits.reconstructs or traits.generative):
            return panels      # a classifier: it draws nothing, its numbers are the bars
        epoch = run.snapshot_epochs[-1]
        snap = run.snapshot(epoch)
        label = f"{path.stem}: {run.config.kind_label()}, epoch {epoch}"
        if is_point_data(run.data.image_shape):
            return [_points(label, snap.arrays, width)]
        rows = []
        x = run.data.probe_images[:IMAGES_SHOWN]
        for name in ("probe_inputs", "probe_recon", "gibbs_samples", "samples"):
            if name in snap.images and not (name == "probe_inputs"
                                            and _same_images(snap.images[name], x)):
                rows.append(snap.images[name][:IMAGES_SHOWN])
        if identity and "identity_inputs" in snap.images:
            rows += [snap.images["identity_inputs"][:NOISE_IMAGES],
                     snap.images["identity_recon"][:NOISE_IMAGES]]
        if "probe_recon" in snap.images:
            rows.insert(0, x)
            if first_epoch and len(run.snapshot_epochs) > 1:   # how far it came
                early = run.snapshot(run.snapshot_epochs[0]).images["probe_recon"]
                rows.insert(1, early[:IMAGES_SHOWN])
        if rows:
            rows = [_padded(r[:IMAGES_SHOWN]) for r in rows]   # one grid row each
            grid = image_grid(np.concatenate(rows), IMAGES_SHOWN)
            words = _row_words(snap, identity, x)
            if first_epoch and len(run.snapshot_epochs) > 1:
                words = words.replace("reconstruction", f"reconstruction after epoch "
                                      f"{run.snapshot_epochs[0]}, after epoch {epoch}", 1)
            panels.append(_labelled(label + "   (rows: " + words + ")", grid, width))
    return panels


def _same_images(stored: np.ndarray, x: np.ndarray) -> bool:
    """Whether a snapshot's input row is the probe images themselves: the session keeps
    images in 8 bits, so a clean input differs from them by up to half a level."""
    return bool(np.allclose(stored[:len(x)], x, rtol=0.0, atol=0.6 / 255))


def _padded(row: np.ndarray) -> np.ndarray:
    """A row of images filled up to IMAGES_SHOWN with white ones."""
    missing = IMAGES_SHOWN - len(row)
    if missing <= 0:
        return row
    return np.concatenate([row, np.ones((missing, *row.shape[1:]), row.dtype)])


def _row_words(snap, identity: bool, x) -> str:
    words = []
    if "probe_recon" in snap.images:
        words.append("inputs")
    if "probe_inputs" in snap.images and not _same_images(snap.images["probe_inputs"], x):
        words.append("corrupted input")
    for name, w in (("probe_recon", "reconstruction"), ("gibbs_samples", "Gibbs samples"),
                    ("samples", "samples")):
        if name in snap.images:
            words.append(w)
    if identity and "identity_inputs" in snap.images:
        words += ["uniform noise", "its reconstruction"]
    return ", ".join(words)


def lesson_figure(lesson, paths: Sequence[Path], png_path: str | Path, claim=None) -> Path:
    """Write the lesson's figure to ``png_path`` and return it.

    ``claim`` is the :class:`~engine.lessons.claims.ClaimResult` (measured here when None).

    Raises
    ------
    SessionError
        When the PNG cannot be written.
    """
    if claim is None:
        from engine.lessons.claims import measure_claim
        claim = measure_claim(lesson, paths)
    inner = WIDTH - 2 * MARGIN
    panels = []
    for title, wanted in BARS.get(lesson.measure, []):
        keys = _keys(claim.values, wanted)
        if keys:
            names = bar_names(keys)
            panels.append(_bars(title, [(names[k], float(claim.values[k])) for k in keys],
                                inner))
    for p in paths:
        panels += _run_panels(Path(p), lesson.measure in IDENTITY_MEASURES, inner,
                              first_epoch=lesson.measure == "reconstruction_improves")
    body = textwrap.wrap(claim.sentence, 140)
    claim_lines = textwrap.wrap(f"“{lesson.claim}”", 140)
    head = 34 + 18 * (len(claim_lines) + len(body)) + 12
    canvas = PixelCanvas(WIDTH, head + sum(p.height + 10 for p in panels) + MARGIN)
    canvas.text(MARGIN, MARGIN, f"Lesson {lesson.number}: {lesson.title}", 20, "#0a0a0a")
    y = MARGIN + 30
    for line in claim_lines:
        canvas.text(MARGIN, y, line, 13, "#5a5a5a")
        y += 18
    colour = "#146e28" if claim.holds else "#aa281e"
    for line in body:
        canvas.text(MARGIN, y, line, 13, colour)
        y += 18
    y = head
    for p in panels:
        p.draw(canvas, y)
        y += p.height + 10
    png_path = Path(png_path)
    try:
        canvas.save(png_path)
    except OSError as e:
        raise SessionError(f"cannot write the figure {png_path}: {e.strerror or e}") from None
    return png_path
