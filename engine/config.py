"""Run configuration: plain dataclasses that round-trip through JSON.

A :class:`RunConfig` says everything needed to repeat a run: the data, the
model, the objective, the optimiser and the seed. ``validate()`` rejects
every invalid value with a :class:`~engine.errors.ConfigError` whose message
names the field (``model.latent_dim``) and the allowed range, so the CLI and
the GUI can show it as it is.

The *kind* of autoencoder (plain, sparse, contractive, denoising,
variational) is not stored: it follows from the objective and model
settings (:meth:`RunConfig.kinds`), so the two can never disagree.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields
from typing import Any

from engine.errors import ConfigError

DATA_SOURCES = ("mnist", "sprites", "file")
ARCHITECTURES = ("mlp", "conv")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "leaky_relu")
CODE_ACTIVATIONS = ("linear", "sigmoid", "relu", "tanh")
LIKELIHOODS = ("gaussian", "bernoulli", "categorical")
CORRUPTIONS = ("none", "gaussian", "masking", "salt_pepper")
CONTRACTIVE_ESTIMATORS = ("exact", "projection")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
KINDS = ("plain", "sparse", "contractive", "denoising", "variational")


def _check(ok: bool, name: str, allowed: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"{name} must be {allowed} (got {value!r})")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _choice(v: Any, name: str, options: tuple[str, ...]) -> None:
    _check(v in options, name, "one of " + ", ".join(options), v)


def _int_in(v: Any, name: str, lo: int, hi: int | None = None) -> None:
    rng = f"an integer from {lo} to {hi}" if hi is not None else f"an integer >= {lo}"
    _check(_is_int(v) and v >= lo and (hi is None or v <= hi), name, rng, v)


def _num_in(v: Any, name: str, lo: float, hi: float | None = None, lo_open: bool = False) -> None:
    ok = _is_num(v) and v == v and (v > lo if lo_open else v >= lo) and (hi is None or v <= hi)
    low = f"> {lo}" if lo_open else f">= {lo}"
    rng = f"a number {low}" + (f" and <= {hi}" if hi is not None else "")
    _check(ok, name, rng, v)


@dataclass
class DataConfig:
    """Where the images come from and how they are split.

    ``source`` is ``mnist`` (the bundled 5,000-digit subset), ``sprites``
    (procedural shapes with known factors) or ``file`` (``path`` to a .npy,
    .npz, .h5/.hdf5, MNIST IDX file or a folder of images; ``key`` names the
    array inside an .npz/.h5 file and ``labels_key`` its labels).
    """

    source: str = "mnist"
    path: str | None = None
    key: str | None = None
    labels_key: str | None = None
    limit: int | None = None
    val_fraction: float = 0.1
    n_probe: int = 64
    sprite_size: int = 32
    n_sprites: int = 8000

    def validate(self) -> None:
        _choice(self.source, "data.source", DATA_SOURCES)
        if self.source == "file":
            _check(isinstance(self.path, str) and bool(self.path), "data.path",
                   "a file or folder path when data.source is 'file'", self.path)
        if self.limit is not None:
            _int_in(self.limit, "data.limit", 2)
        _num_in(self.val_fraction, "data.val_fraction", 0.0, 0.9)
        _int_in(self.n_probe, "data.n_probe", 1, 1024)
        _check(self.sprite_size in (32, 64), "data.sprite_size", "32 or 64", self.sprite_size)
        _int_in(self.n_sprites, "data.n_sprites", 16, 200_000)


@dataclass
class ModelConfig:
    """Encoder and decoder architecture.

    ``hidden`` are the widths of the MLP's hidden layers (encoder order; the
    decoder mirrors them) or, for ``conv``, the channels of the stride-2
    convolutions. ``code_activation`` is applied to the code of a
    deterministic encoder (``sigmoid`` gives the classic contractive AE);
    a variational encoder's mean is always linear.
    """

    architecture: str = "mlp"
    hidden: tuple[int, ...] = (400,)
    latent_dim: int = 20
    activation: str = "relu"
    code_activation: str = "linear"
    variational: bool = False

    def validate(self) -> None:
        _choice(self.architecture, "model.architecture", ARCHITECTURES)
        _check(isinstance(self.hidden, (tuple, list)) and len(self.hidden) <= 6,
               "model.hidden", "a list of at most 6 layer widths", self.hidden)
        if self.architecture == "conv":
            _check(1 <= len(self.hidden) <= 4, "model.hidden",
                   "1 to 4 channel counts for a conv model", self.hidden)
        for i, w in enumerate(self.hidden):
            _int_in(w, f"model.hidden[{i}]", 1, 8192)
        _int_in(self.latent_dim, "model.latent_dim", 1, 512)
        _choice(self.activation, "model.activation", ACTIVATIONS)
        _choice(self.code_activation, "model.code_activation", CODE_ACTIVATIONS)
        _check(isinstance(self.variational, bool), "model.variational", "true or false",
               self.variational)


@dataclass
class ObjectiveConfig:
    """Reconstruction likelihood and regularisers.

    The loss per image is ``recon + sparsity*Σ|h| + contractive*‖∂h/∂x‖²_F
    + beta*KL`` (KL only for a variational model), with the reconstruction
    term the negative log-likelihood of the clean image under the decoder's
    output distribution, in nats.
    """

    likelihood: str = "bernoulli"
    levels: int = 16
    gaussian_std: float = 0.1
    sparsity: float = 0.0
    contractive: float = 0.0
    contractive_estimator: str = "exact"
    projections: int = 1
    beta: float = 1.0
    corruption: str = "none"
    corruption_level: float = 0.0

    def validate(self) -> None:
        _choice(self.likelihood, "objective.likelihood", LIKELIHOODS)
        _int_in(self.levels, "objective.levels", 2, 256)
        _num_in(self.gaussian_std, "objective.gaussian_std", 0.0, 10.0, lo_open=True)
        _num_in(self.sparsity, "objective.sparsity", 0.0, 1e3)
        _num_in(self.contractive, "objective.contractive", 0.0, 1e3)
        _choice(self.contractive_estimator, "objective.contractive_estimator",
                CONTRACTIVE_ESTIMATORS)
        _int_in(self.projections, "objective.projections", 1, 64)
        _num_in(self.beta, "objective.beta", 0.0, 1e3)
        _choice(self.corruption, "objective.corruption", CORRUPTIONS)
        hi = 1.0 if self.corruption in ("masking", "salt_pepper") else 5.0
        _num_in(self.corruption_level, "objective.corruption_level", 0.0, hi)
        if self.corruption != "none":
            _num_in(self.corruption_level, "objective.corruption_level", 0.0, hi, lo_open=True)


@dataclass
class OptimConfig:
    """Optimiser and schedule. ``grad_clip`` is a max global gradient norm, or None."""

    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 128
    epochs: int = 10
    weight_decay: float = 0.0
    momentum: float = 0.9
    grad_clip: float | None = None

    def validate(self) -> None:
        _choice(self.optimizer, "optim.optimizer", OPTIMIZERS)
        _num_in(self.lr, "optim.lr", 0.0, 10.0, lo_open=True)
        _int_in(self.batch_size, "optim.batch_size", 1, 65536)
        _int_in(self.epochs, "optim.epochs", 1, 100_000)
        _num_in(self.weight_decay, "optim.weight_decay", 0.0, 1.0)
        _num_in(self.momentum, "optim.momentum", 0.0, 1.0)
        if self.grad_clip is not None:
            _num_in(self.grad_clip, "optim.grad_clip", 0.0, 1e6, lo_open=True)


@dataclass
class RunConfig:
    """Everything that defines a run. ``device`` is auto, cpu, cuda, cuda:N or mps."""

    name: str = "custom"
    description: str = ""
    seed: int = 0
    device: str = "auto"
    snapshot_every: int = 1
    log_every: int = 1
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    # Optional: train the MLP in ``model`` greedily, one layer at a time, then
    # (optionally) end to end. None for an ordinary run; its keys are checked by
    # engine.pretraining.config (see ``python main.py pretrain``).
    pretraining: dict[str, Any] | None = None

    # -- derived -------------------------------------------------------------
    def kinds(self) -> list[str]:
        """The autoencoder kinds this config combines, e.g. ``['denoising', 'variational']``."""
        o = self.objective
        out = []
        if o.sparsity > 0:
            out.append("sparse")
        if o.contractive > 0:
            out.append("contractive")
        if o.corruption != "none":
            out.append("denoising")
        if self.model.variational:
            out.append("variational")
        if self.pretraining is not None:
            # "stacked" describes how the model is trained, the rest what each layer learns.
            return ["stacked"] + (out or ["plain"])
        return out or ["plain"]

    def kind_label(self) -> str:
        return " + ".join(self.kinds())

    # -- validation ----------------------------------------------------------
    def validate(self) -> "RunConfig":
        _check(isinstance(self.name, str), "name", "a string", self.name)
        _int_in(self.seed, "seed", 0, 2**63 - 1)
        _check(isinstance(self.device, str) and (
            self.device in ("auto", "cpu", "cuda", "mps")
            or (self.device.startswith("cuda:") and self.device[5:].isdigit())),
            "device", "one of auto, cpu, cuda, cuda:N, mps", self.device)
        _int_in(self.snapshot_every, "snapshot_every", 1, 10_000)
        _int_in(self.log_every, "log_every", 1, 10_000)
        self.data.validate()
        self.model.validate()
        self.objective.validate()
        self.optim.validate()
        if self.pretraining is not None:
            # Imported here: the pretraining package builds on this module.
            from engine.pretraining.config import validate_section
            validate_section(self)
        return self

    # -- serialisation -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["model"]["hidden"] = list(self.model.hidden)
        if d["pretraining"] is None:
            # Absent rather than null: ordinary configs stay exactly as before.
            del d["pretraining"]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        """Build and validate a config; unknown or mistyped fields raise ConfigError."""
        if not isinstance(d, dict):
            raise ConfigError(f"a run config must be a JSON object (got {type(d).__name__})")
        sections = {"data": DataConfig, "model": ModelConfig,
                    "objective": ObjectiveConfig, "optim": OptimConfig}
        kwargs: dict[str, Any] = {}
        top = {f.name for f in fields(cls)}
        for key, value in d.items():
            if key not in top:
                raise ConfigError(f"unknown config field '{key}'; allowed: {', '.join(sorted(top))}")
            if key in sections:
                kwargs[key] = _section_from_dict(sections[key], key, value)
            else:
                kwargs[key] = value
        return cls(**kwargs).validate()

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"config is not valid JSON: {e}") from None
        return cls.from_dict(d)

    def with_overrides(self, assignments: dict[str, Any]) -> "RunConfig":
        """A validated copy with dotted fields replaced, e.g. ``{"optim.epochs": 3}``."""
        d = self.to_dict()
        for dotted, value in assignments.items():
            parts = dotted.split(".")
            node = d
            for p in parts[:-1]:
                if not isinstance(node.get(p), dict):
                    raise ConfigError(f"unknown config field '{dotted}'")
                node = node[p]
            if parts[-1] not in node:
                raise ConfigError(f"unknown config field '{dotted}'")
            node[parts[-1]] = value
        return RunConfig.from_dict(d)


def _section_from_dict(cls: type, name: str, value: Any) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object (got {value!r})")
    allowed = {f.name for f in fields(cls)}
    for key in value:
        if key not in allowed:
            raise ConfigError(f"unknown config field '{name}.{key}'; allowed: "
                              + ", ".join(sorted(allowed)))
    value = dict(value)
    if cls is ModelConfig and "hidden" in value:
        h = value["hidden"]
        if not isinstance(h, (list, tuple)):
            raise ConfigError(f"model.hidden must be a list of layer widths (got {h!r})")
        value["hidden"] = tuple(h)
    # JSON has one number type: accept 1 for 1.0 where a float is expected.
    return cls(**value)


def parse_value(text: str) -> Any:
    """Parse a command-line value: JSON if it parses (numbers, lists, true, null), else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
