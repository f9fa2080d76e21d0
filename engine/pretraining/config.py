"""Greedy layer-wise pretraining settings: :class:`PretrainConfig`.

A pretraining run trains a stack of one-hidden-layer autoencoders, stage by
stage, then (optionally) the whole stacked autoencoder end to end. In JSON
(presets, session files) it is an ordinary :class:`~engine.config.RunConfig`
whose ``model`` is the stacked MLP and which carries a ``pretraining``
section::

    "model": {"hidden": [256], "latent_dim": 64,
              "activation": "sigmoid", "code_activation": "sigmoid"},
    "optim": {"epochs": 10},                      # epochs per stage
    "pretraining": {"kinds": ["denoising", "denoising"], "finetune_epochs": 5}

so the widths, the activation and the epochs per stage live in one place
only and nothing can disagree. In Python the same settings are explicit
fields of :class:`PretrainConfig`; ``base`` supplies everything else (data,
objective, optimiser, seed, device).

Why the model must use one activation everywhere: stage k's encoder is
``h_k = a(W_k h_{k-1} + b_k)``; the stacked encoder is their composition,
which is exactly an MLP whose hidden activation and code activation are the
same ``a``. Only sigmoid, tanh and relu are both.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from engine.config import ModelConfig, ObjectiveConfig, RunConfig
from engine.errors import ConfigError

#: What a single stage may be; combine with "+", e.g. "sparse+denoising".
STAGE_KINDS = ("plain", "sparse", "contractive", "denoising")
#: Keeps every regulariser that ``base.objective`` sets (the default for every stage).
SHARED_KIND = "shared"
#: Activations that are both a hidden and a code activation (see the module docstring).
STACK_ACTIVATIONS = ("sigmoid", "tanh", "relu")
SECTION_KEYS = ("kinds", "finetune_epochs")
MAX_STAGES = 6
MAX_WIDTH = 512  # a stage's width is its code size: ModelConfig.latent_dim's range


def _err(name: str, allowed: str, value: Any) -> ConfigError:
    return ConfigError(f"{name} must be {allowed} (got {value!r})")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def kind_parts(kind: str) -> tuple[str, ...]:
    """``"sparse+denoising"`` -> ``("sparse", "denoising")``."""
    return tuple(p.strip() for p in kind.split("+") if p.strip())


def code_likelihood(code_activation: str) -> str:
    """The likelihood for stage k >= 2, whose "images" are the codes of stage k - 1.

    Sigmoid codes lie in [0, 1] and read like grey values, so the stage
    reconstructs them as Bernoulli means (cross-entropy on logits), exactly
    what stage 1 does with pixels; this also makes the mirrored decoder of
    the stacked autoencoder exact (sigmoid of the logits is both the
    Bernoulli mean and the hidden activation). tanh codes lie in [-1, 1] and
    relu codes are unbounded: no Bernoulli there, so a Gaussian (squared
    error) with ``objective.gaussian_std``.
    """
    return "bernoulli" if code_activation == "sigmoid" else "gaussian"


@dataclass
class PretrainConfig:
    """Greedy layer-wise pretraining of a stacked autoencoder.

    Attributes
    ----------
    base : data, objective (stage 1's likelihood and the regulariser
        strengths the stages share), optimiser (lr, batch size, ...), seed,
        device. Its ``model`` and ``optim.epochs`` are replaced by the fields
        below.
    widths : code size of each stage, e.g. ``(256, 64)`` for 784-256-64.
    kinds : one per stage, each ``plain``, ``sparse``, ``contractive``,
        ``denoising``, a "+" combination, or ``shared`` (every regulariser
        ``base.objective`` sets); ``()`` means ``shared`` for all. The
        strengths (``objective.sparsity``, ``contractive``,
        ``corruption``/``corruption_level``) come from ``base.objective``.
    code_activation : sigmoid (the classic choice), tanh or relu.
    stage_epochs : epochs each stage trains.
    finetune_epochs : epochs of end-to-end training of the whole stacked
        autoencoder afterwards; 0 for none.
    """

    base: RunConfig = field(default_factory=RunConfig)
    widths: tuple[int, ...] = (256, 64)
    kinds: tuple[str, ...] = ()
    code_activation: str = "sigmoid"
    stage_epochs: int = 10
    finetune_epochs: int = 0

    @property
    def n_stages(self) -> int:
        return len(self.widths)

    def stage_kind(self, k: int) -> str:
        """The kind of stage ``k`` (1-based), e.g. ``"denoising"`` or ``"shared"``."""
        return self.kinds[k - 1] if self.kinds else SHARED_KIND

    # -- validation ------------------------------------------------------------
    def validate(self) -> "PretrainConfig":
        """Check every field; a bad value raises ConfigError naming it."""
        if not isinstance(self.base, RunConfig):
            raise _err("base", "a RunConfig", self.base)
        self.base.validate()
        w = self.widths
        if not isinstance(w, (tuple, list)) or not 1 <= len(w) <= MAX_STAGES:
            raise _err("widths", f"a list of 1 to {MAX_STAGES} stage widths", w)
        for i, width in enumerate(w):
            if not (_is_int(width) and 1 <= width <= MAX_WIDTH):
                raise _err(f"widths[{i}]", f"an integer from 1 to {MAX_WIDTH}", width)
        if self.code_activation not in STACK_ACTIVATIONS:
            raise _err("code_activation", "one of " + ", ".join(STACK_ACTIVATIONS),
                       self.code_activation)
        if not (_is_int(self.stage_epochs) and 1 <= self.stage_epochs <= 100_000):
            raise _err("stage_epochs", "an integer from 1 to 100000", self.stage_epochs)
        if not (_is_int(self.finetune_epochs) and 0 <= self.finetune_epochs <= 100_000):
            raise _err("finetune_epochs", "an integer from 0 to 100000", self.finetune_epochs)
        if not isinstance(self.kinds, (tuple, list)) or (self.kinds and len(self.kinds) != len(w)):
            raise _err("kinds", f"empty or one kind per stage ({len(w)})", self.kinds)
        for k in range(1, len(w) + 1):
            self._validate_kind(k)
        return self

    def _validate_kind(self, k: int) -> None:
        name, kind = f"kinds[{k - 1}]", self.stage_kind(k)
        obj = self.base.objective
        parts = kind_parts(kind) if isinstance(kind, str) else ()
        allowed = STAGE_KINDS + (SHARED_KIND,)
        if not parts or any(p not in allowed for p in parts) or (
                SHARED_KIND in parts and len(parts) > 1):
            raise _err(name, "one of " + ", ".join(allowed) + " or a '+' combination", kind)
        needs = {"sparse": (obj.sparsity > 0, "objective.sparsity > 0"),
                 "contractive": (obj.contractive > 0, "objective.contractive > 0"),
                 "denoising": (obj.corruption != "none", "objective.corruption other than none")}
        for p in parts:
            if p in needs and not needs[p][0]:
                raise ConfigError(f"{name} is '{kind}', which needs {needs[p][1]} "
                                  f"(the stages share the regulariser strengths)")
        corr = self.stage_objective(k).corruption
        # Gaussian noise and salt-and-pepper clip to [0, 1]: right for pixels and
        # sigmoid codes, wrong for tanh or relu codes. Masking (zeroing) fits any code.
        if k >= 2 and self.code_activation != "sigmoid" and corr not in ("none", "masking"):
            raise ConfigError(f"{name}: {corr} corruption clips to [0, 1], which does not fit "
                              f"{self.code_activation} codes; use objective.corruption=masking")

    # -- what each stage trains --------------------------------------------------
    def stage_objective(self, k: int) -> ObjectiveConfig:
        """Stage k's objective: base's, with only the regularisers its kind names."""
        obj = self.base.objective
        kind = self.stage_kind(k)
        parts = set(kind_parts(kind))
        keep = parts == {SHARED_KIND}
        out = dataclasses.replace(
            obj,
            sparsity=obj.sparsity if keep or "sparse" in parts else 0.0,
            contractive=obj.contractive if keep or "contractive" in parts else 0.0)
        if not (keep or "denoising" in parts):
            out = dataclasses.replace(out, corruption="none", corruption_level=0.0)
        if k >= 2:
            out = dataclasses.replace(out, likelihood=code_likelihood(self.code_activation))
        return out

    def stage_config(self, k: int) -> RunConfig:
        """The RunConfig of stage ``k`` (1-based): a one-layer autoencoder of width ``widths[k-1]``.

        Its ``data`` section is the base's (provenance only: stages k >= 2 are
        handed a data set of codes directly).
        """
        b = self.base
        model = ModelConfig(architecture="mlp", hidden=(), latent_dim=self.widths[k - 1],
                            activation=self.code_activation,
                            code_activation=self.code_activation, variational=False)
        return dataclasses.replace(
            b, name=f"{b.name} stage {k}", pretraining=None, model=model,
            objective=self.stage_objective(k),
            optim=dataclasses.replace(b.optim, epochs=self.stage_epochs)).validate()

    def stacked_model(self) -> ModelConfig:
        """The deep MLP the stages stack into: hidden = widths[:-1], code = widths[-1]."""
        return ModelConfig(architecture="mlp", hidden=tuple(self.widths[:-1]),
                           latent_dim=self.widths[-1], activation=self.code_activation,
                           code_activation=self.code_activation, variational=False)

    def stacked_config(self) -> RunConfig:
        """The RunConfig of end-to-end training of the stacked autoencoder.

        Its objective is ``base.objective`` as it is (every shared
        regulariser), its epochs ``finetune_epochs`` (at least 1, so the
        config is valid even when no fine-tuning is asked for).
        """
        b = self.base
        return dataclasses.replace(
            b, name=f"{b.name} end-to-end", pretraining=None, model=self.stacked_model(),
            optim=dataclasses.replace(b.optim, epochs=max(1, self.finetune_epochs))).validate()

    # -- serialisation -----------------------------------------------------------
    def to_run_config(self) -> RunConfig:
        """This config as a RunConfig with a ``pretraining`` section (the JSON form)."""
        return dataclasses.replace(
            self.base, model=self.stacked_model(),
            optim=dataclasses.replace(self.base.optim, epochs=self.stage_epochs),
            pretraining={"kinds": list(self.kinds), "finetune_epochs": self.finetune_epochs})

    def to_dict(self) -> dict[str, Any]:
        return self.to_run_config().to_dict()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PretrainConfig":
        """Inverse of :meth:`to_dict`; a dict without a pretraining section gets the defaults."""
        return cls.from_run_config(RunConfig.from_dict(d))

    @classmethod
    def from_run_config(cls, cfg: RunConfig, widths: tuple[int, ...] | None = None,
                        validate: bool = True) -> "PretrainConfig":
        """Read the pretraining settings of a RunConfig.

        Parameters
        ----------
        cfg : with or without a ``pretraining`` section. Without one, its MLP
            is stacked as it is when hidden and code activation agree, else
            with sigmoid units (so any MLP preset can be pretrained).
        widths : replace the stage widths (``--stages``); a per-stage
            ``kinds`` list that no longer fits is dropped.
        validate : False to skip validation (when more changes follow).
        """
        section = dict(cfg.pretraining or {})
        _check_section_keys(section)
        m = cfg.model
        same = m.activation == m.code_activation and m.activation in STACK_ACTIVATIONS
        kinds = tuple(section.get("kinds") or ())
        if widths is None:
            if m.architecture != "mlp":
                raise ConfigError("model.architecture is conv: greedy pretraining stacks MLP "
                                  "layers; give the stage widths (--stages 256,64)")
            widths = tuple(m.hidden) + (m.latent_dim,)
        elif len(kinds) != len(widths):
            kinds = ()  # new widths with another stage count: every stage "shared"
        out = cls(base=dataclasses.replace(cfg, pretraining=None), widths=tuple(widths),
                  kinds=kinds, code_activation=m.code_activation if same else "sigmoid",
                  stage_epochs=cfg.optim.epochs,
                  finetune_epochs=section.get("finetune_epochs", 0))
        return out.validate() if validate else out


def _check_section_keys(section: dict[str, Any]) -> None:
    for key in section:
        if key not in SECTION_KEYS:
            raise ConfigError(f"unknown config field 'pretraining.{key}'; allowed: "
                              + ", ".join(SECTION_KEYS))


def validate_section(cfg: RunConfig) -> None:
    """Check a RunConfig's ``pretraining`` section (called by ``RunConfig.validate``).

    The model of such a config *is* the stacked autoencoder, so it must be an
    MLP with one activation everywhere; errors name the RunConfig field.
    """
    section = cfg.pretraining
    if not isinstance(section, dict):
        raise _err("pretraining", "a JSON object or null", section)
    _check_section_keys(section)
    m = cfg.model
    if m.architecture != "mlp":
        raise _err("model.architecture", "mlp for a pretraining config", m.architecture)
    if m.variational:
        raise _err("model.variational", "false for a pretraining config (stages are "
                   "deterministic autoencoders)", m.variational)
    if m.code_activation not in STACK_ACTIVATIONS:
        raise _err("model.code_activation", "one of " + ", ".join(STACK_ACTIVATIONS)
                   + " for a pretraining config", m.code_activation)
    if m.activation != m.code_activation:
        raise _err("model.activation", f"the same as model.code_activation "
                   f"({m.code_activation!r}) for a pretraining config: the stacked encoder "
                   "is the composition of the stage encoders", m.activation)
    kinds = section.get("kinds") or []
    if not isinstance(kinds, list):
        raise _err("pretraining.kinds", "a list of stage kinds", kinds)
    try:
        PretrainConfig(base=dataclasses.replace(cfg, pretraining=None),
                       widths=tuple(m.hidden) + (m.latent_dim,), kinds=tuple(kinds),
                       code_activation=m.code_activation, stage_epochs=cfg.optim.epochs,
                       finetune_epochs=section.get("finetune_epochs", 0)).validate()
    except ConfigError as e:
        raise ConfigError(_json_field_names(str(e), len(m.hidden))) from None


def _json_field_names(message: str, n_hidden: int) -> str:
    """Name the field as the JSON spells it: widths[0] is model.hidden[0], and so on."""
    field, _, rest = message.partition(" ")
    if field.startswith("widths[") and field.endswith("]"):
        i = int(field[7:-1])
        field = f"model.hidden[{i}]" if i < n_hidden else "model.latent_dim"
    elif field == "stage_epochs":
        field = "optim.epochs"
    elif field == "code_activation":
        field = "model.code_activation"
    elif field.startswith(("kinds", "finetune_epochs")):
        field = "pretraining." + field
    return f"{field} {rest}"
