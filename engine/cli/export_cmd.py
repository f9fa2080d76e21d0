"""``python main.py export SESSION.h5 --out DIR``: PNG figures of one epoch."""

from __future__ import annotations

from pathlib import Path

from engine.session import Session
from engine.session.figures import export_epoch


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="write PNG figures of a session's epoch",
                       description="Write PNG grids of the probe reconstructions (original | "
                                   "input | reconstruction rows), of samples and, for a 2-D "
                                   "latent space, of the decoded manifold.")
    p.add_argument("session", type=Path, metavar="SESSION.h5")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the PNGs")
    p.add_argument("--epoch", type=int, help="a snapshot epoch (default: the last)")
    p.add_argument("--run", dest="run_id", metavar="ID", help="which run of the file (default: its main run)")
    p.add_argument("--scale", type=int, default=2, help="pixel magnification (default 2)")
    p.add_argument("--force", action="store_true", help="overwrite existing figures")
    p.set_defaults(run=run)


def run(args) -> int:
    with Session.open(args.session) as session:
        paths = export_epoch(session.run(args.run_id), args.epoch, args.out, force=args.force,
                             scale=max(1, args.scale))
    for path in paths:
        print(path)
    return 0
