"""Run configuration: frozen dataclasses that round-trip through JSON.

A :class:`RunConfig` says everything needed to repeat a run: the data, the
model (its ``family`` picks the class from :mod:`engine.models`), the
objective, the optimiser, the seed, and optional sections — greedy
layer-wise ``pretraining`` of the model, the ``classifier`` settings of a
classifier run, a GAN's ``gan`` and an RBM's ``rbm`` settings. ``validate()`` (see :mod:`engine.validation`) rejects every
invalid value with a :class:`~engine.errors.ConfigError` whose ``field``
names it (``model.latent_dim``), so the CLI prints it and the window marks
that field.

The *kind* of autoencoder (plain, sparse, contractive, denoising,
variational, stacked) is not stored: it follows from the settings
(:meth:`RunConfig.kinds`), so the two can never disagree.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from dataclasses import dataclass, field, fields
from typing import Any

from engine import validation
from engine.errors import ConfigError
from engine.validation import (ACTIVATIONS, ARCHITECTURES, CODE_ACTIVATIONS,  # noqa: F401
                               CORRUPTIONS, DATA_SOURCES, LIKELIHOODS, OPTIMIZERS)


@dataclass(frozen=True)
class DataConfig:
    """Where the images come from and how they are split.

    ``source`` is ``mnist`` (the bundled 5,000-digit subset), ``sprites`` (procedural shapes
    with known factors), one of the procedural 2-D point sets ``moons``, ``rings``, ``spiral``,
    ``gaussians`` (``n_points`` points, ``point_noise`` their noise, None for the set's
    default; see :mod:`engine.data.toy2d`), ``drawn`` (hand-drawn ``points``,
    :mod:`engine.data.drawn`) or ``file`` (``path`` to a .npy, .npz, .h5/.hdf5, MNIST IDX file
    or a folder of images; ``key`` names the array inside an .npz/.h5 file and ``labels_key``
    its labels). ``mnist-full``, ``fashion-mnist``, ``cifar10``: fetched once into a cache
    (docs/data.md); ``image_size``: every image's centre square resized to it (None: their own
    size); ``sprite_colour``: sprites in colour; ``sprite_factors``: sprite factors fixed or
    narrowed, e.g. ``"shape=0, rotation=0, y=0.3:0.7"`` (:func:`engine.data.sprites.
    parse_factor_ranges`; "" all five over their full ranges). ``stream`` keeps a .npy/.h5 file's (or a
    folder's) images where they are, each batch read by a DataLoader with ``workers`` processes
    (None: ``default_workers``): None streams what would not fit in memory, True all, False none.
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
    stream: bool | None = None
    workers: int | None = None
    n_points: int = 4000
    point_noise: float | None = None
    image_size: int | None = None
    sprite_colour: bool = False
    points: str = ""
    sprite_factors: str = ""


@dataclass(frozen=True)
class ModelConfig:
    """The model family and its architecture.

    ``family`` is a key of the model registry (:mod:`engine.models`):
    ``autoencoder`` or ``classifier`` (an encoder with a linear head on its
    code). ``hidden`` are the widths of the MLP's hidden layers (encoder
    order; the decoder mirrors them) or, for ``conv``, the channels of the
    stride-2 convolutions. ``code_activation`` is applied to the code of a
    deterministic encoder (``sigmoid`` gives the classic contractive AE); a
    variational encoder's mean is always linear.
    """

    family: str = "autoencoder"
    architecture: str = "mlp"
    hidden: tuple[int, ...] = (400,)
    latent_dim: int = 20
    activation: str = "relu"
    code_activation: str = "linear"
    variational: bool = False


@dataclass(frozen=True)
class ObjectiveConfig:
    """Reconstruction likelihood and regularisers of an autoencoder.

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


@dataclass(frozen=True)
class OptimConfig:
    """Optimiser and schedule. ``grad_clip`` is a max global gradient norm, or None."""

    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 128
    epochs: int = 10
    weight_decay: float = 0.0
    momentum: float = 0.9
    grad_clip: float | None = None


@dataclass(frozen=True)
class PretrainingConfig:
    """Greedy layer-wise pretraining of the run's MLP autoencoder.

    The stages are the model's layers: widths ``model.hidden + [latent_dim]``, each
    stage training ``optim.epochs``. ``kinds`` gives one kind per stage (``plain``,
    ``sparse``, ``contractive``, ``denoising``, a "+" combination, or ``shared``: every
    regulariser the objective sets; or ``rbm``: a restricted Boltzmann machine trained
    by contrastive divergence with the ``rbm`` section's settings — stages all ``rbm``
    make a deep belief network); empty means ``shared`` for all. ``end_to_end_epochs``
    of training the whole stack end to end follow (0: none; older files' ``finetune_epochs``).
    """

    kinds: tuple[str, ...] = ()
    end_to_end_epochs: int = 0

    def stage_kind(self, k: int) -> str:
        """The kind of stage ``k`` (1-based)."""
        return self.kinds[k - 1] if self.kinds else validation.SHARED_KIND


@dataclass(frozen=True)
class ClassifierConfig:
    """A classifier run: the model's encoder with a linear head, trained on labels.

    Attributes
    ----------
    labels : labelled training images, class-balanced and nested by seed
        (``engine.data.labels``); None for the whole training split.
    freeze : train only the head (a linear probe of the code).
    init : ``pretrained`` (the encoder starts from a trained autoencoder's
        weights) or ``random`` (the same layers, freshly initialised).
    encoder : where the pretrained encoder came from, in words (provenance).
    """

    labels: int | None = None
    freeze: bool = False
    init: str = "pretrained"
    encoder: str = ""


@dataclass(frozen=True)
class GanConfig:
    """How a GAN's two players train (``model.family`` gan; absent: these defaults).

    Attributes
    ----------
    d_steps : k, discriminator updates per generator update (Goodfellow et al.'s
        Algorithm 1): every step updates the discriminator on a fresh batch, every
        k-th step the generator too.
    d_lr : the discriminator's learning rate; None: ``optim.lr``.
    adam_beta1 : Adam's first-moment decay for both players (0.5 as in DCGAN; the
        usual 0.9 lets the two players' momentum chase each other).
    instance_noise : std of Gaussian noise added to every image the discriminator
        sees, real or generated (Sønderby et al., 2016): it blurs both
        distributions until they overlap, so a discriminator on a small data set
        cannot win outright and starve the generator of gradient. 0: none.
    d_dropout : dropout after each of the discriminator's hidden layers while it
        trains (Goodfellow et al.'s MNIST discriminator used dropout too). 0: none.
    """

    d_steps: int = 1
    d_lr: float | None = None
    adam_beta1: float = 0.5
    instance_noise: float = 0.0
    d_dropout: float = 0.0


@dataclass(frozen=True)
class RbmConfig:
    """How an RBM trains and is measured (``model.family`` rbm, or RBM stages).

    Attributes
    ----------
    cd_k : Gibbs steps of contrastive divergence per update (CD-k).
    persistent : keep ``chains`` fantasy chains between updates (persistent CD,
        Tieleman 2008) instead of starting each update's chain at the batch.
    chains : persistent chains (also the Gibbs samples each snapshot shows).
    ais_chains, ais_steps : annealed importance sampling runs and intermediate
        temperatures for the log-likelihood estimate of models with more than
        20 hidden units (below that it is exact).
    """

    cd_k: int = 1
    persistent: bool = False
    chains: int = 100
    ais_chains: int = 100
    ais_steps: int = 1000


SECTIONS = {"data": DataConfig, "model": ModelConfig, "objective": ObjectiveConfig,
            "optim": OptimConfig, "pretraining": PretrainingConfig,
            "classifier": ClassifierConfig, "gan": GanConfig, "rbm": RbmConfig}
OPTIONAL_SECTIONS = ("pretraining", "classifier", "gan", "rbm")
RENAMED = {"pretraining.finetune_epochs": "pretraining.end_to_end_epochs"}  # old: read as new
_TUPLES = {("model", "hidden"), ("pretraining", "kinds")}


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run. ``device`` is auto, cpu, cuda, cuda:N or mps.

    ``precision`` ``bfloat16`` runs the training steps' forward passes under
    bf16 autocast (matrix products in bf16, accumulated in float32; the
    weights, the optimiser and validation stay float32): faster where the
    processor has bf16 units (see benchmarks/bench_trainer_throughput.py).
    """

    name: str = "custom"
    description: str = ""
    seed: int = 0
    device: str = "auto"
    precision: str = "float32"
    snapshot_every: int = 1
    quality_every: int | None = None   # sample quality: every k-th epoch (None: auto)
    log_every: int = 1
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    pretraining: PretrainingConfig | None = None
    classifier: ClassifierConfig | None = None
    gan: GanConfig | None = None
    rbm: RbmConfig | None = None

    # -- derived -------------------------------------------------------------
    def kinds(self) -> list[str]:
        """The kinds this config combines, e.g. ``['denoising', 'variational']``."""
        if self.model.family != "autoencoder":
            return [self.model.family]
        if self.pretraining is not None and "rbm" in self.pretraining.kinds:
            return (["deep belief network"] if set(self.pretraining.kinds) == {"rbm"}
                    else ["stacked", "RBM and autoencoder stages"])
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

    @property
    def gan_settings(self) -> GanConfig:
        """The ``gan`` section, or its defaults when absent."""
        return self.gan if self.gan is not None else GanConfig()

    @property
    def rbm_settings(self) -> RbmConfig:
        """The ``rbm`` section, or its defaults when absent."""
        return self.rbm if self.rbm is not None else RbmConfig()

    def replace(self, **sections: Any) -> "RunConfig":
        """A copy with whole fields or sections replaced (not validated)."""
        return dataclasses.replace(self, **sections)

    # -- validation ----------------------------------------------------------
    def validate(self) -> "RunConfig":
        validation.check_run(self)
        return self

    # -- serialisation -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for section, name in _TUPLES:
            if d.get(section) is not None:
                d[section][name] = list(d[section][name])
        for section in OPTIONAL_SECTIONS:
            if d[section] is None:
                del d[section]  # absent rather than null: ordinary configs stay as before
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        """Build and validate a config; unknown or mistyped fields raise ConfigError."""
        if not isinstance(d, dict):
            raise ConfigError(f"a run config must be a JSON object (got {type(d).__name__})")
        kwargs: dict[str, Any] = {}
        top = [f.name for f in fields(cls)]
        for key, value in d.items():
            if key not in top:
                raise _unknown(key, top)
            if key in SECTIONS and not (key in OPTIONAL_SECTIONS and value is None):
                kwargs[key] = _section_from_dict(SECTIONS[key], key, value)
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
        """A validated copy with dotted fields replaced, e.g. ``{"optim.epochs": 3}``.

        An optional section that is absent is created with its defaults when
        one of its fields is set (``classifier.labels=100``); setting the
        section itself to None removes it. ``data.path`` selects the file source.
        """
        if assignments.get("data.path") is not None and "data.source" not in assignments:
            assignments = {**assignments, "data.source": "file"}
        d = self.to_dict()
        for dotted, value in assignments.items():
            parts = RENAMED.get(dotted, dotted).split(".")
            node = d
            for p in parts[:-1]:
                if node is d and p in OPTIONAL_SECTIONS and node.get(p) is None:
                    node[p] = _section_defaults(p)
                if not isinstance(node.get(p), dict):
                    raise _unknown(dotted, [])
                node = node[p]
            if parts[-1] not in node:
                if len(parts) == 1 and parts[0] in OPTIONAL_SECTIONS:
                    node[parts[0]] = None
                else:
                    raise _unknown(dotted, _known_paths(d, parts[:-1]))
            node[parts[-1]] = value
        return RunConfig.from_dict(d)


def _section_defaults(name: str) -> dict[str, Any]:
    return RunConfig(**{name: SECTIONS[name]()}).to_dict()[name]


def _known_paths(d: dict[str, Any], prefix: list[str]) -> list[str]:
    node = d
    for p in prefix:
        node = node.get(p, {}) if isinstance(node, dict) else {}
    return [".".join(prefix + [k]) for k in node] if isinstance(node, dict) else []


def _unknown(name: str, allowed: list[str]) -> ConfigError:
    """'unknown config field', with the closest known names first."""
    close = difflib.get_close_matches(name, allowed, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    listing = f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""
    return ConfigError(f"unknown config field '{name}'{hint}{listing}")


def _section_from_dict(cls: type, name: str, value: Any) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"must be a JSON object (got {value!r})", name)
    value = {RENAMED.get(f"{name}.{k}", f"{name}.{k}")[len(name) + 1:]: v for k, v in value.items()}
    allowed = [f.name for f in fields(cls)]
    for key in value:
        if key not in allowed:
            raise _unknown(f"{name}.{key}", [f"{name}.{a}" for a in allowed])
    for section, key in _TUPLES:
        if section == name and key in value:
            v = value[key]
            if not isinstance(v, (list, tuple)):
                raise ConfigError(f"must be a list (got {v!r})", f"{name}.{key}")
            value[key] = tuple(v)
    return cls(**value)


def parse_value(text: str) -> Any:
    """Parse a command-line value: JSON if it parses (numbers, lists, true, null), else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
