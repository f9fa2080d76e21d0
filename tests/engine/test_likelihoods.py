"""Each likelihood's NLL against torch.distributions, and its mean and samples."""

import math

import pytest
import torch
from torch import distributions as D

from engine.likelihoods import BernoulliLikelihood, CategoricalLikelihood, GaussianLikelihood


@pytest.fixture
def x():
    g = torch.Generator().manual_seed(0)
    return torch.rand((5, 2, 4, 3), generator=g)


def test_gaussian_nll_matches_normal_log_prob(x):
    mu = torch.randn_like(x)
    lik = GaussianLikelihood(std=0.3)
    expected = -D.Normal(mu, 0.3).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(lik.nll(x, mu), expected)


def test_gaussian_nll_is_scaled_squared_error_plus_constant(x):
    mu = torch.rand_like(x)
    lik = GaussianLikelihood(std=1.0)
    sq = 0.5 * (x - mu).pow(2).flatten(1).sum(1)
    const = x[0].numel() * 0.5 * math.log(2 * math.pi)
    torch.testing.assert_close(lik.nll(x, mu), sq + const)


def test_bernoulli_nll_matches_bernoulli_log_prob_on_binary_data(x):
    xb = (x > 0.5).float()
    logits = torch.randn_like(x) * 3
    lik = BernoulliLikelihood()
    expected = -D.Bernoulli(logits=logits).log_prob(xb).flatten(1).sum(1)
    torch.testing.assert_close(lik.nll(xb, logits), expected)
    # Soft targets: the cross-entropy -[x log p + (1-x) log(1-p)].
    p = torch.sigmoid(logits)
    ce = -(x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1)
    torch.testing.assert_close(lik.nll(x, logits), ce, rtol=1e-4, atol=1e-4)


def test_categorical_nll_matches_categorical_log_prob(x):
    k = 8
    lik = CategoricalLikelihood(levels=k)
    params = torch.randn(x.shape[0], x.shape[1] * k, *x.shape[2:])
    logits = params.view(x.shape[0], x.shape[1], k, *x.shape[2:]).movedim(2, -1)
    levels = torch.round(x * (k - 1)).long()
    expected = -D.Categorical(logits=logits).log_prob(levels).flatten(1).sum(1)
    torch.testing.assert_close(lik.nll(x, params), expected)


def test_categorical_mean_and_sample_agree():
    k = 4
    lik = CategoricalLikelihood(levels=k)
    params = torch.randn(1, k, 2, 2)
    g = torch.Generator().manual_seed(1)
    draws = torch.stack([lik.sample(params, g) for _ in range(4000)])
    assert set(torch.unique(draws * (k - 1)).round().tolist()) <= set(range(k))
    torch.testing.assert_close(draws.mean(0), lik.mean(params), atol=0.03, rtol=0)


def test_bernoulli_sample_mean_is_sigmoid():
    lik = BernoulliLikelihood()
    logits = torch.tensor([[-2.0, 0.0, 1.5]]).view(1, 1, 1, 3)
    g = torch.Generator().manual_seed(2)
    draws = torch.stack([lik.sample(logits, g) for _ in range(4000)])
    torch.testing.assert_close(draws.mean(0), torch.sigmoid(logits), atol=0.03, rtol=0)
