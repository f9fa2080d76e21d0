"""Named starting points: the JSON run configs in ``resources/presets``."""

from __future__ import annotations

import difflib
import json
from importlib import resources as ir
from pathlib import Path

import engine.models  # noqa: F401  (registers every family and its settings section)
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
        names = preset_names()
        close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown preset '{name}'{hint} (available: {', '.join(names)})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ConfigError(f"preset '{name}' is not valid JSON: {e}") from None
    return RunConfig.from_dict(data)


#: How the presets' descriptions name each source of data ("... on MNIST").
DATA_WORDS = {"mnist": "MNIST", "sprites": "procedural sprites",
              "moons": "two moons (2-D points)", "rings": "rings (2-D points)",
              "spiral": "a spiral (2-D points)",
              "gaussians": "8 Gaussians on a circle (2-D points)",
              "drawn": "points drawn by hand (2-D)"}


def data_words(config: RunConfig) -> str:
    """The data a config trains on, in a few words: ``MNIST``, ``mine.npy``."""
    d = config.data
    if d.source == "file":
        return Path(d.path).name if d.path else "a file"
    return DATA_WORDS.get(d.source, d.source)


def described_for_data(config: RunConfig, base: RunConfig) -> RunConfig:
    """``config`` (``base`` with settings changed) with a description that names its data.

    A preset's text names the data it was written for; when the data changed, that
    phrase ("on MNIST") is replaced, or a sentence saying the data is added.
    """
    old, new = data_words(base), data_words(config)
    text = config.description
    if old == new or not text:
        return config
    if f"on {old}" in text:
        text = text.replace(f"on {old}", f"on {new}", 1)
    else:
        text = f"{text.rstrip()} Here on {new}."
    return config.replace(description=text)
