"""The objective's mathematics against independent computations."""

import pytest
import torch
from torch import distributions as D

from engine.config import ModelConfig, ObjectiveConfig, RunConfig
from engine.corruption import corrupt
from engine.models import Autoencoder, build_model
from engine.models.objective import (Objective, jacobian_frobenius_sq,
                                     jacobian_frobenius_sq_projected, kl_to_standard_normal,
                                     single_layer_jacobian_sq)

SHAPE = (1, 6, 5)


def _model(**kw):
    torch.manual_seed(0)
    obj = ObjectiveConfig(**{k: v for k, v in kw.items() if k in ObjectiveConfig.__dataclass_fields__})
    mod = ModelConfig(**{k: v for k, v in kw.items() if k in ModelConfig.__dataclass_fields__})
    model = build_model(RunConfig(model=mod, objective=obj), SHAPE)
    assert isinstance(model, Autoencoder)
    return model, Objective(obj)


def test_kl_closed_form_matches_torch_distributions_and_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(3, 4, generator=g)
    logvar = torch.randn(3, 4, generator=g) * 0.5
    std = (0.5 * logvar).exp()
    closed = kl_to_standard_normal(mean, logvar)
    ref = D.kl_divergence(D.Normal(mean, std), D.Normal(0.0, 1.0))
    torch.testing.assert_close(closed, ref)
    q = D.Normal(mean, std)
    z = q.sample((200_000,))
    mc = (q.log_prob(z) - D.Normal(0.0, 1.0).log_prob(z)).mean(0)
    torch.testing.assert_close(closed, mc, atol=0.02, rtol=0.02)


def test_contractive_closed_form_for_one_sigmoid_layer_equals_autograd():
    model, _ = _model(hidden=(), latent_dim=7, code_activation="sigmoid")
    x = torch.rand(4, *SHAPE, requires_grad=True)
    h = model.encoder.code_activations(x)
    lin = model.encoder.body.head
    # ||J||_F^2 = sum_i (h_i (1 - h_i))^2 sum_j W_ij^2 for h = sigmoid(W x + b)
    closed = ((h * (1 - h)).pow(2) * lin.weight.pow(2).sum(1)).sum(1)
    torch.testing.assert_close(jacobian_frobenius_sq(h, x, create_graph=False), closed.detach())


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "linear"])
def test_objective_single_layer_fast_path_equals_autograd(act):
    model, objective = _model(hidden=(), latent_dim=5, code_activation=act, contractive=1.0)
    x = torch.rand(4, *SHAPE) - 0.3
    terms, _, _ = objective(model, x)
    xg = x.clone().requires_grad_(True)
    general = jacobian_frobenius_sq(model.encoder.code_activations(xg), xg, create_graph=False)
    torch.testing.assert_close(terms["contractive"], general.mean())


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "linear"])
def test_single_layer_closed_form_equals_the_explicit_jacobian(act):
    model, _ = _model(hidden=(), latent_dim=4, code_activation=act)
    x = torch.rand(3, *SHAPE) - 0.3
    with torch.no_grad():
        h = model.encoder.code_activations(x)
    got = single_layer_jacobian_sq(model, x, h)
    for i in range(3):
        jac = torch.autograd.functional.jacobian(
            lambda xi: model.encoder.code_activations(xi.unsqueeze(0))[0], x[i])
        torch.testing.assert_close(got[i], jac.pow(2).sum(), rtol=1e-5, atol=1e-6)
    # No closed form for a deeper or a Gaussian encoder: the caller falls back to autograd.
    deep, _ = _model(hidden=(5,), latent_dim=4, code_activation=act)
    assert single_layer_jacobian_sq(deep, x, h) is None
    vae, _ = _model(hidden=(), latent_dim=4, variational=True)
    assert single_layer_jacobian_sq(vae, x, h) is None


@pytest.mark.parametrize("arch,hidden", [("mlp", (9, 8)), ("conv", (3, 4))])
def test_exact_contractive_equals_explicit_jacobian(arch, hidden):
    model, _ = _model(architecture=arch, hidden=hidden, latent_dim=3, activation="tanh",
                      code_activation="tanh")
    x = torch.rand(2, *SHAPE, requires_grad=True)
    h = model.encoder.code_activations(x)
    got = jacobian_frobenius_sq(h, x, create_graph=False)
    for i in range(2):
        jac = torch.autograd.functional.jacobian(
            lambda xi: model.encoder.code_activations(xi.unsqueeze(0))[0], x[i].detach())
        torch.testing.assert_close(got[i], jac.pow(2).sum(), rtol=1e-5, atol=1e-6)


def test_projection_estimate_is_unbiased():
    model, _ = _model(hidden=(10,), latent_dim=5, activation="tanh", code_activation="sigmoid")
    x = torch.rand(3, *SHAPE, requires_grad=True)
    h = model.encoder.code_activations(x)
    exact = jacobian_frobenius_sq(h, x, create_graph=False)
    h = model.encoder.code_activations(x)
    g = torch.Generator().manual_seed(3)
    est = jacobian_frobenius_sq_projected(h, x, 4000, create_graph=False, generator=g)
    torch.testing.assert_close(est, exact, rtol=0.08, atol=0)


def test_contractive_penalty_is_differentiable_and_reduces_the_jacobian():
    model, objective = _model(hidden=(), latent_dim=6, code_activation="sigmoid", contractive=1.0)
    x = torch.rand(16, *SHAPE)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    before = objective(model, x)[0]["contractive"].item()
    for _ in range(50):
        opt.zero_grad()
        terms, _, _ = objective(model, x)
        (terms["contractive"]).backward()
        opt.step()
    assert objective(model, x)[0]["contractive"].item() < 0.5 * before


def test_denoising_compares_reconstruction_of_corrupted_input_with_clean_image():
    model, objective = _model(hidden=(8,), latent_dim=3, corruption="masking",
                              corruption_level=0.5)
    x = torch.rand(4, *SHAPE)
    x_in = corrupt(x, "masking", 0.5, torch.Generator().manual_seed(0))
    assert not torch.equal(x_in, x)
    terms, _, params = objective(model, x, x_in)
    with torch.no_grad():
        expected_params = model.decoder(model.encoder(x_in).z)
    torch.testing.assert_close(params, expected_params)
    torch.testing.assert_close(terms["recon"], model.likelihood.nll(x, params).mean())
    assert not torch.allclose(terms["recon"], model.likelihood.nll(x_in, params).mean())


def test_total_is_the_weighted_sum_of_terms():
    model, objective = _model(hidden=(8,), latent_dim=3, variational=True, beta=2.5,
                              sparsity=0.3, contractive=0.7)
    x = torch.rand(4, *SHAPE)
    t, _, _ = objective(model, x, generator=torch.Generator().manual_seed(0))
    expected = t["recon"] + 2.5 * t["kl"] + 0.3 * t["sparsity"] + 0.7 * t["contractive"]
    torch.testing.assert_close(t["total"], expected)
    torch.testing.assert_close(t["elbo"], -(t["recon"] + t["kl"]).detach())
    assert set(t) == set(objective.term_names(True))


def test_sparsity_drives_code_activations_towards_zero():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, *SHAPE, generator=g)

    def train(lam):
        model, objective = _model(hidden=(), latent_dim=40, code_activation="relu", sparsity=lam)
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(300):
            opt.zero_grad()
            objective(model, x)[0]["total"].backward()
            opt.step()
        with torch.no_grad():
            h = model.encoder(x).h
        return h.abs().mean().item(), (h > 1e-6).float().mean().item()

    dense_l1, dense_active = train(0.0)
    sparse_l1, sparse_active = train(0.5)
    assert sparse_l1 < 0.3 * dense_l1
    assert sparse_active < 0.5 * dense_active


@pytest.mark.parametrize("kind,level", [("gaussian", 0.2), ("masking", 0.3), ("salt_pepper", 0.2)])
def test_corruption_statistics(kind, level):
    x = torch.full((200, 1, 10, 10), 0.5)
    xt = corrupt(x, kind, level, torch.Generator().manual_seed(0))
    assert xt.min() >= 0 and xt.max() <= 1
    if kind == "gaussian":
        assert abs((xt - x).std().item() - level) < 0.02
    elif kind == "masking":
        assert abs((xt == 0).float().mean().item() - level) < 0.02
    else:
        assert abs((xt == 0).float().mean().item() - level / 2) < 0.02
        assert abs((xt == 1).float().mean().item() - level / 2) < 0.02
