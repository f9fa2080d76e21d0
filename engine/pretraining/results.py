"""Writing a pretrained-vs-random comparison: into an HDF5 file, or as JSON.

HDF5 layout, under ``/finetune`` of the given file (a pretraining file, an
ordinary session, or a new file of format ``autoencoder-studio-finetune``)::

    /finetune             attrs: source (description), encoder_file, classifier_json,
                                 budget_names (JSON list), frozen, epochs, outcome
    /finetune/table/<col> (R,) budgets, pretrained_accuracy, random_accuracy,
                          pretrained_loss, random_loss
    /finetune/runs/<init>/<budget>/   attrs outcome, val_accuracy, val_loss;
                          epoch, train_loss, train_accuracy, val_loss, val_accuracy (E,);
                          confusion (K, K) int64; train_idx (budget,) int64

Adding to an existing file copies it, changes the copy and renames it over
the original, so the file is never left half-written. A ``/finetune``
group already there is replaced.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np

import engine
from engine.errors import SessionError
from engine.pretraining.comparison import ComparisonResult
from engine.pretraining.storage import commit_copy, put
from engine.session.reader import open_h5_for_reading

FINETUNE_FORMAT = "autoencoder-studio-finetune"
TABLE_COLUMNS = ("budgets", "pretrained_accuracy", "random_accuracy", "pretrained_loss",
                 "random_loss")
HISTORY_KEYS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy")


def comparison_dict(result: ComparisonResult, source: str = "") -> dict[str, Any]:
    """Everything about a comparison as JSON-ready Python values (NaN becomes null)."""

    def num(v: float) -> float | None:
        return None if not np.isfinite(v) else float(v)

    t = result.table
    return {
        "source": source,
        "classifier": result.config.to_dict(),
        "outcome": result.outcome,
        "table": [{"labels": name, "budget": int(b),
                   "pretrained_accuracy": num(t.pretrained_accuracy[i]),
                   "random_accuracy": num(t.random_accuracy[i]),
                   "pretrained_loss": num(t.pretrained_loss[i]),
                   "random_loss": num(t.random_loss[i])}
                  for i, (name, b) in enumerate(zip(result.budget_names, result.budgets))],
        "runs": [{"init": r.init, "budget": r.budget, "outcome": r.outcome,
                  "val_accuracy": num(r.val_accuracy), "val_loss": num(r.val_loss),
                  "history": {k: [num(v) for v in vals] for k, vals in r.history.items()},
                  "confusion": None if r.confusion is None else r.confusion.tolist(),
                  "train_idx": r.train_idx.tolist()}
                 for r in result.runs.values()],
    }


def write_comparison_json(path: str | Path, result: ComparisonResult, source: str = "") -> None:
    path = Path(path)
    try:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(comparison_dict(result, source), indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise SessionError(f"{path.name}: cannot write the comparison: {e.strerror or e}") from None


def write_comparison_h5(path: str | Path, result: ComparisonResult, source: str = "",
                        encoder_file: str = "") -> None:
    """Put the comparison under ``/finetune`` of ``path`` (created when missing)."""
    path = Path(path)
    fresh = not path.exists()

    def change(f: h5py.File) -> None:
        if fresh:
            f.attrs["format"] = FINETUNE_FORMAT
            f.attrs["format_version"] = 1
            f.attrs["app_version"] = engine.__version__
            f.attrs["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        if "finetune" in f:
            del f["finetune"]
        g = f.create_group("finetune")
        t = result.table
        g.attrs.update({"source": source, "encoder_file": encoder_file,
                        "classifier_json": json.dumps(result.config.to_dict()),
                        "budget_names": json.dumps(result.budget_names),
                        "frozen": bool(t.frozen), "epochs": int(t.epochs),
                        "outcome": result.outcome})
        table = g.create_group("table")
        for col in TABLE_COLUMNS:
            put(table, col, np.asarray(getattr(t, col)))
        runs = g.create_group("runs")
        for run in result.runs.values():
            r = runs.require_group(run.init).create_group(str(run.budget))
            r.attrs.update({"outcome": run.outcome, "val_accuracy": float(run.val_accuracy),
                            "val_loss": float(run.val_loss)})
            for k, vals in run.history.items():
                put(r, k, np.asarray(vals, np.int64 if k == "epoch" else np.float64))
            if run.confusion is not None:
                put(r, "confusion", np.asarray(run.confusion, np.int64))
            put(r, "train_idx", np.asarray(run.train_idx, np.int64))

    try:
        commit_copy(path, change, fresh=fresh)
    except (OSError, ValueError) as e:
        raise SessionError(f"{path.name}: cannot write the comparison: {e}") from None


def read_comparison_h5(path: str | Path) -> dict[str, Any]:
    """The ``/finetune`` group back: attrs, ``table`` columns and ``runs`` (init -> budget -> arrays)."""
    path = Path(path)
    try:
        with open_h5_for_reading(path) as f:
            g = f["finetune"]
            out: dict[str, Any] = {k: (v.decode() if isinstance(v, bytes) else v)
                                   for k, v in g.attrs.items()}
            out["budget_names"] = json.loads(out["budget_names"])
            out["table"] = {k: v[()] for k, v in g["table"].items()}
            # The run's attrs (final val_accuracy, val_loss) win over its per-epoch
            # datasets of the same names; those stay under "history".
            out["runs"] = {init: {int(b): {**{k: v[()] for k, v in rg.items()},
                                           **dict(rg.attrs),
                                           "history": {k: rg[k][()] for k in HISTORY_KEYS
                                                       if k in rg}}
                                  for b, rg in ig.items()}
                           for init, ig in g["runs"].items()}
            return out
    except KeyError:
        raise SessionError(f"{path.name}: has no /finetune comparison") from None
    except OSError as e:
        raise SessionError(f"{path.name}: cannot read the comparison: {e}") from None
    except (ValueError, TypeError) as e:
        raise SessionError(f"{path.name}: the stored comparison is damaged: {e}") from None
