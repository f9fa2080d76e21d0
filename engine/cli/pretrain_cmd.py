"""``python main.py pretrain``: greedy layer-wise pretraining of a stacked autoencoder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from engine.cli.common import (ProgressPrinter, add_config_options, add_run_options,
                               config_from_args, stop_on_interrupt)
from engine.control import TrainingControl
from engine.errors import ConfigError
from engine.events import RunFailed
from engine.pretraining.config import PretrainConfig
from engine.pretraining.events import (FINETUNE, PretrainFinished, StageCompleted,
                                       StageStarted)
from engine.pretraining.greedy import GreedyPretrainer

DEFAULT_PRETRAIN_PRESET = "stacked-pretraining"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "pretrain", help="greedy layer-wise pretraining of a stacked autoencoder",
        description="Train one-hidden-layer autoencoders one after another, each on the "
                    "codes of the ones before it (frozen), and stack their encoders into a "
                    "deep encoder. Then try it with 'finetune'.")
    add_config_options(p)
    p.set_defaults(preset=DEFAULT_PRETRAIN_PRESET)
    add_run_options(p, epochs_help="epochs per stage")
    p.add_argument("--stages", metavar="W1,W2,...",
                   help="stage widths, e.g. 256,64 (default: the config's model widths)")
    p.add_argument("--kinds", metavar="K1,K2,...",
                   help="kind per stage: plain, sparse, contractive, denoising (or 'a+b'); "
                        "strengths come from the config's objective")
    p.add_argument("--finetune-epochs", type=int, metavar="N",
                   help="epochs of end-to-end training of the whole stack afterwards (0: none)")
    p.add_argument("--out", type=Path, help="write the run (every stage and the stack) to "
                                            "this HDF5 file")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(run=run)


def _int_list(text: str, option: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"{option} must be comma-separated integers, e.g. 256,64 "
                          f"(got {text!r})") from None
    return values


def config_from_pretrain_args(args) -> PretrainConfig:
    """The validated PretrainConfig named by the options."""
    base = config_from_args(args)
    widths = _int_list(args.stages, "--stages") if args.stages else None
    changes = {}
    if args.kinds:
        changes["kinds"] = tuple(k.strip() for k in args.kinds.split(","))
    if args.finetune_epochs is not None:
        changes["finetune_epochs"] = args.finetune_epochs
    try:
        cfg = PretrainConfig.from_run_config(base, widths, validate=not changes)
        return dataclasses.replace(cfg, **changes).validate()
    except ConfigError as e:
        text = str(e)
        for field, option in (("kinds", "--kinds"), ("finetune_epochs", "--finetune-epochs"),
                              ("widths", "--stages")):
            if text.startswith(field):
                text = option + text[len(field):]
        raise ConfigError(text) from None


class StagedProgress:
    """The train command's progress output, one block per stage."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.printer: ProgressPrinter | None = None
        self.failed = False
        self.finished: PretrainFinished | None = None

    def __call__(self, event) -> None:
        if isinstance(event, StageStarted):
            what = ("end-to-end fine-tuning of the stack" if event.role == FINETUNE else
                    f"stage {event.stage}/{event.n_stages}: {event.input_dim} -> {event.width} "
                    f"[{event.kind}], reconstructing its input as {event.likelihood}")
            print(what, flush=True)
            self.printer = ProgressPrinter(quiet=self.quiet, prefix=f"  stage {event.stage} ")
        elif isinstance(event, PretrainFinished):
            self.finished = event
        elif isinstance(event, StageCompleted):
            self.printer = None
        elif self.printer is not None and getattr(event, "stage", None) is not None:
            self.printer(event)
            if isinstance(event, RunFailed):
                self.failed = True


def run(args) -> int:
    cfg = config_from_pretrain_args(args)
    recorder = None
    if args.out is not None:
        from engine.pretraining.storage import PretrainRecorder
        recorder = PretrainRecorder(args.out, force=args.force)  # fails before any training
    progress = StagedProgress(args.quiet)
    listeners = [progress] + ([recorder] if recorder is not None else [])

    def emit(event) -> None:
        for listener in listeners:
            listener(event)

    sizes = "-".join(str(w) for w in cfg.widths)
    print(f"greedy layer-wise pretraining: {cfg.n_stages} stage(s), widths {sizes}, "
          f"{cfg.code_activation} codes, {cfg.stage_epochs} epoch(s) per stage"
          + (f", then {cfg.finetune_epochs} epochs end to end" if cfg.finetune_epochs else ""),
          flush=True)
    pretrainer = GreedyPretrainer(cfg)
    control = TrainingControl()
    try:
        with stop_on_interrupt(control):
            outcome = pretrainer.run(emit, control)
    finally:
        if recorder is not None:
            recorder.close()
    if outcome == "completed":
        shape = "x".join(str(d) for d in pretrainer.dataset.image_shape)
        print(f"stacked encoder {shape} -> {sizes} ready"
              + (f"; saved to {args.out} (next: python main.py finetune {args.out})"
                 if args.out else ""))
    else:
        print(f"pretraining {outcome} after {sum(s.outcome == 'completed' for s in pretrainer.stages)}"
              f" completed stage(s)" + (f"; saved to {args.out}" if args.out else ""))
    return 1 if outcome == "failed" else 0
