"""Every check on a run configuration, in one place.

Each function takes a config section (see :mod:`engine.config`) and raises
:class:`~engine.errors.ConfigError` naming the dotted field
(``model.latent_dim``, ``pretraining.kinds[1]``) and the allowed values.
The module reads the sections' attributes only, so it imports no config
class: ``engine.config`` calls it, never the other way round.
"""

from __future__ import annotations

import math
from typing import Any

from engine.errors import ConfigError

#: The procedural 2-D point sets (engine.data.toy2d.TOY_SETS; not imported: no cycle).
POINT_SOURCES = ("moons", "rings", "spiral", "gaussians")
#: Points drawn by hand (engine.data.drawn.DRAWN), in ``data.points``.
DRAWN_SOURCE = "drawn"
#: The common data sets fetched by name into a cache (engine.data.named.NAMED_SETS).
NAMED_SOURCES = ("mnist-full", "fashion-mnist", "cifar10")
DATA_SOURCES = (("mnist", "sprites") + POINT_SOURCES + (DRAWN_SOURCE, "file")
                + NAMED_SOURCES)
#: data.image_size's range (engine.data.resize): below 8 a conv model has nothing to
#: convolve; above 1024 one RGB image is 12 MB as float32 and an MLP's first layer explodes.
IMAGE_SIZES = (8, 1024)
ARCHITECTURES = ("mlp", "conv")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "leaky_relu")
CODE_ACTIVATIONS = ("linear", "sigmoid", "relu", "tanh")
LIKELIHOODS = ("gaussian", "bernoulli", "categorical")
CORRUPTIONS = ("none", "gaussian", "masking", "salt_pepper")
CONTRACTIVE_ESTIMATORS = ("exact", "projection")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("float32", "bfloat16")

#: What a greedy stage may be; combine with "+", e.g. "sparse+denoising".
STAGE_KINDS = ("plain", "sparse", "contractive", "denoising")
#: A stage that is a restricted Boltzmann machine (a DBN layer); it combines with nothing.
RBM_KIND = "rbm"
#: The visible units an RBM may have: the likelihoods that are its p(v|h).
RBM_VISIBLE = ("bernoulli", "gaussian")
#: A stage that keeps every regulariser the objective sets (the default).
SHARED_KIND = "shared"
#: Activations that are both a hidden and a code activation: the stacked encoder
#: h_k = a(W_k h_{k-1} + b_k) is then exactly an MLP with one activation.
STACK_ACTIVATIONS = ("sigmoid", "tanh", "relu")
MAX_STAGES = 6
MAX_STAGE_WIDTH = 512           # a stage's width is its code size: latent_dim's range
CLASSIFIER_INITS = ("pretrained", "random")


# -- primitives -------------------------------------------------------------------------

def check(ok: bool, field: str, allowed: str, value: Any) -> None:
    """Raise ``ConfigError(field, "must be <allowed> (got <value>)")`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"must be {allowed} (got {value!r})", field)


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def choice(v: Any, field: str, options: tuple[str, ...]) -> None:
    check(v in options, field, "one of " + ", ".join(options), v)


def int_in(v: Any, field: str, lo: int, hi: int | None = None) -> None:
    rng = f"an integer from {lo} to {hi}" if hi is not None else f"an integer >= {lo}"
    check(is_int(v) and v >= lo and (hi is None or v <= hi), field, rng, v)


def num_in(v: Any, field: str, lo: float, hi: float | None = None,
           lo_open: bool = False) -> None:
    ok = (is_num(v) and not math.isnan(v) and (v > lo if lo_open else v >= lo)
          and (hi is None or v <= hi))
    low = f"> {lo}" if lo_open else f">= {lo}"
    check(ok, field, f"a number {low}" + (f" and <= {hi}" if hi is not None else ""), v)


def kind_parts(kind: str) -> tuple[str, ...]:
    """``"sparse+denoising"`` -> ``("sparse", "denoising")``."""
    return tuple(p.strip() for p in kind.split("+") if p.strip())


# -- sections ---------------------------------------------------------------------------

def check_data(d) -> None:
    choice(d.source, "data.source", DATA_SOURCES)
    if d.source == "file":
        check(isinstance(d.path, str) and bool(d.path), "data.path",
              "a file or folder path when data.source is 'file'", d.path)
    if d.limit is not None:
        int_in(d.limit, "data.limit", 2)
    num_in(d.val_fraction, "data.val_fraction", 0.0, 0.9)
    int_in(d.n_probe, "data.n_probe", 1, 1024)
    check(d.sprite_size in (32, 64), "data.sprite_size", "32 or 64", d.sprite_size)
    int_in(d.n_sprites, "data.n_sprites", 16, 200_000)
    check(d.stream in (None, True, False), "data.stream",
          "true (read batches from the file), false (load it) or null (stream only what "
          "does not fit in memory)", d.stream)
    if d.workers is not None:
        int_in(d.workers, "data.workers", 0, 64)
    int_in(d.n_points, "data.n_points", 16, 1_000_000)
    check(isinstance(d.points, str), "data.points", "text of x,y points", type(d.points))
    if d.source == DRAWN_SOURCE:
        from engine.data.drawn import points_problem  # numpy only: no cycle
        problem = points_problem(d.points)
        if problem:
            raise ConfigError(problem, "data.points")
    if d.point_noise is not None:
        num_in(d.point_noise, "data.point_noise", 0.0, 0.5)
    lo, hi = IMAGE_SIZES
    check(d.image_size is None or (is_int(d.image_size) and lo <= d.image_size <= hi),
          "data.image_size", f"an integer from {lo} to {hi} (the side, in pixels, of the "
          "square every image is resized and cropped to) or null to keep the images' own "
          "size", d.image_size)
    check(d.image_size is None or d.source not in POINT_SOURCES + (DRAWN_SOURCE,),
          "data.image_size",
          f"null for the 2-D points of data.source {d.source} (they are points, not images)",
          d.image_size)
    check(isinstance(d.sprite_colour, bool), "data.sprite_colour", "true or false",
          d.sprite_colour)
    check(isinstance(d.sprite_factors, str), "data.sprite_factors",
          "text such as 'shape=0, y=0.3:0.7'", type(d.sprite_factors))
    from engine.data.sprites import parse_factor_ranges  # numpy only: no cycle
    try:
        parse_factor_ranges(d.sprite_factors)
    except ValueError as e:
        raise ConfigError(str(e), "data.sprite_factors") from None


def check_model(m) -> None:
    check(isinstance(m.family, str) and m.family.isidentifier(), "model.family",
          "the name of a model family, e.g. autoencoder", m.family)
    choice(m.architecture, "model.architecture", ARCHITECTURES)
    check(isinstance(m.hidden, (tuple, list)) and len(m.hidden) <= 6,
          "model.hidden", "a list of at most 6 layer widths", m.hidden)
    if m.architecture == "conv":
        check(1 <= len(m.hidden) <= 4, "model.hidden", "1 to 4 channel counts for a conv model",
              m.hidden)
    for i, w in enumerate(m.hidden):
        int_in(w, f"model.hidden[{i}]", 1, 8192)
    # Above 784: an overcomplete code for MNIST (the identity-risk preset uses 1024).
    int_in(m.latent_dim, "model.latent_dim", 1, 8192)
    choice(m.activation, "model.activation", ACTIVATIONS)
    choice(m.code_activation, "model.code_activation", CODE_ACTIVATIONS)
    check(isinstance(m.variational, bool), "model.variational", "true or false", m.variational)


def check_objective(o) -> None:
    choice(o.likelihood, "objective.likelihood", LIKELIHOODS)
    int_in(o.levels, "objective.levels", 2, 256)
    num_in(o.gaussian_std, "objective.gaussian_std", 0.0, 10.0, lo_open=True)
    num_in(o.sparsity, "objective.sparsity", 0.0, 1e3)
    num_in(o.contractive, "objective.contractive", 0.0, 1e3)
    choice(o.contractive_estimator, "objective.contractive_estimator", CONTRACTIVE_ESTIMATORS)
    int_in(o.projections, "objective.projections", 1, 64)
    num_in(o.beta, "objective.beta", 0.0, 1e3)
    choice(o.corruption, "objective.corruption", CORRUPTIONS)
    hi = 1.0 if o.corruption in ("masking", "salt_pepper") else 5.0
    num_in(o.corruption_level, "objective.corruption_level", 0.0, hi,
           lo_open=o.corruption != "none")


def check_optim(o) -> None:
    choice(o.optimizer, "optim.optimizer", OPTIMIZERS)
    num_in(o.lr, "optim.lr", 0.0, 10.0, lo_open=True)
    int_in(o.batch_size, "optim.batch_size", 1, 65536)
    int_in(o.epochs, "optim.epochs", 1, 100_000)
    num_in(o.weight_decay, "optim.weight_decay", 0.0, 1.0)
    num_in(o.momentum, "optim.momentum", 0.0, 1.0)
    if o.grad_clip is not None:
        num_in(o.grad_clip, "optim.grad_clip", 0.0, 1e6, lo_open=True)


def check_pretraining(cfg) -> None:
    """Greedy layer-wise stacking of ``cfg.model``: its MLP *is* the stacked autoencoder.

    The stage widths are ``model.hidden + [model.latent_dim]`` and each stage
    trains ``optim.epochs``; so the model must be a deterministic MLP with one
    activation everywhere, and each stage's kind needs its regulariser's
    strength in ``objective``.
    """
    p, m, obj = cfg.pretraining, cfg.model, cfg.objective
    check(m.family == "autoencoder", "model.family",
          "autoencoder for greedy layer-wise pretraining", m.family)
    check(m.architecture == "mlp", "model.architecture", "mlp for a pretraining config",
          m.architecture)
    check(not m.variational, "model.variational",
          "false for a pretraining config (stages are deterministic autoencoders)",
          m.variational)
    choice(m.code_activation, "model.code_activation", STACK_ACTIVATIONS)
    check(m.activation == m.code_activation, "model.activation",
          f"the same as model.code_activation ({m.code_activation!r}) for a pretraining "
          "config: the stacked encoder is the composition of the stage encoders",
          m.activation)
    widths = tuple(m.hidden) + (m.latent_dim,)
    check(len(widths) <= MAX_STAGES, "model.hidden", f"at most {MAX_STAGES - 1} widths "
          f"(one stage each, plus model.latent_dim)", list(m.hidden))
    for i, w in enumerate(m.hidden):
        int_in(w, f"model.hidden[{i}]", 1, MAX_STAGE_WIDTH)
    int_in(p.end_to_end_epochs, "pretraining.end_to_end_epochs", 0, 100_000)
    kinds = p.kinds
    check(isinstance(kinds, (tuple, list)) and (not kinds or len(kinds) == len(widths)),
          "pretraining.kinds", f"empty or one kind per stage ({len(widths)})", list(kinds))
    needs = {"sparse": (obj.sparsity > 0, "objective.sparsity > 0"),
             "contractive": (obj.contractive > 0, "objective.contractive > 0"),
             "denoising": (obj.corruption != "none", "objective.corruption other than none")}
    allowed = STAGE_KINDS + (SHARED_KIND, RBM_KIND)
    for i in range(len(widths)):
        field = f"pretraining.kinds[{i}]"
        kind = kinds[i] if kinds else SHARED_KIND
        parts = kind_parts(kind) if isinstance(kind, str) else ()
        check(bool(parts) and all(q in allowed for q in parts)
              and not ({SHARED_KIND, RBM_KIND} & set(parts) and len(parts) > 1),
              field, "one of " + ", ".join(allowed) + " or a '+' combination of the "
              "first four", kind)
        if parts == (RBM_KIND,):
            # An RBM's p(h|v) is sigmoid(W v + c): the stacked encoder is an MLP with
            # sigmoid units only then; its visible units are the previous codes.
            check(m.code_activation == "sigmoid", "model.code_activation",
                  "sigmoid when a stage is an RBM (its hidden units are p(h|v) = "
                  "sigmoid(Wv + c))", m.code_activation)
            if i == 0:
                choice(obj.likelihood, "objective.likelihood", RBM_VISIBLE)
            continue
        for q in parts:
            if q in needs and not needs[q][0]:
                raise ConfigError(f"is '{kind}', which needs {needs[q][1]} (the stages share "
                                  "the regulariser strengths)", field)
        denoises = SHARED_KIND in parts or "denoising" in parts
        # Gaussian noise and salt-and-pepper clip to [0, 1]: right for pixels and
        # sigmoid codes, wrong for tanh or relu codes. Masking (zeroing) fits any code.
        if (i > 0 and denoises and m.code_activation != "sigmoid"
                and obj.corruption not in ("none", "masking")):
            raise ConfigError(f"cannot denoise with {obj.corruption} corruption: it clips to "
                              f"[0, 1], which does not fit {m.code_activation} codes; use "
                              "objective.corruption=masking", field)


def check_classifier(cfg) -> None:
    c = cfg.classifier
    check(cfg.model.family == "classifier", "classifier",
          "only set for model.family classifier", cfg.model.family)
    if c.labels is not None:
        int_in(c.labels, "classifier.labels", 1)
    check(isinstance(c.freeze, bool), "classifier.freeze", "true or false", c.freeze)
    choice(c.init, "classifier.init", CLASSIFIER_INITS)
    check(isinstance(c.encoder, str), "classifier.encoder", "a description (text)", c.encoder)


def check_gan(cfg) -> None:
    g = cfg.gan
    check(cfg.model.family == "gan", "gan", "only set for model.family gan", cfg.model.family)
    int_in(g.d_steps, "gan.d_steps", 1, 100)
    if g.d_lr is not None:
        num_in(g.d_lr, "gan.d_lr", 0.0, 10.0, lo_open=True)
    num_in(g.adam_beta1, "gan.adam_beta1", 0.0, 0.999)
    num_in(g.instance_noise, "gan.instance_noise", 0.0, 1.0)
    num_in(g.d_dropout, "gan.d_dropout", 0.0, 0.9)


def check_rbm(cfg) -> None:
    r = cfg.rbm
    rbm_stages = cfg.pretraining is not None and RBM_KIND in cfg.pretraining.kinds
    check(cfg.model.family == "rbm" or rbm_stages, "rbm",
          "only set for model.family rbm or a pretraining with rbm stages", cfg.model.family)
    int_in(r.cd_k, "rbm.cd_k", 1, 1000)
    check(isinstance(r.persistent, bool), "rbm.persistent", "true or false", r.persistent)
    int_in(r.chains, "rbm.chains", 1, 10_000)
    int_in(r.ais_chains, "rbm.ais_chains", 2, 10_000)
    int_in(r.ais_steps, "rbm.ais_steps", 10, 1_000_000)


def check_family(cfg) -> None:
    """Rules a family sets on the shared sections (what its model can be built from)."""
    m, o = cfg.model, cfg.objective
    if cfg.data.source in POINT_SOURCES + (DRAWN_SOURCE,):
        check(m.architecture == "mlp", "model.architecture",
              f"mlp for the 2-D points of data.source {cfg.data.source} (convolutions need "
              "images)", m.architecture)
    if m.family == "rbm":
        check(m.architecture == "mlp", "model.architecture",
              "mlp for an RBM (every visible unit connects to every hidden unit)",
              m.architecture)
        check(len(m.hidden) == 0, "model.hidden", "empty for an RBM: it has one layer of "
              "hidden units, model.latent_dim of them", list(m.hidden))
        check(not m.variational, "model.variational", "false for an RBM", m.variational)
        choice(o.likelihood, "objective.likelihood", RBM_VISIBLE)
    if m.family == "gan":
        check(not m.variational, "model.variational",
              "false for a GAN (its generator has no encoder to make stochastic)",
              m.variational)


def check_run(cfg) -> None:
    """Every section, then the rules between sections."""
    check(isinstance(cfg.name, str), "name", "a string", cfg.name)
    check(isinstance(cfg.description, str), "description", "a string", cfg.description)
    int_in(cfg.seed, "seed", 0, 2**63 - 1)
    check(isinstance(cfg.device, str) and (
        cfg.device in DEVICES or (cfg.device.startswith("cuda:") and cfg.device[5:].isdigit())),
        "device", "one of auto, cpu, cuda, cuda:N, mps", cfg.device)
    choice(cfg.precision, "precision", PRECISIONS)
    int_in(cfg.snapshot_every, "snapshot_every", 1, 10_000)
    if cfg.quality_every is not None:
        int_in(cfg.quality_every, "quality_every", 1, 10_000)
    int_in(cfg.log_every, "log_every", 1, 10_000)
    check_data(cfg.data)
    if cfg.pretraining is not None:  # a stage's width is its code size: say that range
        for i, w in enumerate(getattr(cfg.model, "hidden", ())):
            int_in(w, f"model.hidden[{i}]", 1, MAX_STAGE_WIDTH)
    check_model(cfg.model)
    check_objective(cfg.objective)
    check_optim(cfg.optim)
    if cfg.pretraining is not None:
        check_pretraining(cfg)
    if cfg.classifier is not None:
        check_classifier(cfg)
    if cfg.gan is not None:
        check_gan(cfg)
    if cfg.rbm is not None:
        check_rbm(cfg)
    check_family(cfg)
