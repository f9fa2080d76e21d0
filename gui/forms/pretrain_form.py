"""The greedy-pretraining part of the run-settings form, with no Qt.

In pretraining mode the form describes a :class:`~engine.config.RunConfig`
whose ``model`` is the stacked MLP
(``hidden = widths[:-1]``, ``latent_dim = widths[-1]``, one activation
everywhere), whose ``optim.epochs`` are the epochs of each stage, and which
carries a ``pretraining`` section (kinds per stage, end-to-end epochs). That
is exactly what the ``stacked-pretraining`` preset holds, so a preset, a
session's config and the form all round-trip through one representation.

Errors are keyed like the other form fields; the keys below are the ones
the pretraining group shows under its own fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.config import RunConfig
from engine.errors import ConfigError
from engine.validation import (MAX_STAGE_WIDTH as MAX_WIDTH, MAX_STAGES, RBM_KIND,
                               SHARED_KIND, STACK_ACTIVATIONS, STAGE_KINDS)

WIDTHS = "pretraining.widths"
KINDS = "pretraining.kinds"
UNITS = "pretraining.units"
STAGE_EPOCHS = "pretraining.stage_epochs"
END_TO_END_EPOCHS = "pretraining.end_to_end_epochs"

#: What a stage may be, as (text shown, engine kind). "shared" keeps every
#: regulariser ticked under Kind, so it is the natural default.
KIND_CHOICES = ([("as ticked under Kind", SHARED_KIND)] + [(k, k) for k in STAGE_KINDS]
                + [("RBM (a deep belief network's layer)", RBM_KIND)])
#: The kind checkbox a stage kind needs ticked (its strength lives there).
KIND_NEEDS_CHECK = {"sparse": "sparse", "contractive": "contractive", "denoising": "denoising"}

#: Form errors about the ordinary fields that pretraining mode replaces.
_REPLACED = {"model.hidden": WIDTHS, "model.latent_dim": WIDTHS, "model.architecture": WIDTHS,
             "optim.epochs": STAGE_EPOCHS, "model.activation": UNITS,
             "model.code_activation": UNITS}
_DEFAULT_WIDTHS = "256, 64"


@dataclass
class PretrainValues:
    """The pretraining fields as entered.

    Attributes
    ----------
    enabled : pretraining mode on.
    widths : stage widths as typed, e.g. ``"256, 64"``.
    kinds : one engine kind per stage (``"shared"``, ``"denoising"``, ...).
    units : the activation of every stage (sigmoid, tanh or relu).
    stage_epochs, end_to_end_epochs : as typed.
    """

    enabled: bool = False
    widths: str = _DEFAULT_WIDTHS
    kinds: tuple[str, ...] = (SHARED_KIND, SHARED_KIND)
    units: str = "sigmoid"
    stage_epochs: str = "10"
    end_to_end_epochs: str = "0"


def parse_widths(text: str) -> tuple[tuple[int, ...] | None, str]:
    """``"256, 64"`` -> ``((256, 64), "")``; on a problem ``(None, reason)``."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        widths = tuple(int(p, 10) for p in parts)
    except ValueError:
        return None, f"Stage widths must be whole numbers separated by commas, e.g. 256, 64 " \
                     f"(got {text!r})"
    if not 1 <= len(widths) <= MAX_STAGES:
        return None, f"Stage widths: give 1 to {MAX_STAGES} stages, e.g. 256, 64"
    for i, w in enumerate(widths):
        if not 1 <= w <= MAX_WIDTH:
            return None, f"Stage {i + 1} width must be from 1 to {MAX_WIDTH} (got {w})"
    return widths, ""


def fit_kinds(kinds: tuple[str, ...], n: int) -> tuple[str, ...]:
    """``kinds`` cut or extended to ``n`` stages (a new stage repeats the last kind)."""
    kinds = tuple(kinds)[:n]
    fill = kinds[-1] if kinds else SHARED_KIND
    return kinds + (fill,) * (n - len(kinds))


def values_from_config(cfg: RunConfig) -> PretrainValues:
    """The pretraining fields for ``cfg``: its section when it has one, else the defaults."""
    section = cfg.pretraining
    m = cfg.model
    if section is None:
        return PretrainValues(stage_epochs=str(cfg.optim.epochs))
    widths = tuple(m.hidden) + (m.latent_dim,)
    same = m.activation == m.code_activation and m.activation in STACK_ACTIVATIONS
    return PretrainValues(
        enabled=True, widths=", ".join(str(w) for w in widths),
        kinds=fit_kinds(tuple(section.kinds), len(widths)),
        units=m.code_activation if same else "sigmoid", stage_epochs=str(cfg.optim.epochs),
        end_to_end_epochs=str(section.end_to_end_epochs))


def put_stacked_model(d: dict[str, Any], v: PretrainValues, errors: dict[str, str]) -> None:
    """Make the config dict ``d`` that of the stacked MLP the form describes.

    The ordinary Architecture fields and Epochs are hidden in pretraining
    mode; their parse errors are dropped and the stage fields fill them in.
    The ``pretraining`` section is added by :func:`finish` once the rest
    validates, so a problem elsewhere is reported at its own field.
    """
    for key in _REPLACED:
        errors.pop(key, None)
    d["pretraining"] = None
    model = d["model"]
    model.update(architecture="mlp", variational=False, activation=v.units,
                 code_activation=v.units)
    widths, problem = parse_widths(v.widths)
    if widths is None:
        errors[WIDTHS] = problem
    else:
        model["hidden"], model["latent_dim"] = list(widths[:-1]), widths[-1]
    epochs = _int(v.stage_epochs, STAGE_EPOCHS, "Epochs per stage", errors)
    if epochs is not None:
        d["optim"]["epochs"] = epochs


def finish(cfg: RunConfig | None, v: PretrainValues, errors: dict[str, str],
           rbm: dict | None = None) -> RunConfig | None:
    """The pretraining RunConfig (with its section), or None with the reasons in ``errors``.

    Parameters
    ----------
    cfg : the validated stacked config without a section (None when invalid).
    rbm : the ``rbm`` section of the config the form started from; kept when a stage is an
        RBM (defaults otherwise).
    errors : field key -> reason; keys of fields pretraining replaces are
        moved to the pretraining fields.
    """
    for old, new in _REPLACED.items():
        if old in errors:
            errors.setdefault(new, errors.pop(old))
    end_to_end = _int(v.end_to_end_epochs, END_TO_END_EPOCHS, "End-to-end epochs", errors)
    if cfg is None or errors:
        return None
    widths = tuple(cfg.model.hidden) + (cfg.model.latent_dim,)
    kinds = list(fit_kinds(v.kinds, len(widths)))
    over = {"pretraining": {"kinds": kinds, "end_to_end_epochs": end_to_end}}
    if RBM_KIND in kinds:
        over["rbm"] = rbm if rbm is not None else {}
    try:
        return cfg.with_overrides(over)
    except ConfigError as e:
        key, text = _friendly(e)
        errors[key] = text
        return None


def _int(text: str, key: str, what: str, errors: dict[str, str]) -> int | None:
    try:
        return int(text.strip(), 10)
    except ValueError:
        errors[key] = f"{what} must be a whole number (got {text!r})"
        return None


_HINTS = {"objective.sparsity > 0": "tick 'sparse' under Kind",
          "objective.contractive > 0": "tick 'contractive' under Kind",
          "objective.corruption other than none": "tick 'denoising' under Kind"}


def _friendly(e: ConfigError) -> tuple[str, str]:
    """An engine error about the stack as (form key, text that names the form's fields)."""
    m = re.match(r"pretraining\.kinds\[(\d+)\]", e.field)
    if m:
        text = f"Stage {int(m.group(1)) + 1} {e.problem}"
        for need, hint in _HINTS.items():
            if need in text:
                text = text.split(" (the stages share")[0] + f": {hint}"
        return KINDS, text
    keys = {"pretraining.kinds": KINDS, "pretraining.end_to_end_epochs": END_TO_END_EPOCHS,
            **_REPLACED}
    key = keys.get(e.base_field, "")
    if key == WIDTHS and e.base_field == "model.hidden" and "[" in e.field:
        i = int(e.field[e.field.index("[") + 1:-1])
        return key, f"Stage {i + 1} width {e.problem}"
    return key, str(e)
