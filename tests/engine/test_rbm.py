"""The RBM against independent computations: brute-force sums, the exact gradient, AIS."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from engine.config import RunConfig
from engine.models import StepContext
from engine.models.base import Batch
from engine.models.boltzmann import BoltzmannMachine, ais_log_z
from engine.models.rbm import RBM


def machine(d, h, kind="bernoulli", std=1.0, scale=1.0, seed=0) -> BoltzmannMachine:
    torch.manual_seed(seed)
    m = BoltzmannMachine(d, h, kind, std).double()
    with torch.no_grad():
        m.weight.normal_(0.0, scale)
        m.visible_bias.normal_(0.0, 0.5 if kind == "bernoulli" else 0.1)
        m.hidden_bias.normal_(0.0, 0.5)
        if kind == "gaussian":
            m.visible_bias.add_(0.5)
    return m


def params(m):
    return (m.weight.detach().numpy(), m.visible_bias.detach().numpy(),
            m.hidden_bias.detach().numpy())


def states(n) -> np.ndarray:
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def minus_energy(m, v, h) -> float:
    """-E(v, h) written out from the definition, one pair at a time."""
    w, b, c = params(m)
    if m.kind == "gaussian":
        s = m.std
        return float(-np.sum((v - b) ** 2) / (2 * s * s) + c @ h + h @ w @ (v / s))
    return float(b @ v + c @ h + h @ w @ v)


@pytest.mark.parametrize("kind", ["bernoulli", "gaussian"])
def test_free_energy_is_minus_log_of_the_sum_over_hidden_states(kind):
    m = machine(3, 5, kind, std=0.3)
    v = np.random.default_rng(0).uniform(0, 1, (7, 3))
    got = m.free_energy(torch.from_numpy(v)).detach().numpy()
    hs = states(5)
    for i in range(len(v)):
        want = -np.logaddexp.reduce([minus_energy(m, v[i], h) for h in hs])
        assert got[i] == pytest.approx(want, abs=1e-10)
    e = m.energy(torch.from_numpy(v[:1]), torch.from_numpy(hs[5:6])).item()
    assert -e == pytest.approx(minus_energy(m, v[0], hs[5]), abs=1e-12)


def test_exact_log_z_of_a_bernoulli_rbm_is_the_sum_over_every_joint_state():
    m = machine(6, 4, scale=1.0)
    pairs = [minus_energy(m, v, h) for v in states(6) for h in states(4)]
    assert m.log_z_exact().item() == pytest.approx(np.logaddexp.reduce(pairs), abs=1e-10)


def test_exact_log_z_of_a_gaussian_rbm_is_the_integral_over_the_plane():
    m = machine(2, 3, "gaussian", std=0.15, scale=1.0)
    axis = np.linspace(-1.5, 2.5, 801)          # covers every mean b + σWᵀh by > 6σ
    step = axis[1] - axis[0]
    gx, gy = np.meshgrid(axis, axis)
    v = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1))
    log_density = -m.free_energy(v).detach().numpy()
    integral = np.logaddexp.reduce(log_density) + 2 * math.log(step)
    assert m.log_z_exact().item() == pytest.approx(integral, abs=1e-6)


def test_exact_log_likelihood_sums_to_one_over_binary_images():
    """The family's nll_exact: exp(-nll) over all 2^D binary images sums to 1."""
    cfg = RunConfig().with_overrides({"model.family": "rbm", "model.hidden": [],
                                      "model.latent_dim": 5, "device": "cpu"})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        rbm = RBM((1, 2, 3), cfg)
        with torch.no_grad():
            rbm.machine.weight.normal_(0, 1.0)
            rbm.machine.visible_bias.normal_(0, 1.0)
    v = torch.from_numpy(states(6).astype(np.float32)).view(-1, 1, 2, 3)
    total = 0.0
    for i in range(len(v)):
        terms, _ = rbm.evaluate([Batch(v[i:i + 1])], torch.Generator().manual_seed(0))
        total += math.exp(-terms["nll_exact"])
    assert total == pytest.approx(1.0, abs=1e-4)


def exact_gradient(m, data: np.ndarray) -> dict[str, np.ndarray]:
    """d mean log p(data) / d(W, b, c) by enumerating every joint state (Bernoulli)."""
    w, b, c = params(m)
    vs, hs = states(m.n_visible), states(m.n_hidden)
    log_p = np.array([[minus_energy(m, v, h) for h in hs] for v in vs])
    p = np.exp(log_p - np.logaddexp.reduce(log_p.ravel()))          # p(v, h)
    model_vh = np.einsum("ij,ia,jb->ba", p, vs, hs)                  # E[h vᵀ] (H, D)
    model_v, model_h = p.sum(1) @ vs, p.sum(0) @ hs
    ph = 1 / (1 + np.exp(-(data @ w.T + c)))                         # p(h = 1 | v)
    return {"weight": ph.T @ data / len(data) - model_vh,
            "visible_bias": data.mean(0) - model_v, "hidden_bias": ph.mean(0) - model_h}


def cd_update(m: BoltzmannMachine, data: np.ndarray, k: int, repeats: int) -> dict:
    """The family's own training step with SGD at lr 1: the change is its CD-k estimate."""
    cfg = RunConfig().with_overrides({
        "model.family": "rbm", "model.hidden": [], "model.latent_dim": m.n_hidden,
        "rbm.cd_k": k, "optim.optimizer": "sgd", "optim.lr": 1.0, "optim.momentum": 0.0,
        "device": "cpu"})
    rbm = RBM((1, 1, m.n_visible), cfg).double()
    rbm.machine.load_state_dict(m.state_dict())
    before = {n: p.detach().clone() for n, p in rbm.machine.named_parameters()}
    x = torch.from_numpy(np.repeat(data, repeats, 0)).view(-1, 1, 1, m.n_visible)
    opt = rbm.configure_optimizers(cfg.optim)
    rbm.train_step(Batch(x), opt, StepContext(torch.Generator().manual_seed(1), None))
    return {n: (p.detach() - before[n]).numpy() for n, p in rbm.machine.named_parameters()}


def test_cd_with_long_chains_follows_the_exact_log_likelihood_gradient():
    m = machine(6, 4, scale=1.0, seed=2)
    data = states(6)[[3, 12, 33, 50, 63]]
    exact = exact_gradient(m, data)
    long_cd = cd_update(m, data, k=100, repeats=2000)
    short_cd = cd_update(m, data, k=1, repeats=2000)
    errors = {}
    for name, want in exact.items():
        # 10,000 chains: Monte Carlo error about 1/sqrt(10000) = 0.01 per entry.
        np.testing.assert_allclose(long_cd[name], want, atol=0.03, err_msg=name)
        errors[name] = (np.abs(long_cd[name] - want).max(), np.abs(short_cd[name] - want).max())
    # CD-1 is biased: its chains stay near the data, so it misses the model's statistics.
    assert errors["weight"][1] > 3 * errors["weight"][0]


@pytest.mark.parametrize("kind,d,h", [("bernoulli", 12, 10), ("gaussian", 2, 8)])
def test_ais_brackets_the_exact_log_partition_function(kind, d, h):
    m = machine(d, h, kind, std=0.1, scale=0.8 if kind == "bernoulli" else 0.5, seed=4).float()
    exact = m.log_z_exact().item()
    est = ais_log_z(m, chains=200, steps=1000, generator=torch.Generator().manual_seed(0))
    assert est.lower <= exact <= est.upper, (est, exact)
    assert est.upper - est.lower < 0.5            # an error bar that says something
    assert abs(est.log_z - exact) < 0.2


def test_ais_with_a_single_temperature_step_is_far_off_but_says_so():
    """Too few temperatures: a poor estimate, with a wide error bar, never a silent one."""
    m = machine(12, 10, scale=1.5, seed=5).float()
    est = ais_log_z(m, chains=50, steps=10, generator=torch.Generator().manual_seed(0))
    good = ais_log_z(m, chains=50, steps=2000, generator=torch.Generator().manual_seed(0))
    assert (est.upper - est.lower) > (good.upper - good.lower)
