"""The three likelihoods discretised to the 256 grey levels: proper distributions, one scale.

Each distribution is enumerated over all 256 levels (brute force) and must sum
to 1; where torch has the distribution, its probabilities must match.
"""

from __future__ import annotations

import math

import pytest
import torch

from engine.likelihoods import (GREY_MAX, BernoulliLikelihood, CategoricalLikelihood,
                                GaussianLikelihood, discrete_nll_bits, grey_levels,
                                log_normal_mass)

LEVELS = torch.arange(GREY_MAX + 1)


def enumerate_levels(lik, params: torch.Tensor) -> torch.Tensor:
    """(B, 256) probabilities of every grey level for B one-pixel images with ``params``
    (B, m, 1, 1), by asking for each level in turn."""
    b = params.shape[0]
    out = torch.empty(b, GREY_MAX + 1, dtype=torch.float64)
    for g in range(GREY_MAX + 1):
        levels = torch.full((b, 1, 1, 1), g, dtype=torch.long)
        out[:, g] = lik.grey_level_log_prob(levels, params).exp().view(b)
    return out


def test_gaussian_sums_to_one_and_matches_torch_normal():
    mu = torch.tensor([-0.4, 0.0, 0.3, 0.5, 1.0, 1.6]).view(-1, 1, 1, 1)
    for std in (0.01, 0.1, 0.5):
        lik = GaussianLikelihood(std)
        p = enumerate_levels(lik, mu)
        assert torch.allclose(p.sum(1), torch.ones(len(mu), dtype=torch.float64), atol=1e-9)
        normal = torch.distributions.Normal(mu.view(-1, 1).double(), std)
        edges = (torch.arange(GREY_MAX).double() + 0.5) / GREY_MAX      # 255 inner edges
        cdf = normal.cdf(edges.view(1, -1))
        ref = torch.cat([cdf[:, :1], cdf[:, 1:] - cdf[:, :-1], 1 - cdf[:, -1:]], 1)
        assert torch.allclose(p, ref, atol=1e-9)


def test_gaussian_tail_bins_stay_finite_far_from_the_mean():
    # A mean far outside [0, 1] with a narrow std: the mass of level 128 is ~e^-3000,
    # whose log must still be finite (no log 0), and the open edge bin holds all.
    lik = GaussianLikelihood(0.01)
    mu = torch.tensor([-5.0]).view(1, 1, 1, 1)
    lp = lik.grey_level_log_prob(torch.tensor([128, 0]).view(2, 1, 1, 1), mu.expand(2, 1, 1, 1))
    assert torch.isfinite(lp).all()
    assert lp[0].item() < -1000 and abs(lp[1].item()) < 1e-12


def test_log_normal_mass_against_direct_difference_in_the_upper_tail():
    lo, hi = torch.tensor([3.0, -1.0]).double(), torch.tensor([3.5, 0.5]).double()
    n = torch.distributions.Normal(0.0, 1.0)
    ref = torch.log(n.cdf(hi) - n.cdf(lo))
    assert torch.allclose(log_normal_mass(lo, hi), ref, atol=1e-10)


def test_bernoulli_is_the_discretised_continuous_bernoulli():
    logits = torch.tensor([-60.0, -6.0, -0.5, -1e-9, 0.0, 1e-7, 0.8, 5.0, 40.0])
    lik = BernoulliLikelihood()
    p = enumerate_levels(lik, logits.view(-1, 1, 1, 1))
    assert torch.allclose(p.sum(1), torch.ones(len(logits), dtype=torch.float64), atol=1e-9)
    # torch's ContinuousBernoulli, where its cdf is accurate (moderate logits)
    moderate = logits[(logits.abs() < 10)]
    cb = torch.distributions.ContinuousBernoulli(logits=moderate.double().view(-1, 1))
    edges = torch.cat([torch.zeros(1), (torch.arange(GREY_MAX) + 0.5) / GREY_MAX,
                       torch.ones(1)]).double()
    cdf = cb.cdf(edges.view(1, -1))
    ref = cdf[:, 1:] - cdf[:, :-1]
    ours = enumerate_levels(lik, moderate.view(-1, 1, 1, 1))
    assert torch.allclose(ours, ref, atol=1e-6)


def test_bernoulli_bin_is_proportional_to_exp_of_minus_cross_entropy():
    # Inside a narrow bin the density is ~ lambda^x (1-lambda)^(1-x) / normaliser: the
    # ratio of two bins' masses equals the ratio of exp(-BCE) at their centres.
    logit = torch.tensor([1.3]).view(1, 1, 1, 1)
    lp = BernoulliLikelihood().grey_level_log_prob(torch.tensor([50, 200]).view(2, 1, 1, 1),
                                                   logit.expand(2, 1, 1, 1)).view(2)
    lam = torch.sigmoid(torch.tensor(1.3, dtype=torch.float64))
    x = torch.tensor([50.0, 200.0], dtype=torch.float64) / GREY_MAX
    log_density = x * torch.log(lam) + (1 - x) * torch.log(1 - lam)
    assert abs((lp[1] - lp[0]) - (log_density[1] - log_density[0])) < 1e-4


@pytest.mark.parametrize("k", [2, 5, 16, 256])
def test_categorical_spreads_each_level_over_its_grey_values(k):
    torch.manual_seed(k)
    lik = CategoricalLikelihood(k)
    logits = torch.randn(3, k, 1, 1) * 2
    p = enumerate_levels(lik, logits)
    assert torch.allclose(p.sum(1), torch.ones(3, dtype=torch.float64), atol=1e-9)
    # grouped back by the model's own quantisation, the levels' probabilities are softmax's
    level = lik.quantise(LEVELS.float() / GREY_MAX)
    grouped = torch.zeros(3, k, dtype=torch.float64).index_add_(1, level, p)
    ref = torch.distributions.Categorical(logits=logits.view(3, k).double()).probs
    assert torch.allclose(grouped, ref, atol=1e-9)
    # within a level every grey value gets the same share
    for j in range(k):
        members = p[:, level == j]
        assert torch.allclose(members, members[:, :1].expand_as(members))


def test_bits_per_pixel_on_one_scale():
    """A uniform guess is 8 bits per pixel for each likelihood's version of 'uniform'."""
    x = torch.randint(0, 256, (4, 1, 5, 5)).double() / GREY_MAX
    assert torch.equal(grey_levels(x), torch.round(x * 255).long())
    cat = CategoricalLikelihood(256)
    flat = torch.zeros(4, 256, 5, 5)
    assert torch.allclose(discrete_nll_bits(cat, x, flat), torch.full((4,), 8.0,
                                                                      dtype=torch.float64))
    bern = BernoulliLikelihood()                     # logit 0: the uniform density on [0, 1]
    bits = discrete_nll_bits(bern, x, torch.zeros(4, 1, 5, 5))
    # the end bins are half as wide, so slightly more than 8 bits on average
    assert torch.all(bits > 7.9) and torch.all(bits < 8.2)
    gauss = GaussianLikelihood(0.1)
    good = discrete_nll_bits(gauss, x, x.float())           # the mean on the data
    bad = discrete_nll_bits(gauss, x, (1 - x).float())
    assert torch.all(good < bad) and torch.isfinite(bad).all()
    assert math.isclose(float(good.mean()), -math.log2(
        float(torch.distributions.Normal(0, 0.1).cdf(torch.tensor(0.5 / 255)) * 2 - 1)),
        rel_tol=0.2)
