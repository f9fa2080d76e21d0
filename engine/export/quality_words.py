"""Sample quality read back from a session: its series over epochs, and the words ``info``,
``compare`` and the window's comparison columns print.

The numbers are each snapshot's ``sample_quality`` array (FID, precision, recall)
and ``sample_quality_real`` (the same for real training images: what a perfect
model scores at this sample size); see :mod:`engine.analysis.quality_probe`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.analysis.quality_probe import (ARRAY, REAL_ARRAY, FeatureSpace, feature_space,
                                           is_score)
from engine.models import family_class

OLD_SESSION = ("not recorded: this session was written before sample quality was measured "
               "(train the run again to see it)")


@dataclass
class QualitySeries:
    """A run's sample quality over its saved epochs.

    Attributes
    ----------
    epochs : (E,) int, the saved epochs that have it.
    values : (E, 3) float, FID, precision, recall per epoch.
    real : (3,) float, the real-versus-real scores (NaN when unknown).
    space : the feature space they are measured in.
    why_not : when there are none, why ("" when there are).
    """

    epochs: np.ndarray
    values: np.ndarray
    real: np.ndarray
    space: FeatureSpace
    why_not: str = ""

    @property
    def last(self) -> np.ndarray | None:
        return self.values[-1] if len(self.values) else None


def applies(config, image_shape) -> tuple[FeatureSpace, str]:
    """(feature space, why sample quality does not apply: "" when it does) for a run."""
    traits = family_class(config).traits(config)
    space = feature_space(config.data.source, image_shape)
    if not traits.generative:
        return space, traits.missing.get(
            "samples", f"A {config.model.family} is no generative model: it draws no samples "
                       "to score.")
    return space, space.why_not


def quality_series(run) -> QualitySeries:
    """The sample quality of a stored run (:class:`~engine.session.SessionRun`) over epochs."""
    space, why = applies(run.config, run.data.image_shape)
    epochs, values, real = [], [], np.full(3, np.nan)
    if not why:
        for e in run.snapshot_epochs:
            try:
                arrays = run.snapshot(e).arrays
            except Exception:  # noqa: BLE001 - a damaged epoch is left out, the rest shown
                continue
            if ARRAY in arrays and is_score(arrays[ARRAY]):    # scored at this epoch
                epochs.append(int(e))
                values.append(np.asarray(arrays[ARRAY], np.float64).reshape(3))
                real = np.asarray(arrays.get(REAL_ARRAY, real), np.float64).reshape(3)
        if not epochs:
            why = OLD_SESSION if run.snapshot_epochs else "no epoch saved yet"
    return QualitySeries(np.asarray(epochs, np.int64),
                         np.asarray(values, np.float64).reshape(-1, 3), real, space, why)


def scores_words(values, real=None, items: str = "images") -> str:
    """``FID 12.3, precision 0.81, recall 0.55`` (with the real ``items``' in brackets:
    ``images``, or ``points`` for 2-D point data)."""
    fid, p, r = (float(v) for v in values)
    if real is None or not np.isfinite(real).all():
        return f"FID {fid:.3g}, precision {p:.2f}, recall {r:.2f}"
    return (f"FID {fid:.3g} (real {items}: {float(real[0]):.3g}), precision {p:.2f} "
            f"({float(real[1]):.2f}), recall {r:.2f} ({float(real[2]):.2f})")


def info_lines(run) -> list[str]:
    """``info``'s lines on a generative run's samples (none for a model that draws none)."""
    if not family_class(run.config).traits(run.config).generative:
        return []
    s = quality_series(run)
    if s.last is None:
        return [f"quality:   {s.why_not}"]
    items = s.space.items
    return [f"quality:   epoch {int(s.epochs[-1])}: {scores_words(s.last, s.real, items)}",
            f"measured:  {s.space.words()}; samples against the validation set, in "
            f"brackets real training {items} against it"]


def quality_table(runs) -> str | None:
    """``compare``'s table of the runs' sample quality at their last epochs, or None when
    no run has any. ``runs``: (label, SessionRun) pairs."""
    rows, notes = [], set()
    for label, run in runs:
        s = quality_series(run)
        if s.last is None:
            rows.append([label, "", "–", "–", "–", "not available"
                         if s.why_not != OLD_SESSION else "not recorded"])
            continue
        fid, p, r = s.last
        rows.append([label, str(int(s.epochs[-1])), f"{fid:.4g}", f"{p:.3f}", f"{r:.3f}",
                     s.space.name])
        notes.add("measured " + s.space.words())
    if not notes:
        return None
    head = ["run", "epoch", "FID", "precision", "recall", "measured in"]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i in (0, 5) else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths))).rstrip()
             for row in [head, *rows]]
    title = "sample quality at each run's last epoch (FID: lower is better):"
    return "\n".join([title, lines[0], "-" * len(lines[0]), *lines[1:],
                      *sorted(f"note: {n}" for n in notes)])
