"""``python main.py info SESSION.h5``: what a session holds, in a few lines."""

from __future__ import annotations

from pathlib import Path

from engine.cli.info_pretraining import comparison_lines, pretraining_lines
from engine.pretraining.reader import file_format, read_pretraining
from engine.pretraining.storage import FORMAT_NAME as PRETRAINING_FORMAT
from engine.session import Session


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="summarise a session or pretraining file",
                       description="Print a session's kind, data, epochs, the final value "
                                   "of every loss term and the file size.")
    p.add_argument("session", type=Path, metavar="SESSION.h5")
    p.set_defaults(run=run)


def run(args) -> int:
    if file_format(args.session) == PRETRAINING_FORMAT:
        lines = pretraining_lines(read_pretraining(args.session))
        lines.append(f"size:      {_size_words(args.session.stat().st_size)}")
    else:
        with Session.open(args.session) as s:
            lines = summary_lines(s)
    for line in lines + comparison_lines(args.session):
        print(line)
    return 0


def summary_lines(s: Session) -> list[str]:
    """The printed summary, one string per line."""
    cfg, data, eh = s.config, s.data, s.epoch_history
    created = s.created.strftime("%Y-%m-%d %H:%M %Z").strip()
    c, h, w = data.image_shape
    lines = [
        f"{s.path.name}: Autoencoder Studio session, format {s.format_version}, "
        f"written by {s.app_version}, created {created}",
        f"kind:      {cfg.kind_label()}  (config '{cfg.name}', {_model_words(cfg)})",
        f"data:      {data.source}: {data.n_train} train / {data.n_val} validation images "
        f"{c}x{h}x{w}",
        _epoch_line(s),
        _snapshot_line(s),
    ]
    if s.status_message:
        lines.append(f"failure:   {s.status_message}")
    lines += _final_terms(s, eh)
    lines.append(f"size:      {_size_words(s.file_size)}")
    return lines


def _model_words(cfg) -> str:
    m = cfg.model
    hidden = "-".join(str(x) for x in m.hidden)
    return (f"{m.architecture} {hidden or 'no hidden layers'} -> {m.latent_dim}-d code, "
            f"{cfg.objective.likelihood} likelihood")


def _epoch_line(s: Session) -> str:
    hist = s.history
    steps = int(hist["step"][-1]) if len(hist["step"]) else 0
    wall = float(hist["wall_time"][-1]) if len(hist["wall_time"]) else 0.0
    return (f"epochs:    {s.epochs_trained} of {s.config.optim.epochs} ({s.status}), "
            f"{steps} steps, {wall:.1f} s of training")


def _snapshot_line(s: Session) -> str:
    eps = s.snapshot_epochs
    snaps = f"{len(eps)} (epochs {eps[0]}-{eps[-1]})" if eps else "none"
    ck = s.checkpoint()
    where = "none" if ck is None else (
        f"epoch {ck.epoch}" + (f" + {ck.position} batches" if ck.position else "")
        + f", step {ck.step}")
    return f"snapshots: {snaps}; checkpoint: {where}"


def _final_terms(s: Session, eh: dict) -> list[str]:
    if len(eh["epoch"]):
        train = {k: v[-1] for k, v in eh["train"].items()}
        val = {k: v[-1] for k, v in eh["val"].items()}
        title = f"final values (epoch {int(eh['epoch'][-1])}):"
    elif len(s.history["step"]):
        train = {k: v[-1] for k, v in s.history.items()
                 if k not in ("step", "epoch", "wall_time")}
        val = {}
        title = f"last logged values (step {int(s.history['step'][-1])}, no epoch finished):"
    else:
        return ["final values: none (no step was logged)"]
    terms = list(dict.fromkeys([*train, *val]))
    width = max(len(t) for t in terms)
    lines = [title, f"  {'term':<{width}}  {'train':>12}  {'val':>12}"]
    for t in terms:
        lines.append(f"  {t:<{width}}  {_num(train.get(t)):>12}  {_num(val.get(t)):>12}")
    return lines


def _num(v) -> str:
    return "-" if v is None else f"{float(v):.6g}"


def _size_words(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} bytes"
