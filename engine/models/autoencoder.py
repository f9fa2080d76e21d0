"""One interface for every autoencoder: encode to a :class:`Code`, decode to likelihood params.

Deterministic encoders give ``z = h = act(f(x))``. Stochastic (variational)
encoders give a Gaussian q(z|x) with ``mean`` and ``logvar`` and draw ``z``
by reparameterisation, so gradients flow through the sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from engine.config import ModelConfig, ObjectiveConfig
from engine.likelihoods import Likelihood, make_likelihood
from engine.models.conv import ConvDecoder, ConvEncoder
from engine.models.layers import activation
from engine.models.mlp import MLPDecoder, MLPEncoder

# Keeps exp(logvar) finite in float32 even when a run is starting to diverge.
_LOGVAR_RANGE = (-30.0, 20.0)


@dataclass
class Code:
    """What an encoder returns.

    Attributes
    ----------
    z : (B, D) the code passed to the decoder (a sample for a stochastic encoder).
    h : (B, D) the deterministic code activations: ``z`` itself, or the mean of q(z|x).
        Sparsity and contractive penalties act on ``h``.
    mean, logvar : (B, D) parameters of q(z|x), or None for a deterministic encoder.
    """

    z: Tensor
    h: Tensor
    mean: Tensor | None = None
    logvar: Tensor | None = None


class Encoder(nn.Module):
    """Wraps an MLP or conv body; adds the code activation or the Gaussian head."""

    def __init__(self, body: nn.Module, latent_dim: int, code_activation: str, variational: bool):
        super().__init__()
        self.body = body
        self.latent_dim = latent_dim
        self.variational = variational
        self.code_act = activation("linear" if variational else code_activation)

    def code_activations(self, x: Tensor) -> Tensor:
        """h(x), (B, D): the deterministic part, differentiable in x (for the Jacobian)."""
        out = self.body(x)
        if self.variational:
            return out[:, : self.latent_dim]
        return self.code_act(out)

    def forward(self, x: Tensor, generator: torch.Generator | None = None,
                sample: bool = True) -> Code:
        out = self.body(x)
        if not self.variational:
            h = self.code_act(out)
            return Code(z=h, h=h)
        mean, logvar = out[:, : self.latent_dim], out[:, self.latent_dim:]
        logvar = logvar.clamp(*_LOGVAR_RANGE)
        if sample:
            eps = torch.randn(mean.shape, generator=generator, device=mean.device,
                              dtype=mean.dtype)
            z = mean + torch.exp(0.5 * logvar) * eps
        else:
            z = mean
        return Code(z=z, h=mean, mean=mean, logvar=logvar)


class Autoencoder(nn.Module):
    """Encoder, decoder and output likelihood, built from a config.

    Parameters
    ----------
    image_shape : (C, H, W)
    model : architecture settings.
    objective : used for the likelihood (the decoder's output size depends on it).
    """

    def __init__(self, image_shape: tuple[int, int, int], model: ModelConfig,
                 objective: ObjectiveConfig):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.latent_dim = model.latent_dim
        self.variational = model.variational
        self.likelihood: Likelihood = make_likelihood(objective)
        out = model.latent_dim * (2 if model.variational else 1)
        m = self.likelihood.params_per_channel
        if model.architecture == "conv":
            body = ConvEncoder(self.image_shape, tuple(model.hidden), out, model.activation)
            self.decoder = ConvDecoder(self.image_shape, tuple(model.hidden), model.latent_dim,
                                       model.activation, m)
        else:
            body = MLPEncoder(self.image_shape, tuple(model.hidden), out, model.activation)
            self.decoder = MLPDecoder(self.image_shape, tuple(model.hidden), model.latent_dim,
                                      model.activation, m)
        self.encoder = Encoder(body, model.latent_dim, model.code_activation, model.variational)

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> tuple[Code, Tensor]:
        """x (B, C, H, W) -> (code, decoder params (B, C*m, H, W))."""
        code = self.encoder(x, generator)
        return code, self.decoder(code.z)

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Mean reconstruction from the mean code, (B, C, H, W) in [0, 1]."""
        code = self.encoder(x, sample=False)
        return self.likelihood.mean(self.decoder(code.z))

    @torch.no_grad()
    def decode_mean(self, z: Tensor) -> Tensor:
        """z (B, D) -> expected images (B, C, H, W)."""
        return self.likelihood.mean(self.decoder(z))

    @torch.no_grad()
    def sample_prior(self, n: int, generator: torch.Generator | None = None,
                     device: torch.device | str | None = None) -> Tensor:
        """Decode z ~ N(0, I): (n, C, H, W) mean images of new samples."""
        p = next(self.parameters())
        z = torch.randn((n, self.latent_dim), generator=generator,
                        device=device or p.device, dtype=p.dtype)
        return self.decode_mean(z)


def build_autoencoder(image_shape: tuple[int, int, int], model: ModelConfig,
                      objective: ObjectiveConfig) -> Autoencoder:
    """The autoencoder a run config describes, with freshly initialised weights."""
    return Autoencoder(image_shape, model, objective)
