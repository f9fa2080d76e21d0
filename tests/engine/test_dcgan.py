"""The 64x64 colour presets: DCGAN's players (Radford et al. 2016) and the convolutional VAE."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from engine.data import load_dataset
from engine.models import build_model
from engine.presets import load_preset
from engine.trainer import Trainer
from session_support import single_torch_thread


def _layers(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if not list(m.children())]


def test_dcgan_64_has_the_papers_players():
    cfg = load_preset("dcgan-64")
    assert "64x64 colour" in cfg.description and cfg.model.latent_dim == 100
    torch.manual_seed(0)
    gan = build_model(cfg, (3, 64, 64))
    g, d = _layers(gan.generator.body), _layers(gan.discriminator.body)
    # Generator: project z to 512x4x4, then 256, 128, 64 channels, then 3 at 64x64; batch
    # norm and ReLU after every layer but the last; no bias in front of a batch norm.
    convs = [m for m in g if isinstance(m, nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels, c.stride) for c in convs] == [
        (512, 256, (2, 2)), (256, 128, (2, 2)), (128, 64, (2, 2)), (64, 3, (2, 2))]
    assert [m.num_features for m in g if isinstance(m, nn.BatchNorm2d)] == [512, 256, 128, 64]
    assert sum(isinstance(m, nn.ReLU) for m in g) == 4 and convs[-1].bias is not None
    assert all(c.bias is None for c in convs[:-1]) and gan.generator.body.fc.bias is None
    z = torch.randn(5, 100)
    out = gan.generator(z)
    assert out.shape == (5, 3, 64, 64) and 0 <= out.min() and out.max() <= 1   # sigmoid
    # Discriminator: strided convolutions 3 -> 64 -> 128 -> 256 -> 512, leaky ReLU 0.2, batch
    # norm on all but the first, no pooling; one logit per image.
    convs = [m for m in d if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(3, 64), (64, 128),
                                                               (128, 256), (256, 512)]
    assert [m.num_features for m in d if isinstance(m, nn.BatchNorm2d)] == [128, 256, 512]
    assert all(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2
               for m in d if isinstance(m, (nn.LeakyReLU, nn.ReLU)))
    assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in d)
    assert gan.discriminator(torch.rand(5, 3, 64, 64)).shape == (5,)
    # N(0, 0.02) weights; batch norm scales N(1, 0.02).
    w = torch.cat([c.weight.detach().flatten() for c in convs])
    assert abs(float(w.mean())) < 0.002 and 0.018 < float(w.std()) < 0.022
    bn = torch.cat([m.weight.detach() for m in d if isinstance(m, nn.BatchNorm2d)])
    assert abs(float(bn.mean()) - 1) < 0.005 and 0.015 < float(bn.std()) < 0.025
    # Adam, 2e-4, beta1 = 0.5, for both players.
    for opt in gan.configure_optimizers(cfg.optim).values():
        assert isinstance(opt, torch.optim.Adam)
        assert opt.param_groups[0]["lr"] == 2e-4 and opt.param_groups[0]["betas"][0] == 0.5


def test_a_generated_image_depends_on_its_own_code_only():
    """Batch norm would make g(z) depend on the batch; decoding uses the running statistics."""
    gan = build_model(load_preset("dcgan-64"), (3, 64, 64))
    gan.train()
    z = torch.randn(6, 100)
    alone = torch.cat([gan.decode_mean(z[i:i + 1]) for i in range(6)])
    torch.testing.assert_close(alone, gan.decode_mean(z), rtol=1e-5, atol=1e-6)
    assert gan.training                      # decoding left the training mode as it was


def test_both_presets_train_on_64x64_colour_sprites_out_of_the_box():
    for name in ("conv-vae-64", "dcgan-64"):
        cfg = load_preset(name).with_overrides({"data.n_sprites": 40, "optim.epochs": 1,
                                                "optim.batch_size": 16, "data.n_probe": 4})
        assert "64x64 colour" in cfg.description
        ds = load_dataset(cfg.data, cfg.seed)
        assert ds.image_shape == (3, 64, 64) and len(np.unique(ds.factors[:, 5])) == 40
        with single_torch_thread():
            trainer = Trainer(cfg)
            events = []
            assert trainer.run(events.append) == "completed", events[-1]
        snap = [e for e in events if type(e).__name__ == "EpochSnapshot"][-1]
        key = "probe_recon" if name == "conv-vae-64" else "samples"
        assert snap.images[key].shape[1:] == (3, 64, 64)
