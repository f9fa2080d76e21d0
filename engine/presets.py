"""Named starting points: the JSON run configs in ``resources/presets``."""

from __future__ import annotations

import json
from importlib import resources as ir

from engine.config import RunConfig
from engine.errors import ConfigError

DEFAULT_PRESET = "variational"


def _folder():
    return ir.files("resources").joinpath("presets")


def preset_names() -> list[str]:
    """All preset names, sorted."""
    return sorted(p.name[:-5] for p in _folder().iterdir() if p.name.endswith(".json"))


def load_preset(name: str) -> RunConfig:
    """The validated config of a preset.

    Raises
    ------
    ConfigError
        For an unknown name (the message lists the known ones).
    """
    path = _folder().joinpath(f"{name}.json")
    if not path.is_file():
        raise ConfigError(f"unknown preset '{name}'; available: {', '.join(preset_names())}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ConfigError(f"preset '{name}' is not valid JSON: {e}") from None
    return RunConfig.from_dict(data)
