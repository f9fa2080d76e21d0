"""Every preset's loss terms after a short seeded CPU run, to show a refactoring changed nothing.

Trains each preset (``resources/presets``) for one short epoch on a few hundred
images or points, on the CPU with one thread, and records every logged training
term and every validation term exactly (as ``float.hex``). Run it before a
change with ``--out before.json`` and after it with ``--compare before.json``:
it prints, per preset, ``identical`` or the first term that differs.

    python scripts/preset_fingerprints.py --out /tmp/before.json
    python scripts/preset_fingerprints.py --compare /tmp/before.json

A preset with a ``pretraining`` section runs its greedy stages (one epoch each).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from engine.events import EpochEnded, StepMetrics  # noqa: E402
from engine.presets import load_preset, preset_names  # noqa: E402

SMALL = {"data.limit": 400, "data.n_points": 400, "data.n_sprites": 400,
         "optim.epochs": 1, "optim.batch_size": 64, "device": "cpu", "seed": 3}


def fingerprint(name: str) -> list[str]:
    """The preset's terms, step by step, then each epoch's validation terms, as hex floats."""
    cfg = load_preset(name)
    small = {k: v for k, v in SMALL.items()
             if k.split(".")[-1] in _fields(cfg, k.split(".")[0])}
    if cfg.pretraining is not None:
        small["pretraining.end_to_end_epochs"] = min(1, cfg.pretraining.end_to_end_epochs)
    if getattr(cfg, "rbm", None) is not None:
        small["rbm.ais_chains"], small["rbm.ais_steps"] = 4, 20
    cfg = cfg.with_overrides(small)
    out: list[str] = []

    def emit(event) -> None:
        if isinstance(event, StepMetrics):
            out.append(f"step {event.step} " + " ".join(
                f"{k}={float(v).hex()}" for k, v in sorted(event.terms.items())))
        elif isinstance(event, EpochEnded):
            out.append(f"epoch {event.epoch} " + " ".join(
                f"val/{k}={float(v).hex()}" for k, v in sorted(event.val.items())))

    # Through the one job runner, as the window, the CLI, lessons and sweeps train. A greedy
    # pretraining keeps its snapshots (its stages' probes are part of what it computes).
    from engine.jobs import new_job, run_job
    flags = {} if cfg.pretraining is not None else {"snapshots": False, "checkpoints": False}
    run_job(new_job(cfg, **flags), emit)
    return out


def _fields(cfg, section: str) -> set[str]:
    value = cfg if section in ("device", "seed") else getattr(cfg, section, None)
    if section in ("device", "seed"):
        return {section}
    return set(vars(value)) if value is not None else set()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, help="write the fingerprints here (JSON)")
    p.add_argument("--compare", type=Path, help="compare with fingerprints written before")
    p.add_argument("presets", nargs="*", help="presets (default: all)")
    args = p.parse_args()
    torch.set_num_threads(1)
    names = args.presets or preset_names()
    prints = {}
    for name in names:
        prints[name] = fingerprint(name)
        print(f"{name}: {len(prints[name])} lines", flush=True)
    if args.out:
        args.out.write_text(json.dumps(prints, indent=1))
    if args.compare:
        before = json.loads(args.compare.read_text())
        differ = 0
        for name in names:
            old, new = before.get(name), prints[name]
            if old is None:
                print(f"{name}: not in {args.compare}")
                continue
            if old == new:
                print(f"{name}: identical ({len(new)} lines)")
                continue
            differ += 1
            first = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b),
                         min(len(old), len(new)))
            print(f"{name}: DIFFERS at line {first}:\n  before {old[first:first + 1]}\n"
                  f"  after  {new[first:first + 1]}")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
