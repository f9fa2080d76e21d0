"""``python main.py pretrain``: greedy layer-wise pretraining of a stacked autoencoder."""

from __future__ import annotations

from pathlib import Path

from engine.cli.common import (JobProgress, add_config_options, add_run_options,
                               add_session_options, apply_overrides, exit_code, named_config,
                               stop_on_interrupt, weights_budget)
from engine.control import TrainingControl
from engine.errors import ConfigError
from engine.jobs import new_job, run_job
from engine.pretraining.greedy import GreedyPretraining
from engine.session import SessionWriter

DEFAULT_PRETRAIN_PRESET = "stacked-pretraining"
#: The options that set a pretraining field, for messages that name the option.
OPTION_FIELDS = {"--stages": ("model.hidden", "model.latent_dim"),
                 "--kinds": ("pretraining.kinds",), "--stage-kind": ("pretraining.kinds",),
                 "--end-to-end-epochs": ("pretraining.end_to_end_epochs",)}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "pretrain", help="greedy layer-wise pretraining of a stacked autoencoder",
        description="Train one-hidden-layer autoencoders one after another, each on the "
                    "codes of the ones before it (frozen), and stack their encoders into a "
                    "deep encoder. Then try it with 'finetune'.")
    add_config_options(p, DEFAULT_PRETRAIN_PRESET)
    add_run_options(p, epochs_help="epochs per stage")
    p.add_argument("--stages", metavar="W1,W2,...",
                   help="stage widths, e.g. 256,64 (default: the config's model widths)")
    p.add_argument("--kinds", metavar="K1,K2,...",
                   help="kind per stage: plain, sparse, contractive, denoising (or 'a+b'); "
                        "strengths come from the config's objective")
    p.add_argument("--stage-kind", metavar="KIND",
                   help="one kind for every stage; 'rbm' makes every stage a restricted "
                        "Boltzmann machine trained by contrastive divergence (a deep belief "
                        "network, unrolled into the same deep autoencoder)")
    # --finetune-epochs: the option's name before "fine-tuning" came to mean the classifier.
    p.add_argument("--end-to-end-epochs", "--finetune-epochs", type=int, metavar="N",
                   help="epochs of end-to-end training of the whole stack afterwards (0: none)")
    p.add_argument("--out", type=Path, help="write the run (every stage and the stack) to "
                                            "this session file")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    add_session_options(p)
    p.set_defaults(run=run)


def _int_list(text: str, option: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise ConfigError(f"must be comma-separated integers, e.g. 256,64 (got {text!r})",
                          option) from None


def config_from_pretrain_args(args):
    """The validated pretraining RunConfig the options describe.

    A config without a pretraining section (any MLP preset) is stacked as it
    is; ``--stages`` sets the widths, ``--kinds`` one kind per stage,
    ``--stage-kind`` one kind for all.
    """
    base = apply_overrides(_with_asked_kinds(named_config(args), args), args)
    over: dict = {}
    if base.pretraining is None:
        over["pretraining"] = {"kinds": [], "end_to_end_epochs": 0}
        m = base.model
        if m.activation != m.code_activation or m.activation not in ("sigmoid", "tanh", "relu"):
            over.update({"model.activation": "sigmoid", "model.code_activation": "sigmoid"})
        if m.variational:
            raise ConfigError(f"'{base.name}' is a variational autoencoder; greedy stages are "
                              "deterministic, so it cannot be pretrained layer-wise (choose "
                              "a deterministic preset, e.g. --preset stacked-pretraining)",
                              "--preset")
    if args.stages:
        widths = _int_list(args.stages, "--stages")
        if not widths:
            raise ConfigError("must name at least one stage width", "--stages")
        over.update({"model.architecture": "mlp", "model.hidden": widths[:-1],
                     "model.latent_dim": widths[-1]})
    try:
        cfg = base.with_overrides(over) if over else base
        section = {"kinds": list(cfg.pretraining.kinds),
                   "end_to_end_epochs": cfg.pretraining.end_to_end_epochs}
        if args.stages and len(section["kinds"]) != len(widths):
            section["kinds"] = []  # new widths with another stage count: every stage "shared"
        if args.kinds and args.stage_kind:
            raise ConfigError("cannot be given with --kinds (one kind for every stage, or one "
                              "per stage)", "--stage-kind")
        if args.kinds:
            section["kinds"] = [k.strip() for k in args.kinds.split(",")]
        if args.stage_kind:
            n = len(cfg.model.hidden) + 1
            section["kinds"] = [args.stage_kind.strip()] * n
        if args.end_to_end_epochs is not None:
            section["end_to_end_epochs"] = args.end_to_end_epochs
        return cfg.with_overrides({"pretraining": section})
    except ConfigError as e:
        raise _named_by_option(e, args) from None


def _with_asked_kinds(cfg, args):
    """The preset with the stage kinds the options ask for, before any ``--set``: a
    ``--set rbm.cd_k=5`` or ``objective.corruption=none`` is then checked against the
    stages asked for, not against the preset's."""
    if cfg.pretraining is None or not (args.kinds or args.stage_kind):
        return cfg
    if args.kinds and args.stage_kind:
        raise ConfigError("cannot be given with --kinds (one kind for every stage, or one "
                          "per stage)", "--stage-kind")
    n = len(_int_list(args.stages, "--stages")) if args.stages else len(cfg.model.hidden) + 1
    kinds = ([k.strip() for k in args.kinds.split(",")] if args.kinds
             else [args.stage_kind.strip()] * n)
    over = {"pretraining.kinds": kinds}
    if args.stages:
        widths = _int_list(args.stages, "--stages")
        over.update({"model.hidden": widths[:-1], "model.latent_dim": widths[-1]})
    try:
        return cfg.with_overrides(over)
    except ConfigError as e:
        raise _named_by_option(e, args) from None


def _named_by_option(e: ConfigError, args) -> ConfigError:
    """The error with the option that set its field, where one did."""
    for option, fields in OPTION_FIELDS.items():
        given = getattr(args, option[2:].replace("-", "_"), None)
        if given is not None and e.base_field in fields:
            index = e.field[len(e.base_field):]
            if option == "--stages" and e.base_field == "model.latent_dim":
                index = f"[{len(_int_list(args.stages, option)) - 1}]"
            return ConfigError(e.problem, option + index)
    return e


def run(args) -> int:
    cfg = config_from_pretrain_args(args)
    writer = SessionWriter(args.out, force=args.force,   # made first: fails early
                           weights_budget=weights_budget(args)) if args.out else None
    progress = JobProgress(args.quiet)
    try:
        job = GreedyPretraining(cfg)
    except BaseException:
        if writer is not None:
            writer.close()
        raise
    control = TrainingControl()
    with stop_on_interrupt(control) as interrupt:
        outcome = run_job(new_job(job, snapshots=writer is not None), progress, control,
                          writer=writer).outcome
    sizes = "-".join(str(w) for w in (cfg.model.hidden + (cfg.model.latent_dim,)))
    where = (f"; saved to {args.out} (next: python main.py finetune {args.out})" if args.out
             else " (not saved: add --out stack.h5 to keep it)")
    if outcome == "completed":
        shape = "x".join(str(d) for d in job.dataset.image_shape)
        what = ("deep belief network (unrolled into a deep autoencoder)"
                if set(cfg.pretraining.kinds) == {"rbm"} else "stacked encoder")
        print(f"{what} {shape} -> {sizes} ready{where}")
    else:
        print(f"pretraining {outcome} after {len(job.stages)} completed stage(s)"
              + (f"; saved to {args.out} (continue: python main.py resume {args.out})"
                 if args.out else ""))
    return exit_code(progress.outcome, interrupt)
