"""``python main.py config --preset NAME``: print a run config as JSON, to start a file from.

``python main.py config --preset vae-2d --set model.latent_dim=3 > my_run.json`` writes a
complete, validated config; edit it and train it with ``train --config my_run.json``.
"""

from __future__ import annotations

from pathlib import Path

from engine.cli.common import add_config_options, config_from_args
from engine.errors import ConfigError


def add_parser(sub) -> None:
    p = sub.add_parser("config", help="print a preset (or a config with changes) as JSON",
                       description="Print a complete run config as JSON: a preset, or a "
                                   "config file, with any --set changes applied and checked. "
                                   "Save it (--out, or > my_run.json), edit it, and train it "
                                   "with 'train --config my_run.json'.")
    add_config_options(p)
    p.add_argument("--out", type=Path, metavar="FILE.json", help="write it here instead")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(run=run)


def run(args) -> int:
    text = config_from_args(args).to_json()
    if args.out is None:
        print(text)
        return 0
    if args.out.exists() and not args.force:
        raise ConfigError(f"{args.out} already exists; choose another name or pass --force "
                          "to replace it", "--out")
    try:
        args.out.write_text(text + "\n", encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot write {args.out}: {e.strerror or e}", "--out") from None
    print(f"config saved to {args.out} (train it: python main.py train --config {args.out})")
    return 0
