"""Between the run-settings form and :class:`~engine.config.RunConfig`, with no Qt.

The form holds text as typed; :func:`config_from_form` turns it into a
validated config or a reason per field. Field keys are the config's dotted
names (``optim.lr``), the same names the engine's
:class:`~engine.errors.ConfigError` messages start with, so an engine
message lands beside the field it is about. Fields the form does not show
(activation, likelihood levels, …) come from the *base* config — the preset
the user started from. Which fields it shows, their words and how their
text parses all come from the fields' descriptions (:mod:`engine.fields`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import fields as F
from engine.config import SECTIONS, RunConfig, kind_fields
from engine.errors import ConfigError
from engine.presets import described_for_data
from gui.forms import pretrain_form
from gui.forms.family_form import FamilyValues, put_family_fields, values_from_config
from gui.forms.pretrain_form import PretrainValues
from gui.forms.field_text import from_text, to_text

GENERAL = ""                   # key of errors that belong to no single field
#: The sections whose fields the form may show, by config name ("" : the top level).
_SECTIONS = {**{n: SECTIONS[n] for n in ("data", "model", "objective", "optim")}, "": RunConfig}


def form_fields() -> list[tuple[str, F.FieldInfo]]:
    """``(dotted key, field)`` of every field the form shows, in declaration order."""
    return [(f"{s}.{fi.name}" if s else fi.name, fi) for s, cls in _SECTIONS.items()
            for fi in F.described(cls) if fi.get("form")]


def kinds() -> list[tuple[str, str]]:
    """``(kind, what it does)`` of each autoencoder kind the form ticks, in order."""
    return [(fi.get("kind"), fi.get("kind_help", "")) for _, fi in kind_fields()]


@dataclass
class FormValues:
    """What the run-settings form shows, exactly as entered.

    Attributes
    ----------
    fields : dotted key -> text as typed, a choice's value or a check box's state.
    kinds : autoencoder kind -> ticked (a kind's fields count only when it is).
    """

    fields: dict[str, Any] = field(default_factory=dict)
    kinds: dict[str, bool] = field(default_factory=dict)
    pretraining: PretrainValues = field(default_factory=PretrainValues)
    family: FamilyValues = field(default_factory=FamilyValues)


def _switch(fi: F.FieldInfo) -> str | None:
    """The kind a field belongs to (it counts only while that kind is ticked)."""
    return fi.get("kind") or fi.get("needs")


def form_from_config(cfg: RunConfig) -> FormValues:
    """The form's values for ``cfg``."""
    d = cfg.to_dict()
    ticked = {fi.get("kind"): _get(d, f"{s}.{fi.name}") != fi.get("off", False)
              for s, fi in kind_fields()}
    values = {}
    for key, fi in form_fields():
        value = _get(d, key)
        if _switch(fi) and "off" in fi.meta and value == fi.get("off"):
            values[key] = fi.get("on")          # what a ticked kind starts from
        else:
            values[key] = to_text(fi, value)
    return FormValues(values, ticked, pretrain_form.values_from_config(cfg),
                      values_from_config(cfg))


def shown(fi: F.FieldInfo, values: dict[str, Any]) -> bool:
    """Whether the form shows ``fi`` for these values (its ``when`` / ``unless``)."""
    return (all(values.get(k) in allowed for k, allowed in fi.get("when", {}).items())
            and not any(values.get(k) in no for k, no in fi.get("unless", {}).items()))


def config_from_form(base: RunConfig, v: FormValues) -> tuple[RunConfig | None, dict[str, str]]:
    """Build and validate the config the form describes.

    Returns
    -------
    (config, {}) when valid, else (None, {field key: reason}); every field
    with a problem is reported, not only the first.
    """
    errors: dict[str, str] = {}
    d = base.to_dict()
    base_d = base.to_dict()
    for key, fi in form_fields():
        kind = _switch(fi)
        if not shown(fi, v.fields):
            _put(d, key, fi.default)    # a hidden field is not recorded (a stale path)
        elif kind and fi.kind is bool:
            _put(d, key, bool(v.kinds.get(kind)))
        elif kind and not v.kinds.get(kind):
            if "off" in fi.meta:
                _put(d, key, fi.get("off"))
        else:
            value, problem = from_text(fi, key, v.fields.get(key, ""))
            if (not problem and fi.get("kind") and fi.kind in (int, float)
                    and value <= fi.get("off")):
                problem = f"{key} must be > 0 for a {kind} autoencoder (untick '{kind}' for none)"
            if not problem and fi.get("widget") == "path":
                problem = _path_problem(key, value)
            if problem:
                errors[key] = problem
            _put(d, key, _get(base_d, key) if problem else value)
    if "data.path" in errors:  # a placeholder, so the other fields are still checked
        _put(d, "data.path", "(path to check)")
    put_family_fields(d, v.family, errors)
    pre = v.pretraining
    rbm_section = None
    if pre.enabled:
        # RBM stages' settings join the pretraining section in finish(): the stacked
        # model is validated first, and an rbm section alone would be refused there.
        rbm_section, d["rbm"] = d.get("rbm"), None
        pretrain_form.put_stacked_model(d, pre, errors)
    else:
        d["pretraining"] = None
    cfg = _validate_collecting(d, base, errors)
    if pre.enabled:
        cfg = pretrain_form.finish(cfg, pre, errors, rbm_section)
    if errors or cfg is None:
        return None, errors
    return described_for_data(cfg, base), {}


def _path_problem(key: str, path: str | None) -> str:
    if not path:
        return f"{key}: choose a data file or folder (File… or Folder…)"
    if not Path(path).expanduser().exists():
        return f"{key}: no such file or folder: {path}"
    return ""


def _put(d: dict, key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    for p in parents:
        d = d[p]
    d[leaf] = value


def _get(d: dict, key: str) -> Any:
    for p in key.split("."):
        d = d[p]
    return d


def _validate_collecting(d: dict, base: RunConfig, errors: dict[str, str]) -> RunConfig | None:
    """Validate; on each field error, note it, restore the base value there, and go on."""
    base_d = base.to_dict()
    for _ in range(len(form_fields()) + 8):
        try:
            return RunConfig.from_dict(d)
        except ConfigError as e:
            key = e.base_field
            errors.setdefault(key, str(e))
            try:
                restored = _get(base_d, key)
                if _get(d, key) == restored:
                    return None      # the base itself is invalid here: nothing more to learn
                _put(d, key, restored)
            except (KeyError, TypeError):
                return None
    return None


_FIELD = re.compile(r"\b([a-z_]+(?:\.[a-z_]+)*)(?:\[(\d+)\])?")


def in_words(message: str, labels: dict[str, str]) -> str:
    """An engine message with each config field it names replaced by that field's label.

    The engine names fields as the config does (``model.latent_dim must be …``,
    ``model.hidden[1] …``); under a field called "Latent size" the user should
    read "Latent size must be …", "Hidden (layer 2) …". Names the form does not
    show stay as they are.
    """
    def word(m: re.Match) -> str:
        name, index = m.group(1), m.group(2)
        label = labels.get(name)
        # A plain word ("seed", "device") is a field name only where a message starts.
        if label is None or ("." not in name and m.start() > 0):
            return m.group(0)
        return f"{label} (layer {int(index) + 1})" if index is not None else label
    text = _FIELD.sub(word, message)
    first = text.split(" ", 1)[0]
    return text if not text or "." in first else text[:1].upper() + text[1:]
