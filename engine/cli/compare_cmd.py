"""``python main.py compare A.h5 B.h5 ... | DIR``: final terms per run as a table, and a figure."""

from __future__ import annotations

from pathlib import Path

from engine.errors import SessionError
from engine.export.compared import ComparedRuns
from engine.export.quality_words import quality_table


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare", help="compare sessions: a table of final terms and a comparison PNG",
        description="Print the final terms of each run (training batches and validation "
                    "set) and write a PNG with the loss curves of every term (one colour per "
                    "run), the probe images reconstructed by each run and, for a sweep, each "
                    "final term against the swept value. Sessions and sweep folders can be "
                    "mixed. In the window: python main.py A.h5 B.h5")
    p.add_argument("sessions", type=Path, nargs="+", metavar="SESSION.h5|DIR")
    p.add_argument("--png", type=Path, default=Path("comparison.png"), metavar="FILE.png",
                   help="where the figure goes (default comparison.png)")
    p.add_argument("--no-png", action="store_true", help="print the table only")
    p.add_argument("--force", action="store_true",
                   help="overwrite the PNG (one drawn by compare of the same runs is "
                        "replaced without it)")
    p.set_defaults(run=run)


def run(args) -> int:
    from engine.export.compare_figure import figure_inputs, write_comparison_png
    # What the figure shows: the same inputs, in any order, draw the same comparison.
    inputs = sorted(str(p.resolve()) for p in args.sessions)
    replacing = not args.no_png and args.png.exists()
    if replacing and not args.force and figure_inputs(args.png) != inputs:
        raise SessionError(f"{args.png}: already exists (and is not a comparison of these "
                           "runs); pass --force to overwrite it, or --png FILE")
    with ComparedRuns.open(args.sessions) as compared:
        print(compared.table())
        if compared.measures_table():
            print(compared.measures_table())
        quality = quality_table([(r.label, r.run) for r in compared.runs])
        if quality:
            print("\n" + quality)
        for note in compared.problems + compared.differences():
            print(f"note: {note}")
        if args.no_png:
            return 0
        path = write_comparison_png(compared, args.png, inputs)
    print(f"{path} (replaced)" if replacing else path)
    return 0
