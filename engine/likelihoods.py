"""Output distributions p(x | z): cost functions read as likelihoods.

The decoder outputs *parameters*; a likelihood turns them into a negative
log-likelihood, a mean image and a sample. This is the lecture notes'
"cost functions and probability" made concrete:

- squared error   = Gaussian with fixed standard deviation,
- cross-entropy   = Bernoulli with the decoder's logits,
- softmax         = Categorical over K intensity levels.

All NLLs are in nats per image (summed over pixels), so the reconstruction
terms of different likelihoods can be compared on one plot.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from engine.config import ObjectiveConfig


class Likelihood:
    """Interface. ``params`` has shape ``(B, C * params_per_channel, H, W)``."""

    name = "base"
    params_per_channel = 1

    def nll(self, x: Tensor, params: Tensor) -> Tensor:
        """Negative log-likelihood per image.

        Parameters
        ----------
        x : (B, C, H, W) float in [0, 1], the clean target.
        params : (B, C * params_per_channel, H, W) decoder output.

        Returns
        -------
        (B,) nats per image.
        """
        raise NotImplementedError

    def mean(self, params: Tensor) -> Tensor:
        """The expected image, (B, C, H, W) in [0, 1] (clamped for display)."""
        raise NotImplementedError

    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """One sample per image, (B, C, H, W) in [0, 1]."""
        raise NotImplementedError


class GaussianLikelihood(Likelihood):
    """N(x; mu, std^2) per pixel: the NLL is squared error / (2 std^2) plus a constant."""

    name = "gaussian"

    def __init__(self, std: float = 0.1):
        self.std = float(std)
        self._log_norm = math.log(self.std) + 0.5 * math.log(2 * math.pi)

    def nll(self, x: Tensor, params: Tensor) -> Tensor:
        sq = (x - params).pow(2).flatten(1).sum(1)
        return 0.5 * sq / self.std**2 + self._log_norm * x[0].numel()

    def mean(self, params: Tensor) -> Tensor:
        return params.clamp(0.0, 1.0)

    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        noise = torch.randn(params.shape, generator=generator, device=params.device,
                            dtype=params.dtype)
        return (params + self.std * noise).clamp(0.0, 1.0)


class BernoulliLikelihood(Likelihood):
    """Bernoulli(x; sigmoid(logits)) per pixel: the NLL is binary cross-entropy.

    For grey values in (0, 1) this is the usual "cross-entropy with soft
    targets", as in most VAE examples.
    """

    name = "bernoulli"

    def nll(self, x: Tensor, params: Tensor) -> Tensor:
        bce = F.binary_cross_entropy_with_logits(params, x, reduction="none")
        return bce.flatten(1).sum(1)

    def mean(self, params: Tensor) -> Tensor:
        return torch.sigmoid(params)

    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return torch.bernoulli(torch.sigmoid(params), generator=generator)


class CategoricalLikelihood(Likelihood):
    """Softmax over K intensity levels per pixel.

    The target pixel value v in [0, 1] is quantised to level round(v (K-1)).
    ``params`` holds K logits per channel, laid out as (B, C, K, H, W) when
    reshaped.
    """

    name = "categorical"

    def __init__(self, levels: int = 16):
        self.levels = int(levels)
        self.params_per_channel = self.levels

    def _logits(self, params: Tensor) -> Tensor:
        b, ck, h, w = params.shape
        return params.view(b, ck // self.levels, self.levels, h, w)

    def quantise(self, x: Tensor) -> Tensor:
        """Levels (B, C, H, W) int64 in 0..K-1."""
        return torch.round(x.clamp(0, 1) * (self.levels - 1)).long()

    def nll(self, x: Tensor, params: Tensor) -> Tensor:
        logits = self._logits(params)  # (B, C, K, H, W)
        ce = F.cross_entropy(logits.transpose(1, 2), self.quantise(x), reduction="none")
        return ce.flatten(1).sum(1)

    def mean(self, params: Tensor) -> Tensor:
        probs = torch.softmax(self._logits(params), dim=2)
        values = torch.linspace(0, 1, self.levels, device=params.device, dtype=params.dtype)
        return (probs * values.view(1, 1, -1, 1, 1)).sum(2)

    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        probs = torch.softmax(self._logits(params), dim=2)  # (B, C, K, H, W)
        flat = probs.movedim(2, -1).reshape(-1, self.levels)
        idx = torch.multinomial(flat, 1, generator=generator).view(
            probs.shape[0], probs.shape[1], probs.shape[3], probs.shape[4])
        return idx.to(params.dtype) / (self.levels - 1)


def make_likelihood(cfg: ObjectiveConfig) -> Likelihood:
    """The likelihood named by ``cfg.likelihood``."""
    if cfg.likelihood == "gaussian":
        return GaussianLikelihood(cfg.gaussian_std)
    if cfg.likelihood == "bernoulli":
        return BernoulliLikelihood()
    return CategoricalLikelihood(cfg.levels)
