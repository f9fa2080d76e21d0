"""The GAN against hand computations and the optimal discriminator D* = p_data / (p_data + p_g)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from engine.config import RunConfig
from engine.models import GAN, StepContext
from engine.models.base import Batch
from engine.models.gan import discriminator_loss, generator_loss
from session_support import single_torch_thread


def test_losses_on_fixed_logits_are_the_hand_computed_ones():
    real, fake = [0.0, 2.0, -1.0], [1.0, -3.0]
    # -log D(x) with D = sigmoid(l): log(1 + e^-l); -log(1 - D(g(z))): log(1 + e^l).
    want_d = (np.mean([math.log(1 + math.exp(-v)) for v in real])
              + np.mean([math.log(1 + math.exp(v)) for v in fake]))
    want_g = np.mean([-math.log(1 / (1 + math.exp(-v))) for v in fake])
    got_d = discriminator_loss(torch.tensor(real, dtype=torch.float64),
                               torch.tensor(fake, dtype=torch.float64))
    got_g = generator_loss(torch.tensor(fake, dtype=torch.float64))
    assert got_d.item() == pytest.approx(want_d, rel=1e-12)
    assert got_g.item() == pytest.approx(want_g, rel=1e-12)
    # At the undecided discriminator (l = 0) the losses are log 4 and log 2.
    zero = torch.zeros(5)
    assert discriminator_loss(zero, zero).item() == pytest.approx(math.log(4))
    assert generator_loss(zero).item() == pytest.approx(math.log(2))
    # Stable where the naive formulas overflow: l = ±100.
    big = torch.tensor([100.0, -100.0])
    assert torch.isfinite(discriminator_loss(big, big)) and torch.isfinite(generator_loss(big))
    assert generator_loss(torch.tensor([-100.0])).item() == pytest.approx(100.0)


def gan_config(**over) -> RunConfig:
    base = {"model.family": "gan", "model.hidden": [32, 32], "model.latent_dim": 1,
            "optim.lr": 2e-3, "device": "cpu"}
    base.update(over)
    return RunConfig().with_overrides(base)


def test_the_model_terms_of_an_undecided_discriminator():
    gan = GAN((1, 4, 4), gan_config())
    with torch.no_grad():
        for p in gan.discriminator.parameters():
            p.zero_()
    terms = gan.loss(Batch(torch.rand(8, 1, 4, 4)), torch.Generator().manual_seed(0))
    assert terms["total"].item() == pytest.approx(math.log(4))
    assert terms["generator"].item() == pytest.approx(math.log(2))
    assert terms["d_real"].item() == pytest.approx(0.5) and terms["d_fake"].item() == 0.5


class FixedGenerator(nn.Module):
    """g(z) = mean + std * z: the generated distribution is N(mean, std²), known exactly."""

    def __init__(self, mean: float, std: float):
        super().__init__()
        self.mean, self.std = mean, std
        self.unused = nn.Parameter(torch.zeros(()))   # an optimiser needs a parameter

    def forward(self, z):
        return (self.mean + self.std * z + 0.0 * self.unused).view(-1, 1, 1, 1)


def normal_pdf(x, mean, std):
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def test_the_discriminator_alone_approaches_the_optimal_discriminator():
    """Goodfellow et al.'s Proposition 1, on p_data = N(0.4, 0.08²), p_g = N(0.55, 0.1²)."""
    cfg = gan_config(**{"optim.lr": 3e-3})
    with single_torch_thread(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        gan = GAN((1, 1, 1), cfg)
        gan.generator = FixedGenerator(0.55, 0.1)
        optimizers = gan.configure_optimizers(cfg.optim)
        ctx = StepContext(torch.Generator().manual_seed(1), None)
        data = torch.Generator().manual_seed(2)
        for i in range(900):
            if i == 600:  # a smaller step to settle: Adam at 3e-3 keeps jittering around D*
                for group in optimizers["discriminator"].param_groups:
                    group["lr"] = 5e-4
            x = (0.4 + 0.08 * torch.randn(512, generator=data)).view(-1, 1, 1, 1)
            gan.train_step(Batch(x), optimizers, ctx)
    x = np.linspace(0.3, 0.65, 15)       # where both densities have mass
    p_data, p_g = normal_pdf(x, 0.4, 0.08), normal_pdf(x, 0.55, 0.1)
    want = p_data / (p_data + p_g)
    with torch.no_grad():
        got = torch.sigmoid(gan.discriminator(torch.tensor(x, dtype=torch.float32)
                                              .view(-1, 1, 1, 1))).numpy()
    assert np.abs(got - want).max() < 0.04, np.c_[x, got, want]
    # The generator's "update" changed nothing: the fixed distribution is what D faced.
    assert gan.generator.unused.item() == 0.0


def test_k_discriminator_steps_per_generator_step():
    cfg = gan_config(**{"gan.d_steps": 3, "model.latent_dim": 2})
    gan = GAN((1, 2, 2), cfg)
    optimizers = gan.configure_optimizers(cfg.optim)
    assert set(optimizers) == {"discriminator", "generator"}
    assert optimizers["generator"].param_groups[0]["betas"][0] == 0.5
    ctx = StepContext(torch.Generator().manual_seed(0), None)
    changed = []
    for _ in range(6):
        before = [p.detach().clone() for p in gan.generator.parameters()]
        d_before = [p.detach().clone() for p in gan.discriminator.parameters()]
        gan.train_step(Batch(torch.rand(16, 1, 2, 2)), optimizers, ctx)
        changed.append(any(not torch.equal(a, p) for a, p in zip(before,
                                                                 gan.generator.parameters())))
        assert all(not torch.equal(a, p) for a, p in zip(d_before,
                                                         gan.discriminator.parameters()))
    assert changed == [False, False, True, False, False, True]
    assert int(gan.d_updates) == 6
