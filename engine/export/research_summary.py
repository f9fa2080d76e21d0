"""A run's research measures at its end, as numbers and as ``info`` lines.

Reads the snapshot arrays the trainer wrote (:mod:`engine.analysis.epoch_measures`):
the mutual information I(x; z) under q of the last snapshot, with the KL and
active units beside it, and the disentanglement scores of the last snapshot
that was scored (the scores are computed every few epochs). ``info``,
``compare`` and a sweep's plot read them from here.
"""

from __future__ import annotations

import numpy as np

from engine.analysis.epoch_measures import SCORE_EVERY, SCORE_WORDS, SCORES, scores_of
from engine.analysis.latent_usage import active_units
from engine.session.runs import SessionRun

#: The final measures' keys, in the order tables show them.
MEASURE_KEYS = ("mutual_information", *SCORES)
MEASURE_WORDS = {"mutual_information": "mutual information I(x; z)", **SCORE_WORDS}


def final_measures(run: SessionRun) -> dict[str, float]:
    """The run's measures at its last snapshot (the scores at its last scored one).

    Returns
    -------
    name -> value for what the run has: ``mutual_information`` (nats), ``kl`` (nats, the
    mean KL over the map's images when the snapshot has ``kl_per_dim``),
    ``active_units``, ``latent_dim``, ``epoch``; the :data:`SCORES` with
    ``scored_epoch``. Empty for a run without snapshots.
    """
    epochs = run.snapshot_epochs
    if not epochs:
        return {}
    out: dict[str, float] = {}
    last = run.snapshot(epochs[-1]).arrays
    out["epoch"] = float(epochs[-1])
    if "mutual_information" in last:
        out["mutual_information"] = float(np.asarray(last["mutual_information"]))
    if "kl_per_dim" in last:
        out["kl"] = float(np.asarray(last["kl_per_dim"], np.float64).sum())
    if "map_latents" in last and "mutual_information" in last:
        out["active_units"] = float(active_units(np.asarray(last["map_latents"])).sum())
        out["latent_dim"] = float(last["map_latents"].shape[1])
    if "disentanglement" not in last:
        return out
    for e in reversed(epochs[-(SCORE_EVERY + 1):]):     # the last scored one is this near
        scores = scores_of(last if e == epochs[-1] else run.snapshot(e).arrays)
        if scores is not None:
            out.update(scores)
            out["scored_epoch"] = float(e)
            break
    return out


def measure_lines(run: SessionRun) -> list[str]:
    """``info``'s lines for the measures (none for a run that has none)."""
    try:
        m = final_measures(run)
    except Exception:  # noqa: BLE001 - a damaged snapshot: info still prints the rest
        return []
    lines = []
    if "mutual_information" in m:
        kl = f" of the {m['kl']:.3g} nats of KL" if "kl" in m else ""
        units = (f"; {int(m['active_units'])} of {int(m['latent_dim'])} dimensions active"
                 if "active_units" in m else "")
        # I(x; z) >= 0; at a collapsed code the estimate's noise can dip below 0: say 0
        mi = max(float(m["mutual_information"]), 0.0)
        lines.append(f"mutual information: I(x; z) = {mi:.3g} nats"
                     f"{kl} at epoch {int(m['epoch'])} (He et al. 2019, under q){units}")
    if "mig" in m:
        factors = ", ".join(run.data.factor_names) or "the data's factors"
        n = len(run.data.map_factors) if run.data.map_factors is not None else 0
        lines.append(f"disentanglement at epoch {int(m['scored_epoch'])} ({factors}; "
                     f"{n} validation images):")
        lines.append(f"  MIG {_num(m['mig'])}  DCI disentanglement {_num(m['dci_disentanglement'])}, completeness "
                       f"{_num(m['dci_completeness'])}, informativeness "
                       f"{_num(m['dci_informativeness'])}  FactorVAE score "
                       f"{_num(m['factor_vae'])}")
    return lines


def _num(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{v:.3f}"
