"""Config validation names the field; JSON round-trips; presets are valid."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import RunConfig
from engine.errors import ConfigError
from engine.presets import load_preset, preset_names

ROOT = Path(__file__).resolve().parents[2]


def test_json_round_trip_of_every_preset():
    for name in preset_names():
        cfg = load_preset(name)
        again = RunConfig.from_json(cfg.to_json())
        assert again == cfg
        assert json.loads(again.to_json()) == json.loads(cfg.to_json())


def test_presets_cover_every_kind_and_the_sprites_vae():
    kinds = {k for n in preset_names() for k in load_preset(n).kinds()}
    assert {"plain", "sparse", "contractive", "denoising", "variational"} <= kinds
    sprites = load_preset("sprites-vae-2d")
    assert sprites.data.source == "sprites" and sprites.model.latent_dim == 2
    assert sprites.model.variational


@pytest.mark.parametrize("field,value,needle", [
    ("model.latent_dim", 0, "model.latent_dim"),
    ("model.latent_dim", 513, "1 to 512"),
    ("model.hidden", [0], "model.hidden[0]"),
    ("optim.lr", -1.0, "optim.lr"),
    ("optim.batch_size", 2.5, "optim.batch_size"),
    ("objective.likelihood", "poisson", "gaussian, bernoulli, categorical"),
    ("objective.corruption_level", 1.5, "objective.corruption_level"),
    ("data.source", "cifar", "data.source"),
    ("device", "tpu", "device"),
])
def test_invalid_values_are_rejected_with_the_field_name(field, value, needle):
    over = {field: value}
    if field == "objective.corruption_level":
        over["objective.corruption"] = "masking"
    with pytest.raises(ConfigError, match=None) as err:
        RunConfig().with_overrides(over)
    assert needle in str(err.value)


def test_unknown_fields_are_rejected():
    with pytest.raises(ConfigError, match="model.widths"):
        RunConfig.from_dict({"model": {"widths": [3]}})
    with pytest.raises(ConfigError, match="unknown config field 'colour'"):
        RunConfig.from_dict({"colour": 1})


def test_kinds_follow_from_the_settings():
    assert RunConfig().kinds() == ["plain"]
    cfg = RunConfig().with_overrides({"objective.corruption": "gaussian",
                                      "objective.corruption_level": 0.1,
                                      "model.variational": True})
    assert cfg.kinds() == ["denoising", "variational"]


def test_importing_the_engine_loads_no_qt():
    code = ("import sys, engine, engine.trainer, engine.cli, engine.decoding; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'shiboken6', 'pyqtgraph')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"
