"""Adding a family is one model file and one registry line: a family defined here, in a
test module, registers, trains, records to a session, reopens, resumes and exports, and
``info`` describes it, with no line of the engine changed (``docs/families.md``).

The family is a linear autoencoder (x̂ = D(E(x)), both linear, squared error): trained,
it spans the data's principal subspace. Its own settings (the weight of a penalty that
keeps the decoder's columns orthonormal) are a dataclass beside it.
:mod:`tests.gui.test_new_family_window` shows it in the window.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from engine.cli.info_cmd import run_lines
from engine.export.figures import export_epoch
from engine.jobs import resume_trainer
from engine.models import FAMILIES, Batch, Model, ModelTraits, Probe, family_class, register
from engine.models.base import batches_of, to_numpy
from engine.models.registry import unregister
from engine.presets import load_preset
from engine.session import Session, SessionWriter
from engine.trainer import Trainer

FAMILY = "linear_ae"


@dataclass(frozen=True)
class LinearSettings:
    """The linear autoencoder's own settings.

    Attributes
    ----------
    orthogonality : the weight of ||DᵀD − I||² in ``total``.
    """

    orthogonality: float = 0.1


class LinearAutoencoder(Model):
    """x (B, C, H, W) -> z = E x (B, k) -> x̂ = clamp(D z, 0, 1); squared error per image."""

    family = FAMILY
    title = "linear autoencoder"
    interactive_parts = ("encoder", "decoder")
    decoder_part = "decoder"
    settings = LinearSettings()

    def __init__(self, image_shape: tuple[int, int, int], latent_dim: int):
        super().__init__()
        self.image_shape = tuple(image_shape)
        n = int(np.prod(image_shape))
        self.encoder = nn.Linear(n, latent_dim)
        self.decoder = nn.Linear(latent_dim, n)

    @classmethod
    def from_config(cls, config, image_shape, n_classes=None) -> "LinearAutoencoder":
        return cls(image_shape, config.model.latent_dim)

    @classmethod
    def traits(cls, config) -> ModelTraits:
        return ModelTraits(
            encoder=True, reconstructs=True, continuous_code=True,
            likelihood="none: squared error defines no density",
            code=f"z = E x ∈ R^{config.model.latent_dim}, linear",
            missing={"samples": "A linear autoencoder has no prior to sample.",
                     "code": "linear autoencoder (its snapshots carry no code views)"})

    @classmethod
    def describe(cls, config) -> str:
        return f"linear {config.model.latent_dim}-d code, squared error"

    @classmethod
    def term_weights(cls, config) -> dict[str, float]:
        return {"orthogonality": cls.settings.orthogonality}

    def term_names(self) -> tuple[str, ...]:
        return ("total", "recon", "orthogonality")

    @torch.no_grad()
    def decode_mean(self, z: Tensor) -> Tensor:
        """z (B, k) -> x̂ (B, C, H, W) in [0, 1], for display (the loss uses the decoder)."""
        return self.decoder(z).clamp(0, 1).view(-1, *self.image_shape)

    def loss(self, batch: Batch, generator=None, training: bool = True) -> dict[str, Tensor]:
        x = batch.x.flatten(1)
        recon = ((self.decoder(self.encoder(x)) - x) ** 2).sum(1).mean()
        d = self.decoder.weight                                  # (n, k)
        orth = ((d.T @ d - torch.eye(d.shape[1], device=d.device)) ** 2).sum()
        return {"total": recon + self.settings.orthogonality * orth, "recon": recon,
                "orthogonality": orth}

    def snapshot(self, probe: Probe, generator):
        x = probe.images
        codes = torch.cat([self.encoder(b.x.flatten(1)) for b in
                           batches_of(probe.map_images, x.device)])
        images = {"probe_inputs": to_numpy(x),
                  "probe_recon": to_numpy(self.decode_mean(self.encoder(x.flatten(1))))}
        return images, {"map_latents": to_numpy(codes)}


@contextlib.contextmanager
def registered():
    """The family in the registry while the block runs (and only then)."""
    register(LinearAutoencoder)
    try:
        yield LinearAutoencoder
    finally:
        unregister(FAMILY)


def linear_config(epochs: int = 3, **over):
    """MNIST's first 300 images, a 2-d code: a few seconds on one thread."""
    return load_preset("plain").with_overrides({
        "model.family": FAMILY, "model.latent_dim": 2, "data.limit": 300,
        "optim.epochs": epochs, "optim.batch_size": 50, "optim.lr": 1e-3, "seed": 5,
        "device": "cpu", **over})


@pytest.fixture
def family():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with registered() as cls:
        yield cls
    torch.set_num_threads(threads)
    assert FAMILY not in FAMILIES


def test_a_family_defined_here_trains_records_reopens_resumes_and_exports(family, tmp_path):
    cfg = linear_config().validate()
    assert family_class(cfg) is family and cfg.kind_label() == FAMILY
    path = tmp_path / "linear.h5"
    trainer = Trainer(cfg)
    with SessionWriter(path) as writer:
        assert trainer.run(writer) == "completed"
    with Session.open(path) as s:
        run = s.run()
        assert run.config == cfg and run.term_names == ["total", "recon", "orthogonality"]
        recon = run.epoch_history["train"]["recon"]
        assert recon[-1] < recon[0]                         # it learns
        # The stored reconstructions are the stored weights' linear map, in numpy.
        snap = run.snapshot(run.snapshot_epochs[-1])
        w = {k: v.astype(np.float64) for k, v in snap.weights.items()}
        x = run.data.probe_images.reshape(len(run.data.probe_images), -1).astype(np.float64)
        z = x @ w["encoder.weight"].T + w["encoder.bias"]
        want = np.clip(z @ w["decoder.weight"].T + w["decoder.bias"], 0, 1)
        got = snap.images["probe_recon"].reshape(len(x), -1)
        # 8-bit images (half a level) of float16 weights
        np.testing.assert_allclose(got, want, atol=0.5 / 255 + 2e-3)
        # The decoder the latent explorer uses is the family's decode_mean.
        codes = np.array([[0.5, -1.0], [2.0, 0.3]], np.float32)
        decoded = run.decoder(run.snapshot_epochs[-1]).decode(codes)
        np.testing.assert_allclose(decoded.reshape(2, -1), np.clip(
            codes @ w["decoder.weight"].T + w["decoder.bias"], 0, 1), atol=2e-3)
        lines = "\n".join(run_lines(run))
        assert "linear 2-d code, squared error" in lines and "linear_ae" in lines
        more, until = resume_trainer(run, 1)
    with SessionWriter(path, append=True) as writer:
        from engine.events import RunOpened
        writer(RunOpened(job_id="", run_id="main"))
        assert more.run(writer, until_epoch=until) == "completed"
    with Session.open(path) as s:
        run = s.run()
        assert run.epochs_trained == 4 and run.snapshot_epochs == [1, 2, 3, 4]
        # Its traits pick the figures: reconstructions, codes drawn around the data's
        # decoded, and the 2-D code's manifold.
        names = [p.name for p in export_epoch(run, None, tmp_path / "figures", scale=1)]
        assert names == ["epoch0004_reconstructions.png", "epoch0004_samples.png",
                         "epoch0004_manifold.png"]


def test_the_family_keeps_the_contract_every_family_keeps(family, tmp_path):
    """The contract test of every registered family (``test_families``) holds for it."""
    from test_families import test_the_model_interface, test_train_record_replay_resume_and_export
    over = {"model.family": FAMILY}
    test_the_model_interface(over)
    test_train_record_replay_resume_and_export(over, tmp_path)


def test_an_unregistered_family_is_a_clear_error():
    from engine.errors import ConfigError
    with pytest.raises(ConfigError, match="must be one of .*autoencoder.*got 'linear_ae'"):
        family_class(linear_config())
