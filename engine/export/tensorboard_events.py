"""``export --tensorboard DIR``: a run as TensorBoard event files, beside people's other runs.

Scalars ``train/<term>`` at every logged step and ``val/<term>`` at each
epoch's last step, the probe reconstructions of every saved epoch as the
image ``reconstructions`` (rows: original, encoder input, reconstruction),
and the run's config as the text ``config``. Wall times are the session's
creation time plus the run's training time, so TensorBoard's "relative"
axis shows training seconds.

A run goes into its own folder under ``DIR`` (``DIR/<session name>``, with
``-<run id>`` for a session of several runs), so ``tensorboard --logdir DIR``
lists it as a run among others. Written with ``torch.utils.tensorboard``,
which needs the ``tensorboard`` package (the ``export`` extra).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from engine.decoding import LatentDecoder
from engine.extras import require
from engine.export.figures import GRID_COLUMNS, reconstruction_rows
from engine.tiles import image_grid
from engine.session.runs import SessionRun
from engine.session.schema import MAIN_RUN, fail


def tensorboard_folder(run: SessionRun, out_dir: Path) -> Path:
    """Where a run's event files go under ``out_dir``."""
    stem = run.path.stem
    several = len(run.session.runs) > 1 or run.run_id != MAIN_RUN
    return out_dir / (f"{stem}-{run.run_id}" if several else stem)


def check_tensorboard(run: SessionRun, out_dir: str | Path, force: bool = False) -> list[Path]:
    """Raise what :func:`export_tensorboard` would refuse, before anything is written;
    returns the event files it would replace."""
    require("tensorboard", "--tensorboard")
    folder = tensorboard_folder(run, Path(out_dir))
    old = sorted(folder.glob("events.out.tfevents.*")) if folder.is_dir() else []
    if old and not force:
        raise fail(folder, "already holds TensorBoard event files; pass --force to replace "
                           "them (or choose another folder)")
    return old


def export_tensorboard(run: SessionRun, out_dir: str | Path, force: bool = False) -> Path:
    """Write the run's event files; returns their folder.

    Raises
    ------
    SessionError
        The run's folder already holds event files (without ``force``, which
        replaces them: TensorBoard would otherwise show every value twice).
    MissingExtra
        ``tensorboard`` is not installed.
    """
    old = check_tensorboard(run, out_dir, force)
    from torch.utils.tensorboard import SummaryWriter

    folder = tensorboard_folder(run, Path(out_dir))
    try:
        if old:
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise fail(folder, f"cannot write here: {e.strerror or e}") from None
    start = run.session.created.timestamp() if hasattr(run.session, "created") else 0.0
    h, eh = run.history, run.epoch_history
    with SummaryWriter(log_dir=str(folder)) as tb:
        tb.add_text("config", "```json\n" + run.config.to_json() + "\n```", 0, walltime=start)
        for i, step in enumerate(h.get("step", ())):
            t = start + float(h["wall_time"][i])
            for term in run.term_names:
                if term in h:
                    tb.add_scalar(f"train/{term}", float(h[term][i]), int(step), walltime=t)
        for j, step in enumerate(eh.get("step", ())):
            t = start + float(eh["wall_time"][j])
            for term, values in eh.get("val", {}).items():
                if np.isfinite(values[j]):
                    tb.add_scalar(f"val/{term}", float(values[j]), int(step), walltime=t)
        if LatentDecoder.available(run.config):
            steps = dict(zip((int(e) for e in eh["epoch"]), (int(s) for s in eh["step"])))
            for epoch in run.snapshot_epochs:
                snap = run.snapshot(epoch)
                if "probe_recon" not in snap.images:
                    continue
                # The input row only when it differs from the originals (corrupted inputs).
                inputs = (snap.images.get("probe_inputs")
                          if run.config.objective.corruption != "none" else None)
                grid = image_grid(reconstruction_rows(
                    run.data.probe_images, inputs, snap.images["probe_recon"]), GRID_COLUMNS)
                tb.add_image("reconstructions", grid, steps.get(epoch, snap.step),
                             dataformats="HW" if grid.ndim == 2 else "HWC")
    return folder
