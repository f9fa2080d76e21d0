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


@pytest.mark.parametrize("field,value,where,needle", [
    ("model.latent_dim", 0, "model.latent_dim", "model.latent_dim"),
    ("model.latent_dim", 8193, "model.latent_dim", "1 to 8192"),
    ("model.hidden", [0], "model.hidden[0]", "model.hidden[0]"),
    ("model.hidden", [8, 9000], "model.hidden[1]", "1 to 8192"),
    ("model.family", "no-such family", "model.family", "model.family"),
    ("optim.lr", -1.0, "optim.lr", "optim.lr"),
    ("optim.batch_size", 2.5, "optim.batch_size", "optim.batch_size"),
    ("objective.likelihood", "poisson", "objective.likelihood",
     "gaussian, bernoulli, categorical"),
    ("objective.corruption_level", 1.5, "objective.corruption_level",
     "objective.corruption_level"),
    ("data.source", "cifar", "data.source", "data.source"),
    ("device", "tpu", "device", "device"),
])
def test_invalid_values_are_rejected_with_the_field_name(field, value, where, needle):
    over = {field: value}
    if field == "objective.corruption_level":
        over["objective.corruption"] = "masking"
    with pytest.raises(ConfigError, match=None) as err:
        RunConfig().with_overrides(over)
    e = err.value
    assert needle in str(e)
    # The window reads .field to mark the widget; the CLI prints "<field> <problem>".
    assert e.field == where and e.base_field == where.split("[")[0]
    assert str(e) == f"{e.field} {e.problem}"
    shown = value[-1] if isinstance(value, list) else value
    assert f"(got {shown!r})" in e.problem


def test_an_unknown_family_is_refused_when_a_model_is_built():
    from engine.models import FAMILIES, build_model
    cfg = RunConfig().with_overrides({"model.family": "flow"})  # a valid name, no such family
    with pytest.raises(ConfigError) as err:
        build_model(cfg, (1, 28, 28))
    assert err.value.field == "model.family"
    for name in FAMILIES:
        assert name in err.value.problem


def test_a_misspelt_field_suggests_the_right_one():
    with pytest.raises(ConfigError) as err:
        RunConfig().with_overrides({"model.latnet_dim": 8})
    message = str(err.value)
    assert "unknown config field 'model.latnet_dim'" in message
    assert "did you mean model.latent_dim" in message


def test_optional_sections_are_created_by_setting_a_field_and_removed_by_none():
    base = RunConfig().with_overrides({"model.family": "classifier"})
    assert base.classifier is None and "classifier" not in base.to_dict()
    cfg = base.with_overrides({"classifier.labels": 100})
    assert cfg.classifier is not None and cfg.classifier.labels == 100
    assert (cfg.classifier.freeze, cfg.classifier.init) == (False, "pretrained")
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert cfg.kinds() == ["classifier"]
    assert cfg.with_overrides({"classifier": None}).classifier is None
    # The section belongs to classifier runs only, and its values are checked.
    with pytest.raises(ConfigError) as err:
        RunConfig().with_overrides({"classifier.labels": 100})
    assert err.value.field == "classifier"
    with pytest.raises(ConfigError) as err:
        base.with_overrides({"classifier.init": "imagenet"})
    assert err.value.field == "classifier.init" and "pretrained, random" in err.value.problem
    with pytest.raises(ConfigError) as err:
        base.with_overrides({"classifier.labels": 0})
    assert err.value.field == "classifier.labels"


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


def test_a_family_registers_its_own_settings_and_they_are_parsed_checked_and_shown():
    """A family's settings dataclass, registered beside it, is a config section like any."""
    from dataclasses import dataclass

    from engine.fields import setting
    from engine.settings import FAMILY_SETTINGS, SectionSettings, family_settings
    from gui.forms.family_form import put_family_fields, values_from_config

    @family_settings("toy")
    @dataclass(frozen=True)
    class ToyConfig(SectionSettings):
        families = ("toyfam",)
        used_for = "model.family toyfam"
        steps: int = setting(2, lo=1, hi=9, label="Steps", form="family")

    try:
        base = RunConfig().with_overrides({"model.family": "toyfam"})
        assert base.toy is None and base.toy_settings.steps == 2
        cfg = base.with_overrides({"toy.steps": 3})
        assert cfg.toy.steps == 3 and cfg.to_dict()["toy"] == {"steps": 3}
        assert RunConfig.from_json(cfg.to_json()) == cfg
        with pytest.raises(ConfigError) as err:
            base.with_overrides({"toy.steps": 0})
        assert err.value.field == "toy.steps" and "from 1 to 9" in err.value.problem
        with pytest.raises(ConfigError, match="did you mean toy.steps"):
            base.with_overrides({"toy.stpes": 3})
        with pytest.raises(ConfigError) as err:                # not this family's section
            RunConfig().with_overrides({"toy.steps": 3})
        assert err.value.field == "toy" and "model.family toyfam" in err.value.problem
        # The form shows the family's own fields, and a family without any gets none.
        v = values_from_config(cfg)
        assert v.text == {"steps": "3"}
        d, errors = cfg.to_dict(), {}
        v.text["steps"] = "many"
        put_family_fields(d, v, errors)
        assert set(errors) == {"toy.steps"}
        assert values_from_config(RunConfig().with_overrides(
            {"model.family": "flow"})).text == {}
    finally:
        FAMILY_SETTINGS.pop("toy", None)


def test_a_config_read_in_a_fresh_interpreter_knows_the_families_sections():
    """The families register their sections as engine.models imports them; a config read
    before anything imported the models (a script's first line) must still know them."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    code = ("import json, sys; from engine.config import RunConfig; "
            "assert 'engine.models' not in sys.modules; "
            "d = json.load(open('resources/presets/gan-toy.json')); d = d.get('config', d); "
            "print(RunConfig.from_dict(d).gan.d_steps)")
    r = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1"
