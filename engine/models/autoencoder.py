"""The autoencoder family: encode to a :class:`Code`, decode to likelihood parameters.

Deterministic encoders give ``z = h = act(f(x))``. Stochastic (variational)
encoders give a Gaussian q(z|x) with ``mean`` and ``logvar`` and draw ``z``
by reparameterisation, so gradients flow through the sample. The loss terms
come from :class:`~engine.models.objective.Objective`; a denoising autoencoder's
encoder sees the corrupted batch (:mod:`engine.corruption`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import numpy as np
import torch
from torch import Tensor, nn

from engine.analysis.identity_probe import (flat_errors, off_manifold_images,
                                            reconstruction_errors)
from engine.analysis.jacobian import frobenius_norm, snapshot_spectrum
from engine.analysis.recon_field import code_line, field_grid
from engine.corruption import corrupt
from engine.data.toy2d import GENERATED_POINTS, is_point_data
from engine.likelihoods import Likelihood, make_likelihood
from engine.models.base import Batch, Model, ModelTraits, Probe, batches_of, to_numpy
from engine.models.registry import register
from engine.models.conv import ConvDecoder, ConvEncoder
from engine.models.layers import activation
from engine.models.mlp import MLPDecoder, MLPEncoder
from engine.models.objective import Objective, kl_to_standard_normal

if TYPE_CHECKING:
    from engine.config import ModelConfig, RunConfig

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

    @classmethod
    def from_config(cls, image_shape: tuple[int, int, int], model: "ModelConfig") -> "Encoder":
        out = model.latent_dim * (2 if model.variational else 1)
        make = ConvEncoder if model.architecture == "conv" else MLPEncoder
        body = make(tuple(image_shape), tuple(model.hidden), out, model.activation)
        return cls(body, model.latent_dim, model.code_activation, model.variational)

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


def code_words(model) -> str:
    """An encoder's code in words: ``z ∈ R^D``, and whether q(z|x) has a prior."""
    return f"z ∈ R^{model.latent_dim}" + (", q(z|x) and prior N(0, I)" if model.variational
                                          else ", z = f(x)")


@register
class Autoencoder(Model):
    """Encoder, decoder and output likelihood, built from a run config.

    Parameters
    ----------
    image_shape : (C, H, W)
    config : the run (model architecture, objective: likelihood and regularisers).
    """

    family = "autoencoder"
    takes_kinds = True
    stacks_greedily = True
    # The encoder too, so the window's CPU copy can encode a drawing or noisy probes.
    interactive_parts = ("encoder", "decoder")
    decoder_part = "decoder"

    def __init__(self, image_shape: tuple[int, int, int], config: "RunConfig"):
        super().__init__()
        model = config.model
        self.image_shape = tuple(image_shape)
        self.latent_dim = model.latent_dim
        self.variational = model.variational
        self.objective_config = config.objective
        self.objective = Objective(config.objective)
        self.likelihood: Likelihood = make_likelihood(config.objective)
        m = self.likelihood.params_per_channel
        # The encoder draws its initial weights first and the decoder is registered
        # first: the order of sessions written before (weights, optimiser state).
        encoder = Encoder.from_config(self.image_shape, model)
        make = ConvDecoder if model.architecture == "conv" else MLPDecoder
        self.decoder = make(self.image_shape, tuple(model.hidden), model.latent_dim,
                            model.activation, m)
        self.encoder = encoder

    @classmethod
    def from_config(cls, config, image_shape, n_classes=None) -> "Autoencoder":
        return cls(image_shape, config)

    @classmethod
    def traits(cls, config) -> ModelTraits:
        shared = dict(encoder=True, reconstructs=True, continuous_code=True,
                      autoencoder_code=True, scriptable=True, classifier_encoder=True,
                      code=code_words(config.model))
        no_map = {"data_map": "no map: a VAE's p(x) has no closed form (its ELBO only bounds "
                              "it), and a deterministic autoencoder defines none"}
        if config.model.variational:
            return ModelTraits(
                generative="explicit", prior_samples=True, **shared,
                likelihood="the ELBO, a lower bound on log p(x) (the elbo curve); "
                           "reconstructions come back through q(z|x) and p(x|z)",
                missing=no_map)
        return ModelTraits(
            **shared, likelihood="none: a deterministic autoencoder defines no density p(x)",
            missing={**no_map,
                     "samples": "This run is not variational, so it has no prior to sample: "
                                "tick 'variational' in the run settings and train to see "
                                "samples."})

    @classmethod
    def describe(cls, config) -> str:
        return f"{super().describe(config)}, {config.objective.likelihood} likelihood"

    @classmethod
    def term_weights(cls, config) -> dict[str, float]:
        """The factor of each present regulariser in ``total`` (see the objective)."""
        o, weights = config.objective, {}
        if config.model.variational:
            weights["kl"] = float(o.beta)
        if o.sparsity > 0:
            weights["sparsity"] = float(o.sparsity)
        if o.contractive > 0:
            weights["contractive"] = float(o.contractive)
        return weights

    # -- the Model interface -------------------------------------------------------------
    def term_names(self) -> tuple[str, ...]:
        return tuple(self.objective.term_names(self.variational))

    def loss(self, batch: Batch, generator=None, training: bool = True) -> dict[str, Tensor]:
        o = self.objective_config
        x_in = corrupt(batch.x, o.corruption, o.corruption_level, generator)
        terms, _, _ = self.objective(self, batch.x, x_in, generator, create_graph=training)
        return terms

    def divergence_tips(self) -> list[str]:
        return ["or lower beta"] if self.variational else []

    def evaluate(self, batches: Iterable[Batch], generator):
        """Validation terms, and the mean KL per latent dimension (D,) for a VAE."""
        o = self.objective_config
        sums: dict[str, float] = {}
        kl_sum, n = None, 0
        # The contractive term needs input gradients even when evaluating.
        with torch.set_grad_enabled(o.contractive > 0):
            for batch in batches:
                x_in = corrupt(batch.x, o.corruption, o.corruption_level, generator)
                terms, code, _ = self.objective(self, batch.x, x_in, generator,
                                                create_graph=False)
                m = len(batch)
                for k, v in terms.items():
                    sums[k] = sums.get(k, 0.0) + float(v.detach()) * m
                if code.mean is not None:
                    kl = kl_to_standard_normal(code.mean, code.logvar).detach().sum(0)
                    kl_sum = kl if kl_sum is None else kl_sum + kl
                n += m
        if n == 0:
            return {}, {}
        arrays = {} if kl_sum is None else {
            "kl_per_dim": (kl_sum / n).cpu().numpy().astype(np.float32)}
        return {k: v / n for k, v in sums.items()}, arrays

    @torch.no_grad()
    def snapshot(self, probe: Probe, generator):
        """Probe inputs and reconstructions, codes, KL, and the code views' arrays.

        ``generator`` draws the probe corruption: the trainer passes one with a
        fixed seed, so every epoch shows the same noisy inputs. The KL here is
        the probe's; the trainer replaces it with the validation set's when
        there is one. Everything is computed on the probe set and the map's
        images only (see :meth:`_code_view_arrays`): no pass over the training data.
        """
        o = self.objective_config
        x = probe.images
        x_in = corrupt(x, o.corruption, o.corruption_level, generator)
        code = self.encoder(x_in, sample=False)
        recon = self.likelihood.mean(self.decoder(code.z))
        means, logvars = [], []
        for batch in batches_of(probe.map_images, x.device):
            c = self.encoder(batch.x, sample=False)
            means.append(c.h)
            if c.logvar is not None:
                logvars.append(c.logvar)
        map_latents = torch.cat(means)
        arrays = {"probe_latent_mean": to_numpy(code.h), "map_latents": to_numpy(map_latents)}
        if code.logvar is not None:
            arrays["probe_latent_logvar"] = to_numpy(code.logvar)
            arrays["map_latent_logvar"] = to_numpy(torch.cat(logvars))
            arrays["kl_per_dim"] = to_numpy(kl_to_standard_normal(code.mean, code.logvar).mean(0))
        images = {"probe_inputs": to_numpy(x_in), "probe_recon": to_numpy(recon)}
        if is_point_data(self.image_shape):  # data space: the points, and where they go
            arrays["real_points"] = to_numpy(probe.map_images.flatten(1))
            arrays["recon_points"] = to_numpy(recon.flatten(1))
            if self.variational:
                z = torch.randn((GENERATED_POINTS, self.latent_dim), generator=generator,
                                device=x.device)
                arrays["generated_points"] = to_numpy(self.decode_mean(z).flatten(1))
        clean_recon = recon if x_in is x else self.reconstruct(x)
        more_images, more_arrays = self._code_view_arrays(x, clean_recon, map_latents)
        images.update(more_images)
        arrays.update(more_arrays)
        return images, arrays

    def _code_view_arrays(self, x: Tensor, clean_recon: Tensor, map_latents: Tensor
                          ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """What the code views read (docs/session-format.md), from the probe alone.

        Parameters
        ----------
        x : (P, C, H, W) the clean probe images.
        clean_recon : (P, C, H, W) their mean reconstructions from clean inputs.
        map_latents : (M, D) the map images' codes (for the 1-D code curve).
        """
        images: dict[str, np.ndarray] = {}
        arrays = {"probe_error": to_numpy(reconstruction_errors(x, clean_recon))}
        # The identity risk: inputs off the data manifold, fed clean.
        if not is_point_data(self.image_shape):
            off = off_manifold_images(x)
            off_recon = self.reconstruct(off)
            images = {"identity_inputs": to_numpy(off), "identity_recon": to_numpy(off_recon)}
            arrays["identity_error"] = to_numpy(reconstruction_errors(off, off_recon))
            arrays["identity_flat_error"] = to_numpy(flat_errors(off))
        # Contraction: the Jacobian's spectrum at a few probe points (the mean code for a VAE).
        spectrum = snapshot_spectrum(self, x)
        arrays["jacobian_singular_values"] = to_numpy(spectrum)
        arrays["jacobian_frobenius"] = to_numpy(frobenius_norm(spectrum))
        if is_point_data(self.image_shape):  # the reconstruction field, and a 1-D code's curve
            grid = torch.from_numpy(field_grid()).to(x.device, x.dtype)
            arrays["field_recon"] = to_numpy(self.reconstruct(grid.view(-1, *self.image_shape))
                                        .flatten(1))
            if self.latent_dim == 1:
                z = torch.from_numpy(code_line(to_numpy(map_latents))).to(x.device, x.dtype)
                arrays["code_curve"] = to_numpy(self.decode_mean(z).flatten(1))
        return images, arrays

    # -- using a trained model -------------------------------------------------------------
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
    def encode_mean(self, x: Tensor) -> Tensor:
        """x (B, C, H, W) -> E_q[z|x] (B, D): the code h, or the mean of q(z|x) for a VAE."""
        return self.encoder(x, sample=False).h

    @torch.no_grad()
    def decode_mean(self, z: Tensor) -> Tensor:
        """z (B, D) -> expected images (B, C, H, W)."""
        return self.likelihood.mean(self.decoder(z))

    @torch.no_grad()
    def draw_samples(self, n: int, generator: torch.Generator) -> Tensor | None:
        """A VAE's samples: E[x|z] of n codes z ~ N(0, I) (the mean images the samples panel
        shows); None for a deterministic autoencoder, which has no prior to sample."""
        if not self.variational:
            return None
        device = next(self.decoder.parameters()).device
        z = torch.randn((n, self.latent_dim), generator=generator, device=device)
        return self.decode_mean(z)

    @torch.no_grad()
    def decode_sample(self, z: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """z (B, D) -> one image drawn from p(x|z) each, (B, C, H, W) in [0, 1].

        Bernoulli pixels are 0 or 1, Categorical ones one of K levels; Gaussian
        ones are mean + std * noise clipped to [0, 1], so within a few std of 0
        or 1 their average is pulled towards 0.5 (the clipping, not the decoder).
        """
        return self.likelihood.sample(self.decoder(z), generator)
