"""The ``compare`` command's PNG: the runs' curves per term, their reconstructions of the same
probe images and, for a sweep, each final term against the swept value.

Drawn with matplotlib's object interface on the Agg canvas (no window, no
global pyplot state), as every figure the engine writes (:mod:`engine.export.canvas`);
its curves are plots with axes of their own, so it lays itself out rather than by pixel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.decoding import LatentDecoder
from engine.export.compared import ComparedRuns, run_colour
from engine.tiles import image_grid
from engine.session.schema import fail

PROBES = 12       # probe images per reconstruction row
TERMS_PER_ROW = 4
#: The PNG text entry that records what a comparison figure shows (its inputs, as JSON).
INPUTS_KEY = "Autoencoder Studio comparison of"


def figure_inputs(path: str | Path) -> list[str] | None:
    """The inputs a comparison PNG records (see :func:`write_comparison_png`), or None
    for any other file."""
    import json

    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            text = getattr(im, "text", {}).get(INPUTS_KEY)
        return None if text is None else list(json.loads(text))
    except (OSError, UnidentifiedImageError, ValueError, TypeError):
        return None


def swept_axis(compared: ComparedRuns) -> tuple[str, list[float]] | None:
    """The first swept field and each run's value of it, when every value is a number."""
    if not compared.swept:
        return None
    f = compared.swept[0]
    values = [r.values.get(f) for r in compared.runs]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return f, [float(v) for v in values]
    return None


def recon_rows(compared: ComparedRuns, n: int = PROBES) -> tuple[np.ndarray, list[str]]:
    """(grid image, row labels): originals then each run's reconstructions at its last epoch.

    Runs that reconstruct other probe images (or sizes) get their own originals row.
    """
    rows, labels, shown = [], [], None
    for r in compared.runs:
        run = r.run
        if not run.snapshot_epochs or not LatentDecoder.available(run.config):
            continue
        snap = run.snapshot(run.snapshot_epochs[-1])
        if "probe_recon" not in snap.images:
            continue
        probes = run.data.probe_images[:n]
        if shown is None or shown.shape != probes.shape or not np.array_equal(shown, probes):
            # Runs with the same probe images share one row of originals above them.
            shown = probes
            rows.append(probes)
            labels.append("original" if compared.same_probes() else f"{r.label}: original")
        rows.append(snap.images["probe_recon"][:n])
        labels.append(f"{r.label} (epoch {snap.epoch})")
    if not rows:
        return np.zeros((0, 0)), []
    # Rows of different sizes or channels are padded to one cell size, in colour if any is.
    c = max(a.shape[1] for a in rows)
    h = max(a.shape[2] for a in rows)
    w = max(a.shape[3] for a in rows)
    cells = []
    for a in rows:
        a = np.repeat(a, 3 if c == 3 and a.shape[1] == 1 else 1, axis=1)
        pad = np.ones((len(a), c, h, w), np.float32)
        pad[:, :, :a.shape[2], :a.shape[3]] = a
        if len(pad) < n:
            pad = np.concatenate([pad, np.ones((n - len(pad), c, h, w), np.float32)])
        cells.append(pad)
    return image_grid(np.concatenate(cells), n, pad=2), labels


def write_comparison_png(compared: ComparedRuns, path: str | Path,
                         inputs: list[str] | None = None) -> Path:
    """Draw the figure (see the module docstring) into ``path``.

    ``inputs`` (the sessions and folders compared) are recorded in the PNG, so that
    the same comparison drawn again may replace it (:func:`figure_inputs`).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    terms = compared.term_names()
    n_rows = -(-len(terms) // TERMS_PER_ROW)
    cols = min(len(terms), TERMS_PER_ROW) or 1
    sweep = swept_axis(compared)
    grid, labels = recon_rows(compared)
    heights = [2.6] * n_rows + ([0.45 * len(labels) + 0.4] if labels else []) + \
        ([2.6] * n_rows if sweep else [])
    fig = Figure(figsize=(3.6 * cols, sum(heights) + 0.9), dpi=110, layout="constrained")
    sub = fig.subfigures(len(heights), 1, height_ratios=heights) if len(heights) > 1 else [fig]
    fig.suptitle(f"{len(compared.runs)} runs compared"
                 + (f" — sweep of {', '.join(compared.swept)}" if compared.swept else ""))
    axes = _term_axes(sub[:n_rows], terms, cols, "epoch")
    for ax, term in zip(axes, terms):
        positive = True
        for i, r in enumerate(compared.runs):
            eh = r.run.epoch_history
            for part, style in (("train", "-"), ("val", "--")):
                y = eh.get(part, {}).get(term)
                if y is None or not len(y):
                    continue
                positive &= bool(np.all(y > 0))
                ax.plot(eh["epoch"], y, style, color=run_colour(i), lw=1.5,
                        label=r.label if part == "train" else None)
        if positive:
            ax.set_yscale("log")
    if axes:
        axes[0].legend(fontsize=7, title="solid: train, dashed: validation",
                       title_fontsize=7, loc="best")
    at = n_rows
    if labels:
        ax = sub[at].subplots()
        ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=255,
                  interpolation="nearest")
        cell = grid.shape[0] / len(labels)
        ax.set_yticks([(k + 0.5) * cell for k in range(len(labels))], labels, fontsize=8)
        ax.set_xticks([])
        ax.set_title("the same probe images, reconstructed by each run" if
                     compared.same_probes() else "each run's probe images and reconstructions",
                     fontsize=10)
        at += 1
    if sweep:
        field, xs = sweep
        order = np.argsort(xs)
        for ax, term in zip(_term_axes(sub[at:at + n_rows], terms, cols, field, "final "),
                            terms):
            for part, style, mark in (("val", "-", "o"), ("train", "--", "s")):
                ys = [r.final(part).get(term, np.nan) for r in compared.runs]
                ax.plot(np.array(xs)[order], np.array(ys)[order], style, marker=mark,
                        color="#333333" if part == "val" else "#999999", lw=1.3, ms=4,
                        label="validation" if part == "val" else "train")
            if min(xs) > 0 and max(xs) / min(xs) >= 10:
                ax.set_xscale("log")
            ax.legend(fontsize=7)
    try:
        import json
        meta = {INPUTS_KEY: json.dumps(inputs)} if inputs is not None else None
        FigureCanvasAgg(fig).print_png(str(path), metadata=meta)
    except OSError as e:
        raise fail(path, f"cannot write the figure: {e.strerror or e}") from None
    return path


def _term_axes(subfigs, terms: list[str], cols: int, x_label: str, title: str = "") -> list:
    """One axes per term, ``cols`` to a row, in the given subfigures, titled ``title``
    and the term."""
    axes = []
    for k, sf in enumerate(subfigs):
        row_terms = terms[k * cols:(k + 1) * cols]
        axes += list(np.atleast_1d(sf.subplots(1, cols)))[:len(row_terms)]
        for extra in list(np.atleast_1d(sf.axes))[len(row_terms):]:
            extra.set_visible(False)
    for ax, term in zip(axes, terms):
        ax.set_title(title + term, fontsize=10)
        ax.set_xlabel(x_label, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.25)
    return axes
