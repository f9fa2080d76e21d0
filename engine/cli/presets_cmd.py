"""``python main.py presets``: list the presets with a line each."""

from __future__ import annotations

from engine.presets import load_preset, preset_names


def add_parser(sub) -> None:
    p = sub.add_parser("presets", help="list the presets")
    p.set_defaults(run=run)


def run(args) -> int:
    names = preset_names()
    width = max(len(n) for n in names)
    for name in names:
        cfg = load_preset(name)
        print(f"{name:<{width}}  [{cfg.kind_label()}] {cfg.description}")
    return 0
