"""``python main.py finetune``: a classifier on a trained encoder, pretrained vs random."""

from __future__ import annotations

import math
from pathlib import Path

from engine.cli.common import add_run_options, stop_on_interrupt
from engine.control import TrainingControl
from engine.data import load_dataset
from engine.errors import ConfigError
from engine.pretraining.classifier import ClassifierConfig
from engine.pretraining.comparison import compare_initialisations
from engine.pretraining.events import ClassifierEpoch, ClassifierFinished, ClassifierStarted
from engine.pretraining.labels import parse_budgets
from engine.pretraining.reader import load_encoder_source

OUT_SUFFIXES = (".json", ".h5", ".hdf5")


def add_parser(sub) -> None:
    d = ClassifierConfig()
    p = sub.add_parser(
        "finetune", help="train a classifier on a trained encoder, pretrained vs random",
        description="Drop the decoder of a trained autoencoder (a 'pretrain' run or any "
                    "session file), put a linear classification layer on its code and train "
                    "on labels; the same classifier is trained from random weights with the "
                    "same budget, and a table compares validation accuracy per label budget.")
    p.add_argument("source", type=Path, help="a pretraining run or a session file (.h5)")
    p.add_argument("--labels", default="100,1000,all", metavar="N1,N2,...",
                   help="label budgets: labelled training images, class-balanced, or 'all' "
                        "(default: %(default)s)")
    p.add_argument("--freeze", action="store_true",
                   help="freeze the encoder and train only the head (a linear probe)")
    add_run_options(p, epochs_help=f"epochs per classifier run (default {d.epochs})")
    p.add_argument("--batch-size", type=int, default=d.batch_size,
                   help="minibatch size (default: %(default)s)")
    p.add_argument("--lr", type=float, default=d.lr, help="learning rate (default: %(default)s)")
    p.add_argument("--out", type=Path,
                   help="write the comparison: .json, or .h5 (added as /finetune to an "
                        "existing file, e.g. the pretraining run)")
    p.set_defaults(run=run)


class ComparisonProgress:
    """One line when a classifier run starts and ends, a few epoch lines between."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.failed = False

    def __call__(self, event) -> None:
        if isinstance(event, ClassifierStarted):
            self.every = max(1, math.ceil(event.epochs / 5))  # about five lines a run
        elif isinstance(event, ClassifierEpoch):
            if not self.quiet and (event.epoch % self.every == 0 or event.epoch == event.epochs):
                print(f"  [{event.init:>10}, {event.budget:>5} labels] epoch {event.epoch}/"
                      f"{event.epochs}  train loss {event.train_loss:.3f} acc "
                      f"{100 * event.train_accuracy:.1f}% | val loss {event.val_loss:.3f} acc "
                      f"{100 * event.val_accuracy:.1f}%", flush=True)
        elif isinstance(event, ClassifierFinished):
            if event.outcome == "failed":
                self.failed = True
                print(f"failed: {event.message}", flush=True)
            print(f"[{event.init:>10}, {event.budget:>5} labels] {event.outcome}: validation "
                  f"accuracy {100 * event.val_accuracy:.1f}% (cross-entropy "
                  f"{event.val_loss:.3f})", flush=True)


def run(args) -> int:
    if args.out is not None and args.out.suffix.lower() not in OUT_SUFFIXES:
        raise ConfigError(f"--out must end in .json, .h5 or .hdf5 (got {str(args.out)!r})")
    budgets = parse_budgets(args.labels)
    source = load_encoder_source(args.source)
    cfg = ClassifierConfig(
        epochs=args.epochs if args.epochs is not None else ClassifierConfig.epochs,
        batch_size=args.batch_size, lr=args.lr, freeze=args.freeze,
        seed=args.seed if args.seed is not None else source.config.seed,
        device=args.device if args.device is not None else source.config.device).validate()
    dataset = load_dataset(source.config.data, source.config.seed)  # the encoder's own split
    mode = "linear probe (encoder frozen)" if cfg.freeze else "fine-tuning encoder and head"
    print(f"classifier on the code of the {source.description}: {dataset.n_classes} classes, "
          f"{dataset.n_train} training / {dataset.n_val} validation images; {mode}, "
          f"{cfg.epochs} epochs, batch {cfg.batch_size}, {cfg.optimizer} lr {cfg.lr:g}",
          flush=True)
    progress = ComparisonProgress(args.quiet)
    control = TrainingControl()
    with stop_on_interrupt(control):
        result = compare_initialisations(source.model, dataset, budgets, cfg, progress, control)
    print()
    print(result.format_table())
    if args.out is not None:
        from engine.pretraining import results
        if args.out.suffix.lower() == ".json":
            results.write_comparison_json(args.out, result, source.description)
        else:
            results.write_comparison_h5(args.out, result, source.description, str(args.source))
        print(f"comparison saved to {args.out}")
    return 1 if result.outcome == "failed" else 0
