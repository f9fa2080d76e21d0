"""``python main.py export SESSION.h5 ...``: a run's figures and files for the tools people use.

``--out DIR`` PNG figures of one epoch; ``--gif`` the latent map and manifold
across epochs; ``--onnx`` the decoder (and encoder); ``--tensorboard DIR``
event files; ``--csv`` the loss table; ``--script`` a standalone PyTorch
script that trains the run again. Any combination, in one call: every format
is checked (its extra installed, no file in the way) before any is written.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import ConfigError
from engine.session import Session


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export", help="write a session's figures, ONNX models, TensorBoard logs, CSV, script",
        description="Export one run of a session: PNG grids of an epoch (--out), an animated "
                    "GIF of the latent map and manifold (--gif), the decoder and encoder as "
                    "ONNX (--onnx), TensorBoard event files (--tensorboard), the loss table "
                    "as CSV (--csv) and a standalone PyTorch training script (--script). "
                    "ONNX and TensorBoard need the export extra: pip install -e \".[export]\".")
    p.add_argument("session", type=Path, metavar="SESSION.h5")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="folder for PNG figures of one epoch: reconstructions (original | "
                        "input | reconstruction rows), samples and, for a 2-D latent, the "
                        "decoded manifold")
    p.add_argument("--gif", type=Path, metavar="FILE.gif",
                   help="the latent map and decoded manifold at every saved epoch")
    p.add_argument("--onnx", type=Path, metavar="FILE.onnx",
                   help="the decoder of --epoch (codes in, mean images out); the encoder "
                        "(images in, code out; from the last checkpoint) goes beside it as "
                        "encoder.onnx")
    p.add_argument("--tensorboard", type=Path, metavar="DIR",
                   help="TensorBoard event files (every term, train and validation; "
                        "reconstructions per epoch) in DIR/<session name>")
    p.add_argument("--csv", type=Path, metavar="FILE.csv",
                   help="the loss table: every logged step, validation means at epoch ends")
    p.add_argument("--script", type=Path, metavar="FILE.py",
                   help="a standalone PyTorch script that rebuilds and trains the run (its "
                        "images go beside it as FILE_data.pt)")
    p.add_argument("--traversals", type=Path, metavar="FILE.png|FILE.gif",
                   help="latent traversals of a probe image at --epoch: each dimension swept "
                        "over ±3 standard deviations, one row each, largest KL first (PNG, with "
                        "the animated GIF beside it; a .gif name writes the GIF alone)")
    p.add_argument("--traversal-image", type=int, default=0, metavar="K",
                   help="which probe image --traversals holds (default 0)")
    p.add_argument("--traversal-range", choices=("prior", "posterior"), default="prior",
                   help="sweep ±3 standard deviations of the prior (default) or of the "
                        "image's posterior q(z|x)")
    p.add_argument("--epoch", type=int, help="the epoch of --out, --onnx and --traversals "
                                             "(default: the last)")
    p.add_argument("--run", dest="run_id", metavar="ID",
                   help="which run of the file (default: its main run)")
    p.add_argument("--scale", type=int, default=2, help="pixel magnification of --out "
                                                         "(default 2)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(run=run)


def run(args) -> int:
    wanted = [args.out, args.gif, args.onnx, args.tensorboard, args.csv, args.script,
              args.traversals]
    if all(w is None for w in wanted):
        raise ConfigError("nothing to export: give --out DIR (PNG figures), --gif FILE, "
                          "--onnx FILE, --tensorboard DIR, --csv FILE, --script FILE or "
                          "--traversals FILE")
    written: list[Path] = []
    with Session.open(args.session) as session:
        run_ = session.run(args.run_id)
        if args.epoch is not None and args.epoch not in run_.snapshot_epochs:
            run_.snapshot(args.epoch)   # raises the reader's message (saved epochs listed)
        steps = _steps(args, run_)
        for check, _ in steps:   # every format first: a refusal leaves nothing half done
            check()
        if args.out is not None or args.onnx is not None or args.traversals is not None:
            note = _weights_note(run_, args.epoch)
            if note:
                print(note)
        for _, write in steps:
            written += write()
    for path in written:
        print(path)
    return 0


def _weights_note(run_, epoch: int | None) -> str | None:
    """Say so when the decoder of ``epoch`` has the weights of an earlier epoch (a session
    keeps weights at a bounded set of epochs: docs/session-format.md)."""
    if not run_.snapshot_epochs:
        return None
    epoch = run_.snapshot_epochs[-1] if epoch is None else epoch
    kept = run_.weights_epoch_for(epoch)
    if kept is None or kept == epoch:
        return None
    return (f"note: epoch {epoch} kept no weights of its own (the session keeps them at "
            f"epochs {', '.join(map(str, run_.weight_epochs))}): its decoded figures and "
            f"ONNX decoder use the weights of epoch {kept}")


def _steps(args, run_) -> list[tuple]:
    """(check, write) for each requested format, in the order they are written."""
    from engine.export import (csv_tables, figures, latent_gif, onnx_model, script,
                               traversal_figures)
    from engine.export import tensorboard_events as tb
    force, steps = args.force, []
    if args.out is not None:
        steps.append((lambda: figures.check_figures(run_, args.epoch, args.out, force),
                      lambda: figures.export_epoch(run_, args.epoch, args.out, force=force,
                                                   scale=max(1, args.scale))))
    if args.gif is not None:
        steps.append((lambda: latent_gif.check_gif(run_, args.gif, force),
                      lambda: [latent_gif.export_gif(run_, args.gif, force=force)]))
    if args.traversals is not None:
        steps.append((lambda: traversal_figures.check_traversals(run_, args.traversals, force),
                      lambda: traversal_figures.export_traversals(
                          run_, args.traversals, args.epoch, args.traversal_image,
                          args.traversal_range, force=force)))
    if args.csv is not None:
        steps.append((lambda: csv_tables.check_csv(args.csv, force),
                      lambda: [csv_tables.export_csv(run_, args.csv, force=force)]))
    if args.script is not None:
        steps.append((lambda: script.check_script(run_, args.script, force),
                      lambda: script.export_script(run_, args.script, force=force)))
    if args.onnx is not None:
        steps.append((lambda: onnx_model.check_onnx(run_, args.onnx, force),
                      lambda: onnx_model.export_onnx(run_, args.epoch, args.onnx,
                                                     force=force)))
    if args.tensorboard is not None:
        def tensorboard() -> list[Path]:
            folder = tb.export_tensorboard(run_, args.tensorboard, force=force)
            print(f"TensorBoard: tensorboard --logdir {args.tensorboard}")
            return [folder]
        steps.append((lambda: tb.check_tensorboard(run_, args.tensorboard, force), tensorboard))
    return steps
