"""Run configuration: frozen dataclasses, each field described once, that round-trip JSON.

A :class:`RunConfig` says everything needed to repeat a run: the data, the
model (its ``family`` picks the class from :mod:`engine.models`), the
objective, the optimiser, the seed, and optional sections: greedy layer-wise
``pretraining``, a classifier run's ``classifier`` and each family's own
settings (``gan``, ``rbm``), which live beside the family's model and
register in :mod:`engine.settings`. Every field is declared with
:func:`engine.fields.setting` (bounds, choices, words): parsing, the checks
(:mod:`engine.validation`) and the window's settings form come from that.
An invalid value raises a :class:`~engine.errors.ConfigError` whose
``field`` names it (``model.latent_dim``) for the CLI and the window. The
autoencoder's *kind* is not stored: it follows from the fields' ``kind``
metadata (:meth:`RunConfig.kinds`), so the two can never disagree.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from engine import fields as F
from engine import validation as V
from engine.errors import ConfigError
from engine.fields import setting
from engine.settings import SectionSettings, registered_settings
from engine.validation import (ACTIVATIONS, CODE_ACTIVATIONS, DATA_SOURCES, LIKELIHOODS,
                               OPTIMIZERS)

_SOURCE_TEXT = {"mnist": "MNIST, 5,000 bundled", "sprites": "Sprites (procedural)",
                "moons": "2-D points: two moons", "rings": "2-D points: concentric rings",
                "spiral": "2-D points: spiral", "gaussians": "2-D points: 8 Gaussians",
                "drawn": "2-D points: draw your own", "file": "Data file or folder…",
                "mnist-full": "MNIST, all 60,000 (download)",
                "fashion-mnist": "Fashion-MNIST (download)", "cifar10": "CIFAR-10 (download)"}


@dataclass(frozen=True)
class DataConfig:
    """Where the images come from and how they are split.

    ``source``: ``mnist`` (the bundled 5,000-digit subset), ``sprites`` (procedural shapes
    with known factors), a procedural 2-D point set ``moons``, ``rings``, ``spiral``,
    ``gaussians`` (``n_points`` points, ``point_noise`` their noise, None: the set's default;
    :mod:`engine.data.toy2d`), ``drawn`` (hand-drawn ``points``, :mod:`engine.data.drawn`),
    ``file`` (``path`` to a .npy, .npz, .h5/.hdf5, MNIST IDX file or an image folder; ``key``
    the array in an .npz/.h5 file, ``labels_key`` its labels), or ``mnist-full``,
    ``fashion-mnist``, ``cifar10`` (fetched once into a cache, docs/data.md). ``image_size``:
    every image's centre square resized to it (None: their own size); ``sprite_colour``:
    sprites in colour; ``sprite_factors``: sprite factors fixed or narrowed, e.g.
    ``"shape=0, rotation=0, y=0.3:0.7"`` (:func:`engine.data.sprites.parse_factor_ranges`;
    "": all five over their full ranges). ``stream`` keeps a .npy/.h5 file's (or a folder's)
    images where they are, each batch read by a DataLoader with ``workers`` processes (None:
    ``default_workers``): None streams what would not fit in memory, True all, False none.
    """

    source: str = setting("mnist", choices={s: _SOURCE_TEXT[s] for s in DATA_SOURCES},
                          label="Source", form="Data")
    path: str | None = setting(None, label="File", form="Data", widget="path",
                               when={"data.source": ("file",)},
                               help="A .npy, .npz, .h5, MNIST IDX file or a folder of images")
    points: str = setting("", must="text of x,y points", label="The drawing", form="Data",
                          widget="drawing", when={"data.source": (V.DRAWN_SOURCE,)})
    key: str | None = None
    labels_key: str | None = None
    limit: int | None = setting(None, lo=2, label="Limit", form="Data", placeholder="all",
                                help="Use at most this many images (blank: all)")
    val_fraction: float = setting(0.1, lo=0.0, hi=0.9)
    n_probe: int = setting(64, lo=1, hi=1024)
    sprite_size: int = setting(32, choices=(32, 64), must="32 or 64")
    n_sprites: int = setting(8000, lo=16, hi=200_000)
    stream: bool | None = setting(None, must="true (read batches from the file), false (load "
                                  "it) or null (stream only what does not fit in memory)")
    workers: int | None = setting(None, lo=0, hi=64)
    n_points: int = setting(4000, lo=16, hi=1_000_000)
    point_noise: float | None = setting(None, lo=0.0, hi=0.5)
    image_size: int | None = setting(
        None, check=False, label="Image size", form="Data", placeholder="own size",
        unless={"data.source": V.POINT_SOURCES + (V.DRAWN_SOURCE,)},
        help="Every image's centre square resized to this side (blank: keep their size; "
             "photos of mixed sizes need one)")
    sprite_colour: bool = False
    sprite_factors: str = setting("", must="text such as 'shape=0, y=0.3:0.7'")


@dataclass(frozen=True)
class ModelConfig:
    """The model family and its architecture.

    ``family`` is a key of the model registry (:mod:`engine.models`):
    ``autoencoder`` or ``classifier`` (an encoder with a linear head on its
    code). ``hidden`` are the widths of the MLP's hidden layers (encoder
    order; the decoder mirrors them) or, for ``conv``, the channels of the
    stride-2 convolutions. ``code_activation`` is applied to the code of a
    deterministic encoder (``sigmoid`` gives the classic contractive AE); a
    variational encoder's mean is always linear. ``variational`` and ``code_activation``
    are an autoencoder's alone, kept here as every saved config names them ``model.*``.
    """

    family: str = setting("autoencoder", check=False)
    architecture: str = setting("mlp", label="Type", form="Architecture",
                                choices={"mlp": "MLP (fully connected)",
                                         "conv": "Convolutional"})
    hidden: tuple[int, ...] = setting(
        (400,), lo=1, hi=8192, max_len=6, must="a list of at most 6 layer widths",
        label="Hidden", form="Architecture", placeholder="e.g. 512, 256",
        help="Encoder layer widths (conv: channels), e.g. 512, 256; the decoder mirrors them")
    # Above 784: an overcomplete code for MNIST (the identity-risk preset uses 1024).
    latent_dim: int = setting(20, lo=1, hi=8192, label="Latent size", form="Architecture",
                              help="Dimensions of the code (2 draws the map directly)")
    activation: str = setting("relu", choices=ACTIVATIONS)
    code_activation: str = setting("linear", choices=CODE_ACTIVATIONS)
    variational: bool = setting(False, kind="variational", form="Kind",
                                kind_help="a VAE: stochastic code, KL to N(0, I)")


@dataclass(frozen=True)
class ObjectiveConfig:
    """Reconstruction likelihood and regularisers of an autoencoder.

    The loss per image is ``recon + sparsity*Σ|h| + contractive*‖∂h/∂x‖²_F
    + beta*KL`` (KL only for a variational model), with the reconstruction
    term the negative log-likelihood of the clean image under the decoder's
    output distribution, in nats. ``kind``: the kind a field switches on when not ``off``;
    ``needs``: a field only that kind uses (``on``: the form's value when ticked).
    """

    likelihood: str = setting("bernoulli", choices={n: n.title() for n in LIKELIHOODS},
                              label="Likelihood", form="Objective")
    levels: int = setting(16, lo=2, hi=256)
    gaussian_std: float = setting(0.1, lo=0.0, hi=10.0, lo_open=True)
    sparsity: float = setting(0.0, lo=0.0, hi=1e3, label="λ sparsity", form="Objective",
                              kind="sparse", off=0.0, on="0.05",
                              help="Weight of the L1 penalty on the code",
                              kind_help="L1 penalty on the code")
    contractive: float = setting(0.0, lo=0.0, hi=1e3, label="λ contractive", form="Objective",
                                 kind="contractive", off=0.0, on="0.1",
                                 help="Weight of the Jacobian penalty",
                                 kind_help="penalty on the encoder's Jacobian")
    contractive_estimator: str = setting("exact", choices=V.CONTRACTIVE_ESTIMATORS)
    projections: int = setting(1, lo=1, hi=64)
    beta: float = setting(1.0, lo=0.0, hi=1e3, label="β (KL weight)", form="Objective",
                          needs="variational", help="Weight of the KL term (VAE)")
    corruption: str = setting(
        "none", label="Corruption", form="Objective", kind="denoising", off="none",
        on="masking", kind_help="reconstruct clean images from corrupted inputs",
        choices={"none": "none", "masking": "masking", "gaussian": "Gaussian noise",
                 "salt_pepper": "salt and pepper"})
    corruption_level: float = setting(
        0.0, check=False, label="Level", form="Objective", needs="denoising", off=0.0,
        on="0.3", help="Masking / salt-and-pepper: fraction of pixels (0-1); Gaussian: noise std")


@dataclass(frozen=True)
class OptimConfig:
    """Optimiser and schedule. ``grad_clip`` is a max global gradient norm, or None."""

    optimizer: str = setting("adam", choices=OPTIMIZERS, label="Optimiser", form="Optimisation")
    lr: float = setting(1e-3, lo=0.0, hi=10.0, lo_open=True, label="Learning rate",
                        form="Optimisation", help="e.g. 0.001 or 1e-3")
    batch_size: int = setting(128, lo=1, hi=65536, label="Batch size", form="Optimisation",
                              help="Images per step")
    epochs: int = setting(10, lo=1, hi=100_000, label="Epochs", form="Optimisation",
                          help="Passes over the training set")
    weight_decay: float = setting(0.0, lo=0.0, hi=1.0)
    momentum: float = setting(0.9, lo=0.0, hi=1.0)
    grad_clip: float | None = setting(None, lo=0.0, hi=1e6, lo_open=True)


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
        return self.kinds[k - 1] if self.kinds else V.SHARED_KIND


@dataclass(frozen=True)
class ClassifierConfig(SectionSettings):
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

    families = ("classifier",)
    used_for = "model.family classifier"

    labels: int | None = setting(None, lo=1)
    freeze: bool = False
    init: str = setting("pretrained", choices=V.CLASSIFIER_INITS)
    encoder: str = setting("", must="a description (text)")


SECTIONS = {"data": DataConfig, "model": ModelConfig, "objective": ObjectiveConfig,
            "optim": OptimConfig, "pretraining": PretrainingConfig,
            "classifier": ClassifierConfig}
OPTIONAL_SECTIONS = ("pretraining", "classifier")
RENAMED = {"pretraining.finetune_epochs": "pretraining.end_to_end_epochs"}  # old: read as new


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run. ``device`` is auto, cpu, cuda, cuda:N or mps.

    ``precision`` ``bfloat16`` runs the training steps' forward passes under bf16
    autocast (weights, optimiser and validation stay float32): faster where the
    processor has bf16 units (see benchmarks/bench_trainer_throughput.py).
    The families' sections, in ``family_sections``, read as attributes: ``cfg.gan``
    (or None); ``cfg.gan_settings`` or ``cfg.settings_of("gan")`` (or its defaults).
    """

    name: str = "custom"
    description: str = ""
    device: str = setting("auto", check=False, label="Device", form="Optimisation",
                          widget="device")
    seed: int = setting(0, lo=0, hi=2**63 - 1, label="Seed", form="Optimisation",
                        help="Same seed, same run")
    precision: str = setting("float32", choices=V.PRECISIONS)
    snapshot_every: int = setting(1, lo=1, hi=10_000)
    quality_every: int | None = setting(None, lo=1, hi=10_000)  # sample quality (None: auto)
    log_every: int = setting(1, lo=1, hi=10_000)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    objective: ObjectiveConfig = dataclasses.field(default_factory=ObjectiveConfig)
    optim: OptimConfig = dataclasses.field(default_factory=OptimConfig)
    pretraining: PretrainingConfig | None = None
    classifier: ClassifierConfig | None = None
    family_sections: tuple[tuple[str, Any], ...] = setting((), check=False)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "family_sections":
            raise AttributeError(name)
        sections = registered_settings()
        base = name[:-len("_settings")] if name.endswith("_settings") else None
        if name in sections:
            return dict(self.family_sections).get(name)
        if base in sections:
            return self.settings_of(base)
        raise AttributeError(f"'RunConfig' has no attribute '{name}'")

    def settings_of(self, section: str) -> Any:
        """The family section ``section``, or its defaults when absent."""
        value = dict(self.family_sections).get(section)
        return value if value is not None else registered_settings()[section]()

    def kinds(self) -> list[str]:
        """The kinds this config combines, e.g. ``['denoising', 'variational']``."""
        if self.model.family != "autoencoder":
            return [self.model.family]
        if self.pretraining is not None and V.RBM_KIND in self.pretraining.kinds:
            return (["deep belief network"] if set(self.pretraining.kinds) == {V.RBM_KIND}
                    else ["stacked", "RBM and autoencoder stages"])
        out = [fi.get("kind") for section, fi in kind_fields()
               if getattr(getattr(self, section), fi.name) != fi.get("off", False)]
        if self.pretraining is not None:
            # "stacked" describes how the model is trained, the rest what each layer learns.
            return ["stacked"] + (out or ["plain"])
        return out or ["plain"]

    def kind_label(self) -> str:  # "sparse + denoising"
        return " + ".join(self.kinds())

    def replace(self, **changes: Any) -> "RunConfig":
        """A copy with whole fields or sections (a family's too) replaced (not validated)."""
        sections = dict(self.family_sections)
        for name in [n for n in changes if n in registered_settings()]:
            sections[name] = changes.pop(name)
        return dataclasses.replace(self, **changes, family_sections=_ordered(sections))

    def validate(self) -> "RunConfig":
        V.check_run(self, optional_sections())
        return self

    def to_dict(self) -> dict[str, Any]:
        d = F.to_dict(dataclasses.replace(self, family_sections=()))
        del d["family_sections"]
        for section in OPTIONAL_SECTIONS:
            if d[section] is None:
                del d[section]  # absent rather than null: ordinary configs stay as before
        for name, value in self.family_sections:
            if value is not None:
                d[name] = F.to_dict(value)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        """Build and validate a config; unknown or mistyped fields raise ConfigError."""
        if not isinstance(d, dict):
            raise ConfigError(f"a run config must be a JSON object (got {type(d).__name__})")
        own, names = registered_settings(), _top_names()
        d = {k: _renamed(k, v) for k, v in d.items()}
        for key in d:
            if key not in names:
                raise F.unknown_field(key, names)
        cfg = F.from_dict(cls, {k: v for k, v in d.items() if k not in own})
        sections = {k: F.from_dict(own[k], v, f"{k}.") for k, v in d.items()
                    if k in own and v is not None}
        return dataclasses.replace(cfg, family_sections=_ordered(sections)).validate()

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
        optional = optional_sections()
        d = self.to_dict()
        for dotted, value in assignments.items():
            parts = RENAMED.get(dotted, dotted).split(".")
            node = d
            for p in parts[:-1]:
                if node is d and p in optional and node.get(p) is None:
                    node[p] = F.to_dict(optional[p]())
                if not isinstance(node.get(p), dict):
                    raise F.unknown_field(dotted, [])
                node = node[p]
            if parts[-1] not in node:
                if len(parts) == 1 and parts[0] in optional:
                    node[parts[0]] = None
                else:
                    raise F.unknown_field(dotted, _known_paths(d, parts[:-1]))
            node[parts[-1]] = value
        return RunConfig.from_dict(d)


def optional_sections() -> dict[str, type]:
    """Every section a config may leave out: pretraining, classifier and the families' own."""
    return {**{n: SECTIONS[n] for n in OPTIONAL_SECTIONS}, **registered_settings()}


def kind_fields() -> list[tuple[str, F.FieldInfo]]:
    """``(section, field)`` of each field that switches an autoencoder kind on, in order."""
    return [(s, fi) for s in ("objective", "model") for fi in F.described(SECTIONS[s])
            if fi.get("kind")]


def _ordered(sections: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The family sections in registry order (so equal configs compare equal)."""
    return tuple((n, sections[n]) for n in registered_settings() if sections.get(n) is not None)


def _renamed(section: str, value: Any) -> Any:   # a section with old field names renamed
    old = {o.split(".", 1)[1]: n.split(".", 1)[1] for o, n in RENAMED.items()
           if o.startswith(section + ".")}
    return {old.get(k, k): v for k, v in value.items()} if isinstance(value, dict) else value


def _top_names() -> list[str]:
    return ([fi.name for fi in F.described(RunConfig) if fi.name != "family_sections"]
            + list(registered_settings()))


def _known_paths(d: dict[str, Any], prefix: list[str]) -> list[str]:
    for p in prefix:
        d = d.get(p, {}) if isinstance(d, dict) else {}
    return [".".join(prefix + [k]) for k in d] if isinstance(d, dict) else []


def parse_value(text: str) -> Any:
    """Parse a command-line value: JSON if it parses (numbers, lists, true, null), else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
