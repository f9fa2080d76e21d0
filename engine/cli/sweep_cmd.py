"""``python main.py sweep --preset P --set FIELD=V1,V2,... --out DIR [--jobs N]``: one run per
combination of values, each its own session in DIR, with an index (``DIR/sweep.json``)."""

from __future__ import annotations

from pathlib import Path

from engine.cli.common import (add_run_options, add_session_options, check_data_path,
                               config_from_args, weights_budget)
from engine.errors import ConfigError
from engine.presets import described_for_data
from engine.export.compared import ComparedRuns
from engine.sweep.plan import parse_assignments, plan_runs
from engine.sweep.runner import SweepRunner, base_identity, new_index, prepare_folder


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep", help="train one run per combination of config values",
        description="Train every combination of the values given with --set FIELD=V1,V2,... "
                    "(a --set with one value applies to all runs), each as its own session "
                    "named after its values (DIR/beta=0.5.h5), with an index DIR/sweep.json. "
                    "Interrupted (Ctrl+C), it keeps the finished runs; the same command again "
                    "continues the rest. Open the folder in the window to compare the runs: "
                    "python main.py DIR")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", help="the preset every run starts from (see 'presets')")
    src.add_argument("--config", type=Path, help="a run config JSON file to start from")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=V1,V2,...",
                   help="a field and its values, e.g. --set objective.beta=0.5,1,2,4 "
                        "(repeatable: every combination is trained)")
    add_run_options(p)
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="the sweep's folder (created; an interrupted sweep there continues)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="runs trained at once, in separate processes sharing the cores "
                        "(default 1)")
    add_session_options(p)
    p.add_argument("--force", action="store_true",
                   help="replace another sweep (or its runs) in DIR")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.jobs < 1:
        raise ConfigError(f"must be at least 1 (got {args.jobs})", "--jobs")
    axes, fixed = parse_assignments(args.set)
    args.set = []   # the sweep's own: the fixed values are applied below, parsed alike
    base = config_from_args(args)
    if fixed:
        base = described_for_data(base.with_overrides(fixed), base)
    if base.pretraining is not None:
        raise ConfigError(f"'{base.name}' is a greedy layer-wise pretraining config: a sweep "
                          f"trains ordinary runs", "--preset")
    runs = plan_runs(base, axes)
    for r in runs:   # a path swept or fixed: every run's, before a folder is made
        check_data_path(r.config)
    budget = weights_budget(args)
    index = prepare_folder(args.out, new_index(base_identity(base), axes, runs), args.force)
    outcome = SweepRunner(args.out, index, runs, jobs=args.jobs, quiet=args.quiet,
                          weights_budget=budget).run()
    if not outcome.interrupted:
        try:
            with ComparedRuns.open([args.out]) as compared:
                print()
                print(compared.table())
        except Exception as e:  # noqa: BLE001 - the summary is a courtesy; the runs are kept
            print(f"(no summary table: {e})")
        print(f"\nsweep: {args.out / 'sweep.json'} — compare the runs with: "
              f"python main.py {args.out}  (or: python main.py compare {args.out})")
    return outcome.exit_code
