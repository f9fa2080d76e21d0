"""A model family's own settings in the run-settings form, with no Qt.

A family with settings of its own (a GAN's ``gan``, an RBM's ``rbm``
section) registers them beside its model (:mod:`engine.settings`); the form
shows the fields their description puts in the form (``form="family"``), and
:func:`put_family_fields` writes them into the config dictionary the form
validates. Field keys are the config's dotted names (``gan.d_steps``), so the
engine's messages land beside them. A family without settings shows none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import engine.models  # noqa: F401  (registers every family and its settings section)
from engine import fields as F
from engine.config import RunConfig
from engine.settings import registered_settings, settings_for_family
from gui.forms.field_text import from_text, to_text


def form_fields(settings: type) -> list[F.FieldInfo]:
    """The fields of a family's settings that the form shows, check boxes last."""
    shown = [fi for fi in F.described(settings) if fi.get("form") == "family"]
    return sorted(shown, key=lambda fi: fi.kind is bool)


def all_family_settings() -> dict[str, type]:
    """Every family's settings section by config name (the form builds a group row each)."""
    return registered_settings()


@dataclass
class FamilyValues:
    """The family fields as entered: the family and, per field, its text or check state."""

    family: str = "autoencoder"
    text: dict[str, Any] = field(default_factory=dict)


def values_from_config(cfg: RunConfig) -> FamilyValues:
    own = settings_for_family(cfg.model.family)
    if own is None:
        return FamilyValues(cfg.model.family)
    name, settings = own
    section = cfg.settings_of(name)
    return FamilyValues(cfg.model.family, {fi.name: to_text(fi, getattr(section, fi.name))
                                           for fi in form_fields(settings)})


def put_family_fields(d: dict[str, Any], v: FamilyValues, errors: dict[str, str]) -> None:
    """Write the family's section into config dict ``d``; unparsable text into ``errors``."""
    own = settings_for_family(v.family)
    if own is None:
        return
    name, settings = own
    defaults = F.to_dict(settings())
    section = dict(d.get(name) or defaults)
    for fi in form_fields(settings):
        key = f"{name}.{fi.name}"
        value, problem = from_text(fi, key, v.text.get(fi.name, to_text(fi, fi.default)))
        if problem:
            errors[key] = problem
            value = defaults[fi.name]
        section[fi.name] = value
    d[name] = section
