"""He et al.'s estimate of I(x; z) against a Gaussian model whose I(x; z) is known, and the
per-epoch measures the trainer adds to a snapshot."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine.analysis.epoch_measures import (SCORES, epoch_measures, scored_epoch,
                                            scores_of)
from engine.analysis.mutual_information import (gaussian_log_density_matrix,
                                                mutual_information)
from engine.analysis.traversal import (interpolation_path, lerp, slerp, sweep_values,
                                       traversal_codes, traversal_range)


def gaussian_encoder(m: int, d: int, a: float, sigma: float, seed: int = 0):
    """x ~ N(0, I_d), q(z|x) = N(a x, sigma² I): I(x; z) = d/2 log(1 + a²/sigma²)."""
    x = np.random.default_rng(seed).standard_normal((m, d))
    return a * x, np.full((m, d), 2 * math.log(sigma)), d / 2 * math.log(1 + a * a / sigma ** 2)


def test_log_density_matrix_equals_torch_distributions():
    rng = np.random.default_rng(0)
    z, mean = rng.standard_normal((7, 3)), rng.standard_normal((5, 3))
    logvar = rng.uniform(-2, 1, (5, 3))
    ref = torch.distributions.Normal(torch.tensor(mean)[None], torch.tensor(
        np.exp(0.5 * logvar))[None]).log_prob(torch.tensor(z)[:, None]).sum(-1).numpy()
    assert np.allclose(gaussian_log_density_matrix(z, mean, logvar), ref, atol=1e-10)


def test_estimate_matches_the_known_information_and_monte_carlo():
    mean, logvar, truth = gaussian_encoder(2000, 2, a=1.0, sigma=0.5)
    est = mutual_information(mean, logvar, seed=1)
    # Monte Carlo with the exact aggregate posterior q(z) = N(0, a² + sigma²)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(200_000, 2, generator=g, dtype=torch.float64)
    z = x + 0.5 * torch.randn(200_000, 2, generator=g, dtype=torch.float64)
    N = torch.distributions.Normal
    mc = float((N(x, 0.5).log_prob(z) - N(0.0, math.sqrt(1.25)).log_prob(z)).sum(1).mean())
    assert mc == pytest.approx(truth, abs=0.02)
    assert est == pytest.approx(truth, abs=0.12)


def informative_encoder(m: int, d: int, a: float, seed: int):
    """As :func:`gaussian_encoder` with sigma 1, the x drawn apart from the estimator's seed."""
    return gaussian_encoder(m, d, a, 1.0, seed=10_000 + seed)


@pytest.mark.parametrize("m", [30, 100, 1000])
def test_a_code_that_carries_almost_nothing_reads_almost_nothing_on_few_images(m):
    """An untrained VAE's posteriors overlap (means within ±0.05 of each other, unit
    variance): I(x; z) = 0.025 nats for 20 dimensions. The estimate is within 0.1 of it on
    every seed; reading the first term in closed form left ±0.6 nats of noise on 30 images
    (sqrt(D / 2M)), the same at every epoch of a seeded run."""
    errors = []
    for seed in range(10):
        mean, logvar, truth = informative_encoder(m, 20, 0.05, seed)
        errors.append(mutual_information(mean, logvar, seed=seed) - truth)
    assert np.max(np.abs(errors)) < 0.1


@pytest.mark.parametrize("m, d, a", [(100, 2, 1.0), (100, 20, 0.3), (1000, 6, 1.0),
                                     (1000, 2, 3.0)])
def test_below_log_m_minus_two_the_estimate_is_within_a_tenth_of_the_truth(m, d, a):
    """Linear-Gaussian encoders whose I(x; z) is known and below log M - 2 nats (the
    reliable range the module docstring states): the mean over 10 draws of images and z."""
    ests, truth = [], None
    for seed in range(10):
        mean, logvar, truth = informative_encoder(m, d, a, seed)
        ests.append(mutual_information(mean, logvar, seed=seed))
    assert truth < math.log(m) - 2
    assert np.mean(ests) == pytest.approx(truth, abs=0.1)


def test_near_log_m_the_estimate_reads_low_and_never_above_log_m():
    """20 dimensions at a = 1: I(x; z) = 6.9 nats, at log 1,000 itself; the estimate can
    only say 'about log M or more' (the ceiling the views draw)."""
    for m in (30, 1000):
        mean, logvar, truth = informative_encoder(m, 20, 1.0, 0)
        est = mutual_information(mean, logvar, seed=1)
        assert est <= math.log(m) + 1e-9 and est < truth - 1.0


def test_a_collapsed_posterior_carries_no_information_and_the_estimate_is_bounded():
    m = 1000
    assert abs(mutual_information(np.zeros((m, 4)), np.zeros((m, 4)))) < 0.05
    # posteriors far apart and sharp: the estimator saturates at log M (one z per image:
    # its log q(z|x) varies by ½χ²₈ around the closed-form entropy, ±0.125 over 256 images)
    mean = np.random.default_rng(3).standard_normal((m, 8)) * 10
    est = mutual_information(mean, np.full((m, 8), -10.0))
    assert est == pytest.approx(math.log(m), abs=0.3)
    assert math.isnan(mutual_information(np.zeros((1, 2)), np.zeros((1, 2))))


def test_epoch_measures_only_for_codes_of_the_data():
    rng = np.random.default_rng(4)
    factors = np.stack([rng.integers(0, 3, 300), rng.uniform(size=300)], 1)
    codes = np.concatenate([factors, rng.standard_normal((300, 2))], 1).astype(np.float32)
    arrays = {"map_latents": codes, "map_latent_logvar": np.full_like(codes, -2.0)}
    # a GAN's map holds prior samples: no factor explains them, nothing is measured
    assert epoch_measures(arrays, factors, False, 1, 10) == {}
    out = epoch_measures(arrays, factors, True, 1, 10)
    assert set(out) == {"mutual_information", "disentanglement", "factor_code_mi",
                        "dci_importance"}
    assert out["disentanglement"].shape == (len(SCORES),)
    assert out["factor_code_mi"].shape == (2, 4) and out["dci_importance"].shape == (4, 2)
    assert scores_of(out)["mig"] > 0.5
    between = epoch_measures(arrays, factors, True, 3, 10)
    assert np.all(np.isnan(between["disentanglement"])) and scores_of(between) is None
    assert [e for e in range(1, 13) if scored_epoch(e, 12)] == [1, 5, 10, 12]
    # no factors: the information alone; a deterministic code: nothing but the scores
    assert set(epoch_measures(arrays, None, True, 1, 10)) == {"mutual_information"}
    assert "mutual_information" not in epoch_measures({"map_latents": codes}, factors,
                                                      True, 1, 10)


# -- traversals and interpolation -----------------------------------------------------------

def test_a_traversal_row_changes_its_own_dimension_only():
    code = np.array([0.5, -1.0, 2.0])
    values = sweep_values(np.zeros(3), np.ones(3), steps=7)
    grid = traversal_codes(code, values, np.array([2, 0]))
    assert grid.shape == (2, 7, 3)
    assert np.allclose(grid[0, :, 2], np.linspace(-3, 3, 7)) and np.allclose(grid[0, :, :2],
                                                                               code[:2])
    assert np.allclose(grid[1, :, 0], np.linspace(-3, 3, 7)) and np.allclose(grid[1, :, 1:],
                                                                               code[1:])
    centre, spread = traversal_range("posterior", code, np.log([0.04, 1.0, 0.25]), None, True)
    assert np.allclose(centre, code) and np.allclose(spread, [0.2, 1.0, 0.5])
    with pytest.raises(ValueError, match="no posterior"):
        traversal_range("posterior", code, None, np.zeros((4, 3)), False)
    m = np.random.default_rng(5).standard_normal((500, 3)) * [1, 2, 3] + [0, 1, 0]
    centre, spread = traversal_range("prior", code, None, m, False)
    assert np.allclose(spread, m.std(0, ddof=1)) and np.allclose(centre, m.mean(0))


def test_slerp_keeps_the_norm_lerp_does_not():
    a, b = np.array([3.0, 0.0, 0.0]), np.array([0.0, 0.0, 3.0])
    path = slerp(a, b, 11)
    assert np.allclose(path[0], a) and np.allclose(path[-1], b)
    assert np.allclose(np.linalg.norm(path, axis=1), 3.0, atol=1e-5)
    straight = lerp(a, b, 11)
    assert np.linalg.norm(straight[5]) == pytest.approx(3.0 * math.cos(math.pi / 4), rel=1e-5)
    # equal angle steps on the great circle
    angles = np.arccos(np.clip((path[:-1] * path[1:]).sum(1) / 9.0, -1, 1))
    assert np.allclose(angles, math.pi / 20, atol=1e-5)
    assert np.allclose(interpolation_path(a, a, "spherical", 4), a)   # parallel: a line
    with pytest.raises(ValueError):
        interpolation_path(a, b, "cubic")
