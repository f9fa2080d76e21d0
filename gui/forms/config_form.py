"""Between the run-settings form and :class:`~engine.config.RunConfig`, with no Qt.

The form holds text as typed; :func:`config_from_form` turns it into a
validated config or a reason per field. Field keys are the config's dotted
names (``optim.lr``), the same names the engine's
:class:`~engine.errors.ConfigError` messages start with, so an engine
message lands beside the field it is about. Fields the form does not show
(activation, likelihood levels, …) come from the *base* config — the preset
the user started from. An engine :class:`~engine.errors.ConfigError` names
its field in ``field``, so it lands beside the field it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.config import RunConfig
from engine.errors import ConfigError
from engine.presets import described_for_data
from gui.forms import pretrain_form
from gui.forms.family_form import FamilyValues, put_family_fields, values_from_config
from gui.forms.pretrain_form import PretrainValues

#: Default regulariser settings when a kind is ticked on a config that had none.
KIND_DEFAULTS = {"sparsity": "0.05", "contractive": "0.1", "corruption": "masking",
                 "corruption_level": "0.3", "beta": "1"}
GENERAL = ""                   # key of errors that belong to no single field


@dataclass
class FormValues:
    """What the run-settings form shows: choices and text exactly as entered."""

    source: str = "mnist"
    path: str = ""
    points: str = ""          # a drawn distribution's points (engine.data.drawn)
    limit: str = ""
    image_size: str = ""
    sparse: bool = False
    contractive: bool = False
    denoising: bool = False
    variational: bool = False
    architecture: str = "mlp"
    hidden: str = "400"
    latent_dim: str = "20"
    likelihood: str = "bernoulli"
    sparsity: str = "0"
    contractive_weight: str = "0"
    beta: str = "1"
    corruption: str = "masking"
    corruption_level: str = "0.3"
    optimizer: str = "adam"
    lr: str = "0.001"
    batch_size: str = "128"
    epochs: str = "10"
    device: str = "auto"
    seed: str = "0"
    pretraining: PretrainValues = field(default_factory=PretrainValues)
    family: FamilyValues = field(default_factory=FamilyValues)


def _num(x: float) -> str:
    return f"{x:g}"


def form_from_config(cfg: RunConfig) -> FormValues:
    """The form's values for ``cfg``."""
    o, m, op, d = cfg.objective, cfg.model, cfg.optim, cfg.data
    return FormValues(
        source=d.source, path=d.path or "", limit="" if d.limit is None else str(d.limit),
        image_size="" if d.image_size is None else str(d.image_size), points=d.points,
        sparse=o.sparsity > 0, contractive=o.contractive > 0,
        denoising=o.corruption != "none", variational=m.variational,
        architecture=m.architecture, hidden=", ".join(str(h) for h in m.hidden),
        latent_dim=str(m.latent_dim), likelihood=o.likelihood,
        sparsity=_num(o.sparsity) if o.sparsity > 0 else KIND_DEFAULTS["sparsity"],
        contractive_weight=(_num(o.contractive) if o.contractive > 0
                            else KIND_DEFAULTS["contractive"]),
        beta=_num(o.beta),
        corruption=o.corruption if o.corruption != "none" else KIND_DEFAULTS["corruption"],
        corruption_level=(_num(o.corruption_level) if o.corruption != "none"
                          else KIND_DEFAULTS["corruption_level"]),
        optimizer=op.optimizer, lr=_num(op.lr), batch_size=str(op.batch_size),
        epochs=str(op.epochs), device=cfg.device, seed=str(cfg.seed),
        pretraining=pretrain_form.values_from_config(cfg),
        family=values_from_config(cfg))


def config_from_form(base: RunConfig, v: FormValues) -> tuple[RunConfig | None, dict[str, str]]:
    """Build and validate the config the form describes.

    Returns
    -------
    (config, {}) when valid, else (None, {field key: reason}); every field
    with a problem is reported, not only the first.
    """
    errors: dict[str, str] = {}
    d = base.to_dict()

    def put(key: str, value: Any) -> None:
        node = d
        *parents, leaf = key.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value

    def number(key: str, text: str, kind=float, optional: bool = False) -> Any:
        text = text.strip()
        if optional and text.lower() in ("", "all", "none"):
            return None
        try:
            return kind(text) if kind is float else int(text, 10)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            errors[key] = f"{key} must be {what} (got {text!r})"
            return None

    put("data.source", v.source)
    # Only the file source reads a path: one left in the hidden field is not recorded.
    put("data.path", (v.path.strip() or None) if v.source == "file" else None)
    put("data.points", v.points if v.source == "drawn" else "")   # a drawing: drawn's alone
    if v.source == "file":
        if not v.path.strip():
            errors["data.path"] = "data.path: choose a data file or folder (File… or Folder…)"
        elif not Path(v.path.strip()).expanduser().exists():
            errors["data.path"] = f"data.path: no such file or folder: {v.path.strip()}"
    put("data.limit", number("data.limit", v.limit, int, optional=True))
    put("data.image_size", number("data.image_size", v.image_size, int, optional=True))
    put("model.architecture", v.architecture)
    put("model.hidden", _widths(v.hidden, errors))
    put("model.latent_dim", number("model.latent_dim", v.latent_dim, int))
    put("model.variational", v.variational)
    put("objective.likelihood", v.likelihood)
    for ticked, key, text, kind_name in (
            (v.sparse, "objective.sparsity", v.sparsity, "sparse"),
            (v.contractive, "objective.contractive", v.contractive_weight, "contractive")):
        value = number(key, text) if ticked else 0.0
        if ticked and value is not None and value <= 0 and key not in errors:
            errors[key] = (f"{key} must be > 0 for a {kind_name} autoencoder "
                           f"(untick '{kind_name}' for none)")
        put(key, value)
    if v.variational:
        put("objective.beta", number("objective.beta", v.beta))
    put("objective.corruption", v.corruption if v.denoising else "none")
    put("objective.corruption_level",
        number("objective.corruption_level", v.corruption_level) if v.denoising else 0.0)
    put("optim.optimizer", v.optimizer)
    put("optim.lr", number("optim.lr", v.lr))
    put("optim.batch_size", number("optim.batch_size", v.batch_size, int))
    put("optim.epochs", number("optim.epochs", v.epochs, int))
    put("device", v.device)
    put("seed", number("seed", v.seed, int))
    for key in errors:  # unparsable text: validate the rest with the base's value there
        if key in _PATHS:
            put(key, _get(base.to_dict(), key))
    if "data.path" in errors:  # a placeholder, so the other fields are still checked
        put("data.path", "(path to check)")
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


_PATHS = {"data.path", "data.limit", "data.image_size", "model.hidden", "model.latent_dim", "objective.sparsity",
          "objective.contractive", "objective.beta", "objective.corruption_level", "optim.lr",
          "optim.batch_size", "optim.epochs", "seed"}


def _get(d: dict, key: str) -> Any:
    for p in key.split("."):
        d = d[p]
    return d


def _widths(text: str, errors: dict[str, str]) -> list[int]:
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        return [int(p, 10) for p in parts]
    except ValueError:
        errors["model.hidden"] = (f"model.hidden must be layer widths separated by commas, "
                                  f"e.g. 512, 256 (got {text!r})")
        return []


def _validate_collecting(d: dict, base: RunConfig, errors: dict[str, str]) -> RunConfig | None:
    """Validate; on each field error, note it, restore the base value there, and go on."""
    base_d = base.to_dict()
    for _ in range(len(_PATHS) + 8):
        try:
            return RunConfig.from_dict(d)
        except ConfigError as e:
            key = e.base_field
            errors.setdefault(key, str(e))
            try:
                restored = _get(base_d, key)
                node = d
                *parents, leaf = key.split(".")
                for p in parents:
                    node = node[p]
                if node[leaf] == restored:
                    return None      # the base itself is invalid here: nothing more to learn
                node[leaf] = restored
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
