"""``python main.py finetune``: a classifier on a trained encoder, pretrained vs random."""

from __future__ import annotations

import json
from pathlib import Path

from engine.cli.common import JobProgress, add_run_options, exit_code, stop_on_interrupt
from engine.config import OptimConfig
from engine.control import TrainingControl
from engine.data.labels import parse_budgets
from engine.errors import ConfigError
from engine.jobs import new_job, run_job
from engine.pretraining.comparison import (DEFAULT_OPTIM, Comparison, ComparisonTable,
                                           classifier_config, encoder_source)
from engine.session import Session, SessionWriter

OUT_SUFFIXES = (".json", ".h5", ".hdf5")


def add_parser(sub) -> None:
    d = DEFAULT_OPTIM
    p = sub.add_parser(
        "finetune", help="train a classifier on a trained encoder, pretrained vs random",
        description="Drop the decoder of a trained autoencoder (a 'pretrain' run or any "
                    "session file), put a linear classification layer on its code and train "
                    "on labels; the same classifier is trained from random weights with the "
                    "same budget, and a table compares validation accuracy per label budget. "
                    "The classifier runs are added to the source's session file.")
    p.add_argument("source", type=Path, help="a session file (.h5) with a trained autoencoder")
    p.add_argument("--run", dest="run_id", metavar="ID", help="the run whose encoder to use (default: the "
                                               "file's main run, the stack of a pretraining)")
    p.add_argument("--labels", default="100,1000,all", metavar="N1,N2,...",
                   help="label budgets: labelled training images, class-balanced, or 'all' "
                        "(default: %(default)s)")
    p.add_argument("--versus", type=Path, action="append", default=[], metavar="FILE",
                   help="another trained encoder of the same widths and data, compared in a "
                        "column of its own (e.g. a deep belief network from 'pretrain "
                        "--stage-kind rbm' against an autoencoder stack); repeatable")
    p.add_argument("--freeze", action="store_true",
                   help="freeze the encoder and train only the head (a linear probe)")
    add_run_options(p, epochs_help=f"epochs per classifier run (default {d.epochs})")
    p.add_argument("--batch-size", type=int, default=d.batch_size,
                   help="minibatch size (default: %(default)s)")
    p.add_argument("--lr", type=float, default=d.lr, help="learning rate (default: %(default)s)")
    p.add_argument("--out", type=Path,
                   help="record the classifier runs in this new .h5 session instead of the "
                        "source's file, or write the table as .json (besides)")
    p.set_defaults(run=run)


def run(args) -> int:
    out = args.out
    if out is not None and out.suffix.lower() not in OUT_SUFFIXES:
        raise ConfigError(f"must end in .json, .h5 or .hdf5 (got {str(out)!r})", "--out")
    budgets = parse_budgets(args.labels)
    with Session.open(args.source) as session:
        source = encoder_source(session, args.run_id)
        version = session.format_version
    sources = [source]
    for other in args.versus:
        with Session.open(other) as session:
            sources.append(encoder_source(session))
    try:
        optim = OptimConfig(epochs=args.epochs if args.epochs is not None else DEFAULT_OPTIM.epochs,
                            batch_size=args.batch_size, lr=args.lr)
        template = classifier_config(source.config, optim, freeze=args.freeze, seed=args.seed,
                                     device=args.device)
    except ConfigError as e:
        option = {"optim.epochs": "--epochs", "optim.batch_size": "--batch-size",
                  "optim.lr": "--lr", "seed": "--seed", "device": "--device"}.get(e.field)
        raise ConfigError(e.problem, option or e.field) from None
    try:
        job = Comparison(sources, budgets, template)
    except ConfigError as e:
        raise ConfigError(e.problem, e.field if e.field == "--versus" else "--labels") from None
    target = out if out is not None and out.suffix.lower() != ".json" else args.source
    if target == args.source and version < 2:
        writer = None
        print(f"note: {args.source.name} is a version 1 file, so the runs are not added to it "
              f"(add --out cmp.h5 to keep them)")
    else:
        writer = SessionWriter(target, append=target == args.source, force=target != args.source)
    mode = "linear probe (encoder frozen)" if args.freeze else "fine-tuning encoder and head"
    t = template.optim
    for extra in sources[1:]:
        print(f"versus the {extra.description}", flush=True)
    print(f"classifier on the code of the {source.description}: "
          f"{job.dataset.n_classes} classes, {job.dataset.n_train} training / "
          f"{job.dataset.n_val} validation images; {mode}, {t.epochs} epochs, batch "
          f"{t.batch_size}, {t.optimizer} lr {t.lr:g}", flush=True)
    progress = JobProgress(args.quiet)
    control = TrainingControl()
    with stop_on_interrupt(control) as interrupt:
        run_job(new_job(job, snapshots=writer is not None), progress, control, writer=writer)
    table = ComparisonTable.from_finals(job, progress.finals)
    print()
    print(table.format(job.budget_names))
    if writer is not None:
        print(f"classifier runs saved in {target}")
    if out is not None and out.suffix.lower() == ".json":
        try:
            out.write_text(json.dumps({"source": source.description,
                                       **table.to_dict(job.budget_names)}, indent=1),
                           encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot write {out}: {e.strerror or e}", "--out") from None
        print(f"table saved to {out}")
    return exit_code(progress.outcome, interrupt)
