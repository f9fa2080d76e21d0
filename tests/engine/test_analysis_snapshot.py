"""What every autoencoder snapshot carries for the code views, live and after a session."""

import numpy as np
import pytest
import torch

from engine.analysis.identity_probe import OFF_MANIFOLD_NAMES, identity_ratio
from engine.analysis.jacobian import JACOBIAN_POINTS
from engine.analysis.recon_field import CURVE_POINTS, recon_field
from engine.config import ModelConfig, ObjectiveConfig, RunConfig
from engine.events import EpochSnapshot
from engine.models import Autoencoder, Batch, build_model, cpu_copy, family_class
from engine.presets import load_preset
from engine.session import Session

from tests.engine.session_support import record_run, tiny_config


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def _last_snapshot(rec) -> EpochSnapshot:
    return rec.of(EpochSnapshot)[-1]


@pytest.mark.parametrize("preset,over", [("plain", {}), ("variational", {}),
                                         ("denoising", {}), ("sparse", {"model.latent_dim": 40})])
def test_image_snapshots_carry_every_code_view_array_and_survive_a_session(tmp_path, preset,
                                                                            over):
    cfg = tiny_config(preset, epochs=1, **{k.replace(".", "__"): v for k, v in over.items()})
    trainer, rec = record_run(tmp_path / "run.h5", cfg)
    live = _last_snapshot(rec)
    p, d, shape = 16, cfg.model.latent_dim, (1, 28, 28)
    k, j = len(OFF_MANIFOLD_NAMES), min(16, JACOBIAN_POINTS)
    assert live.images["identity_inputs"].shape == (k, *shape)
    assert live.images["identity_recon"].shape == (k, *shape)
    a = live.arrays
    assert a["identity_error"].shape == (k,) and a["probe_error"].shape == (p,)
    assert a["identity_flat_error"].shape == (k,)
    assert a["jacobian_singular_values"].shape == (j, min(d, 784))
    assert a["jacobian_frobenius"].shape == (j,)
    assert np.all(np.diff(a["jacobian_singular_values"], axis=1) <= 0)
    np.testing.assert_allclose(a["jacobian_frobenius"],
                               np.sqrt((a["jacobian_singular_values"] ** 2).sum(1)), rtol=1e-4)
    # the errors are those of the images it carries (identity inputs are fed clean)
    err = ((live.images["identity_inputs"] - live.images["identity_recon"]) ** 2).mean((1, 2, 3))
    np.testing.assert_allclose(a["identity_error"], err, rtol=1e-5, atol=1e-7)
    flat = live.images["identity_inputs"].reshape(k, -1).var(1)
    np.testing.assert_allclose(a["identity_flat_error"], flat, rtol=1e-4, atol=1e-7)
    assert np.isfinite(identity_ratio(a)) and identity_ratio(a) > 0
    # the encoder travels too, so the window's CPU copy can encode
    assert {name.split(".")[0] for name in live.weights} == {"encoder", "decoder"}
    with Session.open(tmp_path / "run.h5") as s:
        run = s.run()
        stored = run.snapshot(run.snapshot_epochs[-1])
        copy = cpu_copy(run.config, run.data.image_shape, stored.weights)
    for name, img in live.images.items():
        assert stored.images[name].shape == img.shape
        assert np.abs(stored.images[name] - img).max() <= 0.5 / 255 + 1e-6, name
    for name, arr in live.arrays.items():
        assert stored.arrays[name].shape == arr.shape, name
        np.testing.assert_allclose(stored.arrays[name], arr, rtol=2e-3, atol=1e-4, err_msg=name)
    assert copy.missing_parts == ()
    x = torch.from_numpy(run.data.probe_images[:4])
    with torch.no_grad():
        want = trainer.model.cpu().eval().encode_mean(x)
    np.testing.assert_allclose(copy.encode_mean(x).numpy(), want.numpy(), atol=0.02, rtol=0.02)
    np.testing.assert_allclose(copy.encode_mean(x).numpy(), live.arrays["probe_latent_mean"][:4]
                               if preset != "denoising" else want.numpy(), atol=0.02, rtol=0.02)


def test_point_data_snapshots_carry_the_field_and_a_1d_codes_curve(tmp_path):
    cfg = load_preset("vae-toy").with_overrides({
        "data.limit": 300, "data.n_probe": 8, "optim.epochs": 1, "model.hidden": [16],
        "model.latent_dim": 1, "device": "cpu"})
    trainer, rec = record_run(tmp_path / "toy.h5", cfg)
    a = _last_snapshot(rec).arrays
    assert "identity_error" not in a and "identity_inputs" not in _last_snapshot(rec).images
    assert a["field_recon"].shape == (225, 2) and a["code_curve"].shape == (CURVE_POINTS, 2)
    assert a["jacobian_singular_values"].shape == (8, 1) and a["probe_error"].shape == (8,)
    grid, arrows = recon_field(a)
    model = trainer.model.cpu().eval()
    with torch.no_grad():
        want = model.reconstruct(torch.from_numpy(grid).view(-1, 1, 1, 2)).flatten(1).numpy()
    np.testing.assert_allclose(arrows, want - grid, atol=1e-5)
    # the curve is the decoder's image of a line over the map codes' range, +10 % each side
    z = a["map_latents"][:, 0]
    span = z.max() - z.min()
    line = np.linspace(z.min() - 0.1 * span, z.max() + 0.1 * span, CURVE_POINTS, dtype=np.float32)
    with torch.no_grad():
        curve = model.decode_mean(torch.from_numpy(line[:, None])).flatten(1).numpy()
    np.testing.assert_allclose(a["code_curve"], curve, atol=1e-4)
    with Session.open(tmp_path / "toy.h5") as s:
        stored = s.run().snapshot(1).arrays
    np.testing.assert_allclose(stored["field_recon"], a["field_recon"], atol=1e-3)


def test_a_session_from_before_still_opens_decodes_and_says_what_is_missing(tmp_path,
                                                                           monkeypatch):
    # What an autoencoder's snapshot held before: the decoder alone, no code-view arrays.
    monkeypatch.setattr(Autoencoder, "interactive_parts", ("decoder",))
    monkeypatch.setattr(Autoencoder, "_code_view_arrays", lambda self, *a: ({}, {}))
    record_run(tmp_path / "old.h5", tiny_config("plain", epochs=1))
    monkeypatch.undo()
    with Session.open(tmp_path / "old.h5") as s:
        run = s.run()
        snap = run.snapshot(1)
        assert "identity_error" not in snap.arrays
        assert not any(name.startswith("encoder.") for name in snap.weights)
        copy = cpu_copy(run.config, run.data.image_shape, snap.weights)
        assert copy.missing_parts == ("encoder",)
        images = run.decoder(1).decode(np.zeros((2, run.config.model.latent_dim)))
    assert images.shape == (2, 1, 28, 28)
    assert np.isnan(identity_ratio(snap.arrays))
    with pytest.raises(KeyError):
        recon_field(snap.arrays)
    with pytest.raises(ValueError, match="missing"):   # no weights of any part: not a copy
        cpu_copy(run.config, run.data.image_shape, {})


# -- decoders as distributions ------------------------------------------------------------

def _decoder_model(likelihood: str, **objective):
    torch.manual_seed(0)
    cfg = RunConfig(model=ModelConfig(hidden=(8,), latent_dim=3),
                    objective=ObjectiveConfig(likelihood=likelihood, **objective))
    model = build_model(cfg, (1, 4, 5)).eval()
    last = [m for m in model.decoder.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():   # means inside (0, 1), away from where a Gaussian sample is clipped
        last.weight.mul_(0.1)
        last.bias.fill_(0.0 if likelihood != "gaussian" else 0.5)
    return model


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian", "categorical"])
def test_decode_sample_averages_to_decode_mean(likelihood):
    model = _decoder_model(likelihood)
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    n = 4000
    g = torch.Generator().manual_seed(2)
    samples = model.decode_sample(z.repeat(n, 1), generator=g).view(n, 4, 1, 4, 5)
    mean = model.decode_mean(z)
    assert samples.shape[2:] == mean.shape[1:] and 0 <= samples.min() and samples.max() <= 1
    if likelihood == "bernoulli":
        assert set(samples.unique().tolist()) <= {0.0, 1.0}
    if likelihood == "categorical":
        levels = model.likelihood.levels
        assert torch.allclose(samples * (levels - 1), (samples * (levels - 1)).round(), atol=1e-5)
    # 4 standard errors of a mean of n values in [0, 1] (std at most 1/2)
    assert (samples.mean(0) - mean).abs().max() < 4 * 0.5 / np.sqrt(n)
    if likelihood == "gaussian":
        assert samples.std(0).mean() == pytest.approx(model.likelihood.std, rel=0.05)
    again = model.decode_sample(z, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(again, samples[0])       # seeded: reproducible


def test_a_gans_decode_sample_is_its_decode_mean():
    cfg = load_preset("gan-toy")
    model = build_model(cfg, (1, 1, 2)).eval()
    z = torch.randn(5, cfg.model.latent_dim)
    torch.testing.assert_close(model.decode_sample(z, torch.Generator()), model.decode_mean(z))


# -- loss plot weights --------------------------------------------------------------------

@pytest.mark.parametrize("over,want", [
    ({"model.variational": True, "objective.beta": 4.0}, {"kl": 4.0}),
    ({"objective.sparsity": 0.05, "model.code_activation": "relu"}, {"sparsity": 0.05}),
    ({"objective.contractive": 0.5, "objective.sparsity": 0.1},
     {"sparsity": 0.1, "contractive": 0.5}),
    ({}, {}),
])
def test_term_weights_are_the_factors_that_make_total(over, want):
    cfg = load_preset("plain").with_overrides({"model.hidden": [8], "model.latent_dim": 4,
                                               **over})
    weights = family_class(cfg).term_weights(cfg)
    assert weights == want
    model = build_model(cfg, (1, 28, 28))
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    terms = model.loss(Batch(x), torch.Generator().manual_seed(1), training=False)
    total = terms["recon"] + sum(w * terms[name] for name, w in weights.items())
    torch.testing.assert_close(terms["total"], total)


def test_families_without_regularisers_weigh_nothing():
    assert family_class(load_preset("gan")).term_weights(load_preset("gan")) == {}
    assert family_class(load_preset("rbm")).term_weights(load_preset("rbm")) == {}
