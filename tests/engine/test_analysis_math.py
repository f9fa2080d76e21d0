"""The numbers behind the code views against independent computations."""

import numpy as np
import pytest
import torch

from engine.analysis.identity_probe import (NOISE_IMAGES, OFF_MANIFOLD_NAMES, flat_errors,
                                            identity_ratio, off_manifold_images,
                                            reconstruction_errors)
from engine.analysis.jacobian import (JACOBIAN_POINTS, encoder_jacobian_spectrum,
                                      frobenius_norm, singular_values, snapshot_spectrum,
                                      spectrum_points)
from engine.analysis.latent_usage import ACTIVE_THRESHOLD, active_units, kl_sorted
from engine.analysis.noise_probe import corrupt_at, corruption_statistics
from engine.analysis.recon_field import code_line, field_grid, recon_field
from engine.analysis.sparsity import NEAR_ZERO, activation_histogram, near_zero_fraction
from engine.analysis.trails import latent_trails
from engine.config import ModelConfig, ObjectiveConfig, RunConfig
from engine.data.toy2d import DATA_EXTENT
from engine.models import build_model


def _model(shape, **kw):
    torch.manual_seed(0)
    obj = ObjectiveConfig(**{k: v for k, v in kw.items()
                             if k in ObjectiveConfig.__dataclass_fields__})
    mod = ModelConfig(**{k: v for k, v in kw.items() if k in ModelConfig.__dataclass_fields__})
    return build_model(RunConfig(model=mod, objective=obj), shape).eval()


# -- latent usage ---------------------------------------------------------------------------

def test_active_units_are_the_dimensions_whose_mean_code_varies_more_than_the_threshold():
    rng = np.random.default_rng(0)
    scales = np.array([1.0, 0.5, 0.2, 0.05, 0.001, 0.0])  # variances 1, .25, .04, .0025, ...
    codes = rng.standard_normal((400, 6)) * scales + rng.standard_normal(6)
    want = np.diag(np.cov(codes, rowvar=False)) > 0.01
    np.testing.assert_array_equal(active_units(codes), want)
    assert want.tolist() == [True, True, True, False, False, False]
    assert ACTIVE_THRESHOLD == 0.01
    # the threshold is the variance, not the standard deviation
    np.testing.assert_array_equal(active_units(codes, threshold=0.2),
                                  np.diag(np.cov(codes, rowvar=False)) > 0.2)


def test_kl_sorted_orders_dimensions_by_their_kl_largest_first():
    kl = np.array([0.1, 3.0, 0.0, 1.5, 0.1])
    order, values = kl_sorted(kl)
    assert order.tolist() == [1, 3, 0, 4, 2]          # the tie keeps index order
    np.testing.assert_array_equal(values, kl[order])
    assert np.all(np.diff(values) <= 0)


# -- sparsity -----------------------------------------------------------------------------

def test_near_zero_fraction_and_histogram_count_what_they_say():
    codes = np.array([[0.0, 0.005, -0.005, 0.5],
                      [1.0, 2.0, 0.0, 0.0]])
    np.testing.assert_allclose(near_zero_fraction(codes), [0.75, 0.5])
    np.testing.assert_allclose(near_zero_fraction(codes, threshold=0.75), [1.0, 0.5])
    counts, edges = activation_histogram(codes, bins=4, value_range=(-0.5, 3.5))
    assert counts.tolist() == [5, 2, 1, 0] and counts.sum() == codes.size  # 0.5 opens bin 2
    np.testing.assert_allclose(edges, [-0.5, 0.5, 1.5, 2.5, 3.5])
    assert 0 < NEAR_ZERO < 0.1


# -- the Jacobian ---------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [
    {"hidden": (12,), "latent_dim": 5},                                     # reverse mode, SVD
    {"hidden": (), "latent_dim": 80, "code_activation": "sigmoid"},         # Gram (R = 30)
    {"hidden": (16,), "latent_dim": 70, "code_activation": "relu"},         # Gram, forward mode
    {"hidden": (12,), "latent_dim": 3, "variational": True},                # a VAE's mean
    {"hidden": (), "latent_dim": 40, "code_activation": "relu"},            # closed form
    {"hidden": (), "latent_dim": 7, "code_activation": "tanh"},             # closed form, SVD
    {"hidden": (), "latent_dim": 50},                       # linear: one Jacobian everywhere
    {"hidden": (), "latent_dim": 4, "variational": True},   # a one-layer VAE's mean: W
])
def test_jacobian_spectrum_equals_svdvals_of_autograd_jacobian(kw):
    shape = (1, 6, 5)
    model = _model(shape, **kw)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(4, *shape, generator=g)
    spectrum = encoder_jacobian_spectrum(model, x)
    r = min(kw["latent_dim"], 30)
    assert spectrum.shape == (4, r)
    for i in range(4):
        def mean_code(xi):
            return model.encoder(xi.unsqueeze(0), sample=False).h.squeeze(0)
        jac = torch.autograd.functional.jacobian(mean_code, x[i]).reshape(kw["latent_dim"], -1)
        want = torch.linalg.svdvals(jac.double())
        torch.testing.assert_close(spectrum[i].double(), want, rtol=1e-3,
                                   atol=1e-4 * float(want[0]))
        torch.testing.assert_close(frobenius_norm(spectrum)[i].double(),
                                   torch.linalg.matrix_norm(jac.double()), rtol=1e-4, atol=1e-6)
    assert torch.all(spectrum[:, :-1] >= spectrum[:, 1:])


@pytest.mark.parametrize("act", ["sigmoid", "relu", "tanh"])
def test_one_layer_spectrum_from_w_wt_equals_svdvals_of_autograd_jacobian(act):
    shape = (1, 10, 10)                                 # D = 70 <= N = 100: the W W^T route
    model = _model(shape, hidden=(), latent_dim=70, code_activation=act)
    x = torch.rand(3, *shape, generator=torch.Generator().manual_seed(2))
    spectrum = encoder_jacobian_spectrum(model, x)
    for i in range(3):
        jac = torch.autograd.functional.jacobian(
            lambda xi: model.encoder(xi.unsqueeze(0)).h.squeeze(0), x[i]).reshape(70, -1)
        want = torch.linalg.svdvals(jac.double())
        torch.testing.assert_close(spectrum[i].double(), want, rtol=1e-3,
                                   atol=1e-4 * float(want[0]))


def test_a_snapshot_computes_as_many_spectra_as_an_epoch_affords():
    counts = [spectrum_points(d, 784, 64, closed_form=True) for d in (8, 64, 256, 512, 1024)]
    assert counts[0] == JACOBIAN_POINTS == 16 and counts[-1] >= 1
    assert counts == sorted(counts, reverse=True)
    assert spectrum_points(8, 784, available=5) == 5
    assert spectrum_points(256, 784, 64, closed_form=False) <= counts[2]
    model = _model((1, 6, 5), hidden=(12,), latent_dim=5)
    x = torch.rand(20, 1, 6, 5, generator=torch.Generator().manual_seed(0))
    got = snapshot_spectrum(model, x)
    torch.testing.assert_close(got, encoder_jacobian_spectrum(model, x[:16]))
    # a linear one-layer code: the same Jacobian W at every point, one spectrum for all 16
    linear = _model((1, 6, 5), hidden=(), latent_dim=50)
    got = snapshot_spectrum(linear, x)
    want = torch.linalg.svdvals(linear.encoder.body.head.weight.detach().double()).float()
    assert got.shape == (16, 30)
    torch.testing.assert_close(got, want.expand(16, -1), rtol=1e-4, atol=1e-5)


def test_gram_route_of_singular_values_matches_an_svd_of_wide_and_tall_matrices():
    g = torch.Generator().manual_seed(0)
    for d, n in ((100, 70), (70, 100)):
        jac = torch.randn(3, d, n, generator=g)
        torch.testing.assert_close(singular_values(jac), torch.linalg.svdvals(jac),
                                   rtol=1e-4, atol=1e-4)


# -- the identity probe ---------------------------------------------------------------------

def test_off_manifold_images_are_noise_blank_inverted_and_shifted_first_digit():
    rng = np.random.default_rng(3)
    probe = rng.random((5, 1, 8, 12), dtype=np.float32)
    off = off_manifold_images(probe)
    assert off.shape == (len(OFF_MANIFOLD_NAMES), 1, 8, 12) == (7, 1, 8, 12)
    assert off.dtype == np.float32
    noise = off[:NOISE_IMAGES]
    assert 0 <= noise.min() and noise.max() <= 1 and abs(noise.mean() - 0.5) < 0.05
    assert not np.array_equal(noise[0], noise[1])
    np.testing.assert_array_equal(off[4], 0)
    np.testing.assert_allclose(off[5], 1 - probe[0])
    np.testing.assert_array_equal(off[6][..., 3:], probe[0][..., :-3])   # 12 // 4 = 3 pixels
    np.testing.assert_array_equal(off[6][..., :3], 0)
    np.testing.assert_array_equal(off_manifold_images(probe), off)       # seeded: every epoch
    t = off_manifold_images(torch.from_numpy(probe))
    assert isinstance(t, torch.Tensor)
    np.testing.assert_array_equal(t.numpy(), off)
    # noise only where some probe image has ink: a border no digit touches stays 0
    probe[:, :, :2, :] = 0
    probe[1:, :, 5, 5] = 0
    off = off_manifold_images(probe)
    assert np.all(off[:NOISE_IMAGES, :, :2, :] == 0) and np.all(off[:NOISE_IMAGES, :, 2:, :] > 0)


def test_flat_errors_are_the_error_of_the_best_constant_image():
    x = np.random.default_rng(0).random((5, 1, 4, 6))
    best = np.array([min(((xi - c) ** 2).mean() for c in np.linspace(0, 1, 2001)) for xi in x])
    np.testing.assert_allclose(flat_errors(x), best, rtol=1e-3)
    np.testing.assert_allclose(flat_errors(torch.from_numpy(x)).numpy(), flat_errors(x))


def test_identity_ratio_is_the_median_share_of_the_noise_not_copied():
    a = torch.rand(3, 1, 4, 4)
    b = torch.rand(3, 1, 4, 4)
    np.testing.assert_allclose(reconstruction_errors(a, b).numpy(),
                               ((a - b) ** 2).mean((1, 2, 3)).numpy(), rtol=1e-6)
    arrays = {"identity_error": np.array([0.02, 0.01, 0.04, 0.09, 9, 9, 9]),
              "identity_flat_error": np.array([0.1, 0.1, 0.1, 0.1, 0.0, 0.2, 0.1]),
              "probe_error": np.array([0.01, 0.02, 0.05])}
    assert identity_ratio(arrays) == pytest.approx(np.median([0.2, 0.1, 0.4, 0.9]))
    assert np.isnan(identity_ratio({"probe_error": np.ones(3)}))     # a session from before


# -- the reconstruction field ---------------------------------------------------------------

def test_reconstruction_field_is_the_model_applied_on_the_grid():
    model = _model((1, 1, 2), hidden=(8,), latent_dim=1, likelihood="gaussian")
    grid = field_grid(15)
    assert grid.shape == (225, 2) and grid.dtype == np.float32
    lo, hi = DATA_EXTENT
    assert lo < grid.min() and grid.max() < hi
    assert len(np.unique(grid[:, 0])) == 15 and np.all(grid[:15, 1] == grid[0, 1])
    with torch.no_grad():
        recon = model.reconstruct(torch.from_numpy(grid).view(-1, 1, 1, 2)).flatten(1).numpy()
    got_grid, arrows = recon_field({"field_recon": recon})
    np.testing.assert_array_equal(got_grid, grid)
    # each arrow: the model's output at that grid point minus the point, computed one by one
    for i in (0, 17, 224):
        with torch.no_grad():
            out = model.reconstruct(torch.tensor(grid[i]).view(1, 1, 1, 2)).flatten()
        np.testing.assert_allclose(arrows[i], out.numpy() - grid[i], atol=1e-6)
    line = code_line(np.array([[0.0], [2.0], [1.0]]), n=5)
    np.testing.assert_allclose(line.ravel(), [-0.2, 0.4, 1.0, 1.6, 2.2], atol=1e-6)


# -- trails ---------------------------------------------------------------------------------

def test_latent_trails_follow_the_first_points_across_epochs():
    epochs = [np.full((10, 2), e, np.float32) + np.arange(10)[:, None] for e in range(3)]
    trails = latent_trails(epochs, n=4)
    assert trails.shape == (3, 4, 2)
    np.testing.assert_array_equal(trails[:, 2, 0], [2, 3, 4])
    assert latent_trails(epochs[:1], n=20).shape == (1, 10, 2)
    with pytest.raises(ValueError):
        latent_trails([np.zeros((10, 2)), np.zeros((9, 2))])


# -- the noise slider -----------------------------------------------------------------------

@pytest.mark.parametrize("kind,level", [("masking", 0.3), ("salt_pepper", 0.2),
                                        ("gaussian", 0.1), ("masking", 0.0)])
def test_noise_slider_corrupts_at_its_level_and_the_same_every_time(kind, level):
    rng = np.random.default_rng(0)
    # Grey values away from 0 and 1: every hit changes its pixel, no Gaussian value is clipped.
    clean = rng.uniform(0.4, 0.6, (64, 1, 28, 28)).astype(np.float32)
    noisy = corrupt_at(clean, kind, level, seed=5)
    stats = corruption_statistics(clean, noisy, kind)
    n = clean.size
    margin = 4 * np.sqrt(max(level * (1 - level), 1e-12) / n) + 1e-9   # 4 standard errors
    if kind == "gaussian":
        assert stats["change_std"] == pytest.approx(level, rel=0.02)
        assert stats["fraction_changed"] > 0.99
    else:
        assert abs(stats["fraction_changed"] - level) < margin
    assert stats["level_estimate"] == pytest.approx(level, rel=0.02, abs=margin)
    np.testing.assert_array_equal(corrupt_at(clean, kind, level, seed=5), noisy)
    if level > 0:
        assert not np.array_equal(corrupt_at(clean, kind, level, seed=6), noisy)
    if kind == "salt_pepper":
        hit = noisy != clean
        assert set(np.unique(noisy[hit])) <= {0.0, 1.0}
        assert abs(noisy[hit].mean() - 0.5) < 0.02                      # salt and pepper alike
    t = corrupt_at(torch.from_numpy(clean), kind, level, seed=5)
    np.testing.assert_array_equal(t.numpy(), noisy)
