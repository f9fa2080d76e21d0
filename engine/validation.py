"""The checks on a run configuration that are rules *between* fields.

Each field's own bounds and choices are in its description
(:func:`engine.fields.setting` in :mod:`engine.config` and in each family's
settings); :func:`check_run` checks those with :func:`engine.fields.check_fields`
and adds the rules here, raising :class:`~engine.errors.ConfigError` naming the
dotted field (``model.latent_dim``, ``pretraining.kinds[1]``) and the allowed
values. The module imports no config class: ``engine.config`` calls it, never
the other way round; a family's own rules are its settings' ``check_run``.
"""

from __future__ import annotations

from engine.errors import ConfigError
from engine.fields import (check, check_fields, choice, int_in,
                           is_int, num_in)

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
ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "leaky_relu")
CODE_ACTIVATIONS = ("linear", "sigmoid", "relu", "tanh")
LIKELIHOODS = ("gaussian", "bernoulli", "categorical")
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


def kind_parts(kind: str) -> tuple[str, ...]:
    """``"sparse+denoising"`` -> ``("sparse", "denoising")``."""
    return tuple(p.strip() for p in kind.split("+") if p.strip())


# -- rules between fields -----------------------------------------------------------------

def check_data(d) -> None:
    check_fields(d, "data.")
    if d.source == "file":
        check(isinstance(d.path, str) and bool(d.path), "data.path",
              "a file or folder path when data.source is 'file'", d.path)
    if d.source == DRAWN_SOURCE:
        from engine.data.drawn import points_problem  # numpy only: no cycle
        problem = points_problem(d.points)
        if problem:
            raise ConfigError(problem, "data.points")
    lo, hi = IMAGE_SIZES
    check(d.image_size is None or (is_int(d.image_size) and lo <= d.image_size <= hi),
          "data.image_size", f"an integer from {lo} to {hi} (the side, in pixels, of the "
          "square every image is resized and cropped to) or null to keep the images' own "
          "size", d.image_size)
    check(d.image_size is None or d.source not in POINT_SOURCES + (DRAWN_SOURCE,),
          "data.image_size",
          f"null for the 2-D points of data.source {d.source} (they are points, not images)",
          d.image_size)
    from engine.data.sprites import parse_factor_ranges  # numpy only: no cycle
    try:
        parse_factor_ranges(d.sprite_factors)
    except ValueError as e:
        raise ConfigError(str(e), "data.sprite_factors") from None


def check_model(m) -> None:
    check(isinstance(m.family, str) and m.family.isidentifier(), "model.family",
          "the name of a model family, e.g. autoencoder", m.family)
    check_fields(m, "model.")
    if m.architecture == "conv":
        check(1 <= len(m.hidden) <= 4, "model.hidden", "1 to 4 channel counts for a conv model",
              m.hidden)


def check_objective(o) -> None:
    check_fields(o, "objective.")
    hi = 1.0 if o.corruption in ("masking", "salt_pepper") else 5.0
    num_in(o.corruption_level, "objective.corruption_level", 0.0, hi,
           lo_open=o.corruption != "none")


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


def check_sections(cfg, sections: dict) -> None:
    """Each optional section that is set: for a run it belongs to, and its fields valid."""
    for name, cls in sections.items():
        value = getattr(cfg, name)
        if value is None:
            continue
        check(cls.used_by(cfg), name, f"only set for {cls.used_for}", cfg.model.family)
        check_fields(value, f"{name}.")


def check_family(cfg, sections: dict) -> None:
    """Rules on the shared sections: the data's, and those the family's settings set."""
    m = cfg.model
    if cfg.data.source in POINT_SOURCES + (DRAWN_SOURCE,):
        check(m.architecture == "mlp", "model.architecture",
              f"mlp for the 2-D points of data.source {cfg.data.source} (convolutions need "
              "images)", m.architecture)
    for cls in sections.values():
        if m.family in cls.families:
            cls.check_run(cfg)


def check_run(cfg, optional: dict) -> None:
    """Every field, then the rules between fields and sections.

    ``optional``: the optional sections' classes by name (pretraining, classifier and
    the families' own: :func:`engine.config.optional_sections`).
    """
    check_fields(cfg)
    check(isinstance(cfg.device, str) and (
        cfg.device in DEVICES or (cfg.device.startswith("cuda:") and cfg.device[5:].isdigit())),
        "device", "one of auto, cpu, cuda, cuda:N, mps", cfg.device)
    check_data(cfg.data)
    if cfg.pretraining is not None:  # a stage's width is its code size: say that range
        for i, w in enumerate(getattr(cfg.model, "hidden", ())):
            int_in(w, f"model.hidden[{i}]", 1, MAX_STAGE_WIDTH)
    check_model(cfg.model)
    check_objective(cfg.objective)
    check_fields(cfg.optim, "optim.")
    if cfg.pretraining is not None:
        check_pretraining(cfg)
    sections = {k: v for k, v in optional.items() if k != "pretraining"}
    check_sections(cfg, sections)
    check_family(cfg, sections)
