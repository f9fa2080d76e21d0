"""The ordinary runs a greedy layer-wise pretraining config stands for.

A :class:`~engine.config.RunConfig` with a ``pretraining`` section describes
the stacked MLP autoencoder itself (``model.hidden + [latent_dim]`` are the
stage widths, ``optim.epochs`` the epochs of each stage); the functions here
derive the config of each stage — a one-layer autoencoder — and of the
stack's own run. The stage widths, the activation and the epochs per stage
live in one place only, so nothing can disagree.
"""

from __future__ import annotations

import dataclasses

from engine.config import ModelConfig, ObjectiveConfig, RunConfig
from engine.validation import RBM_KIND, SHARED_KIND, kind_parts


def stage_widths(cfg: RunConfig) -> tuple[int, ...]:
    """Code size of each stage, e.g. ``(256, 64)`` for 784-256-64."""
    return tuple(cfg.model.hidden) + (cfg.model.latent_dim,)


def code_likelihood(code_activation: str) -> str:
    """The likelihood of stage k >= 2, whose "images" are the codes of stage k - 1.

    Sigmoid codes lie in [0, 1] and read like grey values, so the stage
    reconstructs them as Bernoulli means (cross-entropy on logits), exactly
    what stage 1 does with pixels; this also makes the mirrored decoder of
    the stacked autoencoder exact (sigmoid of the logits is both the
    Bernoulli mean and the hidden activation). tanh codes lie in [-1, 1] and
    relu codes are unbounded: no Bernoulli there, so a Gaussian (squared
    error) with ``objective.gaussian_std``.
    """
    return "bernoulli" if code_activation == "sigmoid" else "gaussian"


def stage_objective(cfg: RunConfig, k: int) -> ObjectiveConfig:
    """Stage k's objective: the run's, with only the regularisers its kind names."""
    obj = cfg.objective
    parts = set(kind_parts(cfg.pretraining.stage_kind(k)))
    keep = parts == {SHARED_KIND}
    out = dataclasses.replace(
        obj,
        sparsity=obj.sparsity if keep or "sparse" in parts else 0.0,
        contractive=obj.contractive if keep or "contractive" in parts else 0.0)
    if not (keep or "denoising" in parts):
        out = dataclasses.replace(out, corruption="none", corruption_level=0.0)
    if k >= 2:
        out = dataclasses.replace(out, likelihood=code_likelihood(cfg.model.code_activation))
    return out


def is_rbm_stage(cfg: RunConfig, k: int) -> bool:
    """Whether stage ``k`` is a restricted Boltzmann machine (a deep belief network's layer)."""
    return cfg.pretraining.stage_kind(k) == RBM_KIND


def stage_config(cfg: RunConfig, k: int) -> RunConfig:
    """The RunConfig of stage ``k`` (1-based): a one-layer autoencoder of width ``widths[k-1]``,
    or for an ``rbm`` stage an RBM with that many hidden units.

    Its ``data`` section is the run's (provenance only: stages k >= 2 are
    handed a data set of codes directly). An RBM stage's visible units are
    the run's likelihood on pixels, Bernoulli on the sigmoid codes after that;
    its ``rbm`` section is the run's.
    """
    act = cfg.model.code_activation
    width = stage_widths(cfg)[k - 1]
    if is_rbm_stage(cfg, k):
        obj = dataclasses.replace(stage_objective(cfg, k), sparsity=0.0, contractive=0.0,
                                  corruption="none", corruption_level=0.0)
        model = ModelConfig(family="rbm", architecture="mlp", hidden=(), latent_dim=width,
                            activation=act, code_activation=act, variational=False)
        return dataclasses.replace(cfg, name=f"{cfg.name} stage {k}", pretraining=None,
                                   model=model, objective=obj).validate()
    model = ModelConfig(architecture="mlp", hidden=(), latent_dim=width,
                        activation=act, code_activation=act, variational=False)
    return cfg.replace(name=f"{cfg.name} stage {k}", pretraining=None, rbm=None,
                       model=model, objective=stage_objective(cfg, k)).validate()


def stack_config(cfg: RunConfig) -> RunConfig:
    """The RunConfig of the stacked autoencoder's own run (end-to-end training).

    Its model is the run's MLP, its objective the run's as it is (every
    shared regulariser), its epochs ``pretraining.end_to_end_epochs`` (at least
    1 in the config, so it stays valid and can be resumed for more; a job
    with no end-to-end epochs trains it for none).
    """
    epochs = max(1, cfg.pretraining.end_to_end_epochs)
    return cfg.replace(
        name=f"{cfg.name} end-to-end", pretraining=None, rbm=None,
        optim=dataclasses.replace(cfg.optim, epochs=epochs)).validate()


def stage_title(cfg: RunConfig, k: int, input_dim: int) -> str:
    """E.g. ``"stage 2 (256→64, denoising)"``: the kind the stage trains as (for a stage
    that takes the run's own regularisers, those, e.g. ``plain``)."""
    kind = cfg.pretraining.stage_kind(k)
    if kind == SHARED_KIND:
        kind = stage_config(cfg, k).kind_label()
    return f"stage {k} ({input_dim}→{stage_widths(cfg)[k - 1]}, {kind})"
