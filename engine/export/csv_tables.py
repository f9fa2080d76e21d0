"""``export --csv``: a run's loss table as CSV, for spreadsheets, pandas and R.

One row per logged training step — ``step``, ``epoch``, ``wall_time`` and
every term — with the validation means of an epoch in ``val_<term>``
columns on the row of the step that ended it (empty elsewhere), so a single
table holds every number the loss plot draws.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from engine.session.runs import SessionRun
from engine.session.schema import fail

META = ("step", "epoch", "wall_time")


def loss_rows(run: SessionRun) -> tuple[list[str], list[list]]:
    """(header, rows) of the loss table (see the module docstring).

    A run whose step history is empty (a version 1 file cut short) gets one
    row per epoch from its epoch table instead.
    """
    h, eh = run.history, run.epoch_history
    terms = [t for t in run.term_names if t in h] or list(eh.get("train", {}))
    val_terms = list(eh.get("val", {}))
    header = [*META, *terms, *(f"val_{t}" for t in val_terms)]
    val_at = {int(s): i for i, s in enumerate(eh.get("step", []))}
    rows = []
    if len(h.get("step", ())):
        for i, step in enumerate(h["step"]):
            row = [int(step), int(h["epoch"][i]), float(h["wall_time"][i])]
            row += [float(h[t][i]) for t in terms]
            j = val_at.get(int(step))
            row += [float(eh["val"][t][j]) if j is not None else "" for t in val_terms]
            rows.append(row)
    else:
        for j, epoch in enumerate(eh["epoch"]):
            row = [int(eh["step"][j]), int(epoch), float(eh["wall_time"][j])]
            row += [float(eh["train"][t][j]) for t in terms]
            row += [float(eh["val"][t][j]) for t in val_terms]
            rows.append(row)
    return header, [[_cell(v) for v in row] for row in rows]


def check_csv(path: str | Path, force: bool = False) -> None:
    """Raise what :func:`export_csv` would refuse, before anything is written."""
    path = Path(path)
    if path.exists() and not force:
        raise fail(path, "already exists; pass --force to overwrite it")


def export_csv(run: SessionRun, path: str | Path, force: bool = False) -> Path:
    """Write :func:`loss_rows` to ``path``; SessionError if it exists (without ``force``)."""
    path = Path(path)
    check_csv(path, force)
    header, rows = loss_rows(run)
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
    except OSError as e:
        raise fail(path, f"cannot write the table: {e.strerror or e}") from None
    return path


def _cell(v):
    # repr-exact floats (the table is data, not a report); NaN as an empty cell.
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(float(np.float64(v)))
    return v
