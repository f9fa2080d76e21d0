"""``python main.py info SESSION.h5``: what a session holds, in a few lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.errors import SessionError
from engine.export.quality_words import info_lines as quality_lines
from engine.export.research_summary import measure_lines
from engine.models import family_class
from engine.pretraining.comparison import comparison_table
from engine.session import Session, SessionRun
from engine.words import size_words


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="summarise a session file",
                       description="Print a session's kind, data, epochs, the final value "
                                   "of every loss term, its other runs and the file size.")
    p.add_argument("session", type=Path, metavar="SESSION.h5")
    p.add_argument("--run", dest="run_id", metavar="ID", help="summarise this run (default: the main one)")
    p.set_defaults(run=run)


def run(args) -> int:
    with Session.open(args.session) as s:
        run_ = s.run(args.run_id)
        lines = summary_lines(s, run_)
        damage = _checkpoint_damage(run_)
    for line in lines:
        print(line)
    if damage is not None:   # everything else was shown; the damage is the error
        raise damage
    return 0


def _checkpoint_damage(r: SessionRun) -> SessionError | None:
    try:
        r.checkpoint()
    except SessionError as e:
        return e
    return None


def summary_lines(s: Session, run: SessionRun) -> list[str]:
    """The printed summary, one string per line."""
    created = s.created.strftime("%Y-%m-%d %H:%M %Z").strip()
    lines = [f"{s.path.name}: Autoencoder Studio session, format {s.format_version}, "
             f"written by {s.app_version}, created {created}"]
    for job in s.jobs.values():
        if job.kind == "pretrain":
            lines.append(f"job:       {job.title}")
    lines += run_lines(run)
    others = [r for r in s.runs.values() if r is not run]
    if others:
        lines.append(f"runs:      {len(s.runs)} in this file (info --run ID for one):")
        width = max(len(r.run_id) for r in s.runs.values())
        for r in s.runs.values():
            mark = "*" if r is run else " "
            lines.append(f"  {mark}{r.run_id:<{width}}  {r.epochs_trained:>4} epochs "
                         f"{r.status:<9}  {_last_val(r)}  {r.title}")
    table = comparison_table(s)
    if table is not None:
        lines.append("fine-tuning comparison, " + table.format().split("\n", 1)[0])
        lines += ["  " + line for line in table.format().splitlines()[1:]]
    lines.append(f"size:      {size_words(s.file_size)}")
    return lines


def run_lines(r: SessionRun) -> list[str]:
    cfg, data, eh = r.config, r.data, r.epoch_history
    family = family_class(cfg)
    c, h, w = data.image_shape
    lines = [
        f"run:       '{r.run_id}' ({r.title})" if r.run_id != "main" else None,
        f"kind:      {cfg.kind_label()}  (config '{cfg.name}', {family.describe(cfg)})",
        f"data:      {data.source}: {data.n_train} train / {data.n_val} validation images "
        f"{c}x{h}x{w}",
        _epoch_line(r),
        _snapshot_line(r),
        _weights_line(r),
        *family.report_lines(r),   # what the family adds (an RBM's log Z)
    ]
    lines += quality_lines(r)   # sample quality (engine.export.quality_words)
    if r.status_message:
        lines.append(f"{'failure:' if r.status == 'failed' else r.status + ':':<11}"
                     f"{r.status_message}")
    return [x for x in lines if x] + _final_terms(r, eh) + measure_lines(r)


def _epoch_line(r: SessionRun) -> str:
    hist = r.history
    steps = r.last_step
    wall = float(hist["wall_time"][-1]) if len(hist["wall_time"]) else 0.0
    return (f"epochs:    {r.epochs_trained} of {r.config.optim.epochs} ({r.status}), "
            f"{steps} steps, {wall:.1f} s of training")


def _snapshot_line(r: SessionRun) -> str:
    eps = r.snapshot_epochs
    snaps = f"{len(eps)} (epochs {eps[0]}-{eps[-1]})" if eps else "none"
    try:
        ck = r.checkpoint()
    except SessionError:
        return f"snapshots: {snaps}; checkpoint: damaged (see the error below)"
    where = "none" if ck is None or not ck.optimizers else (
        f"epoch {ck.epoch}" + (f" + {ck.position} batches" if ck.position else "")
        + f", step {ck.step}")
    return f"snapshots: {snaps}; checkpoint: {where}"


def _weights_line(r: SessionRun) -> str | None:
    """Where the interactive views' weights are kept, when not at every epoch."""
    kept = r.weight_epochs
    if not kept or kept == r.snapshot_epochs:
        return None
    shown = ", ".join(map(str, kept))
    return (f"weights:   kept at epochs {shown} (an epoch between decodes with the "
            f"nearest earlier)")


def _final_terms(r: SessionRun, eh: dict) -> list[str]:
    if len(eh["epoch"]) and (eh["train"] or eh["val"]):
        train = {k: v[-1] for k, v in eh["train"].items()}
        val = {k: v[-1] for k, v in eh["val"].items()}
        title = f"final values (epoch {int(eh['epoch'][-1])}):"
    elif len(r.history["step"]) and r.term_names:
        train = {k: r.history[k][-1] for k in r.term_names}
        val = {}
        why = ("its epoch table holds no loss terms" if len(eh["epoch"]) else
               "no epoch finished")
        title = f"last logged values (step {int(r.history['step'][-1])}, {why}):"
    else:
        return ["final values: none (no loss term was recorded)"]
    terms = list(dict.fromkeys([*train, *val]))
    width = max(len(t) for t in terms)
    lines = [title, f"  {'term':<{width}}  {'train':>12}  {'val':>12}"]
    for t in terms:
        lines.append(f"  {t:<{width}}  {_num(train.get(t)):>12}  {_num(val.get(t)):>12}")
    return lines


def _last_val(r: SessionRun) -> str:
    val = r.epoch_history.get("val", {})
    key = "accuracy" if "accuracy" in val else "total"
    v = val.get(key)
    if v is None or not len(v) or not np.isfinite(v[-1]):
        return f"{'':>18}"
    return f"val {key} {float(v[-1]):<9.4g}"


def _num(v) -> str:
    """A table cell: '-' for none, and for NaN (a term with no value there, e.g. an
    RBM's log-likelihood, measured on validation data only)."""
    return "-" if v is None or not np.isfinite(float(v)) else f"{float(v):.6g}"
