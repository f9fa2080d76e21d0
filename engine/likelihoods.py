"""Output distributions p(x | z): cost functions read as likelihoods.

The decoder outputs *parameters*; a likelihood turns them into a negative
log-likelihood, a mean image and a sample. This is the lecture notes'
"cost functions and probability" made concrete:

- squared error   = Gaussian with fixed standard deviation,
- cross-entropy   = Bernoulli with the decoder's logits,
- softmax         = Categorical over K intensity levels.

All NLLs are in nats per image (summed over pixels), so the reconstruction
terms of different likelihoods can be compared on one plot.

Those training terms are *not* on one scale, though: a Gaussian density, a
Bernoulli "probability" of a grey value and a Categorical probability of one
of K levels measure different things. :meth:`Likelihood.grey_level_log_prob`
puts all three on one discrete scale — the probability of each of the 256
grey levels of an 8-bit image — and :func:`bits_per_pixel` reads it as bits
per pixel (8 is a uniform guess), so models with different output
distributions can honestly be compared (lesson 7).
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

    def grey_level_log_prob(self, levels: Tensor, params: Tensor) -> Tensor:
        """log P(grey level) under the distribution discretised to the 256 levels.

        Parameters
        ----------
        levels : (B, C, H, W) int64 in 0..255, the 8-bit grey level g (value g/255).
        params : (B, C * params_per_channel, H, W) decoder output.

        Returns
        -------
        (B, C, H, W) float64 natural-log probabilities; over g = 0..255 they sum to 1.
        """
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

    def grey_level_log_prob(self, levels: Tensor, params: Tensor) -> Tensor:
        """The Gaussian's mass on each level's bin: Φ(upper) − Φ(lower), where level g
        covers [(g − ½)/255, (g + ½)/255] and the end levels take the open tails
        (g = 0 everything below ½/255, g = 255 everything above 254.5/255), so the
        mass outside [0, 1] is counted and the 256 probabilities sum to 1."""
        mu = params.double()
        g = levels.double()
        lo = torch.where(levels <= 0, -math.inf, (g - 0.5) / GREY_MAX)
        hi = torch.where(levels >= GREY_MAX, math.inf, (g + 0.5) / GREY_MAX)
        return log_normal_mass((lo - mu) / self.std, (hi - mu) / self.std)


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

    def grey_level_log_prob(self, levels: Tensor, params: Tensor) -> Tensor:
        """The continuous Bernoulli (Loaiza-Ganem & Cunningham, 2019) with λ = sigmoid(logit),
        discretised to the levels' bins [(g − ½)/255, (g + ½)/255] ∩ [0, 1].

        Why this distribution: the cross-entropy the decoder minimised on a grey value
        x is −log(λ^x (1 − λ)^(1−x)), which is not a probability of x (summed over
        grey values it is not 1). Normalised over [0, 1] it is exactly the continuous
        Bernoulli, p(x) ∝ λ^x (1 − λ)^(1−x), so this is the distribution the trained
        term describes, and its mass on a bin is closed-form: with η = logit,
        P(a < x < b) = (e^{ηb} − e^{ηa}) / (e^η − 1), computed in log space (stable
        for any η; the same as ``torch.distributions.ContinuousBernoulli``'s cdf
        differences, which lose precision for |η| large).
        """
        eta = params.double()
        g = levels.double()
        a = ((g - 0.5) / GREY_MAX).clamp(0.0, 1.0)
        b = ((g + 0.5) / GREY_MAX).clamp(0.0, 1.0)
        # The mass is symmetric under x -> 1 - x with eta -> -eta: work with eta >= 0.
        neg = eta < 0
        a, b = torch.where(neg, 1.0 - b, a), torch.where(neg, 1.0 - a, b)
        e = eta.abs()
        small = e < 1e-6                  # λ = ½: the uniform density, mass b - a
        es = torch.where(small, torch.ones_like(e), e)
        # P = e^{η(b-1)} (1 - e^{-η(b-a)}) / (1 - e^{-η}) for η > 0
        log_p = es * (b - 1.0) + torch.log(-torch.expm1(-es * (b - a))) \
            - torch.log(-torch.expm1(-es))
        return torch.where(small, torch.log(b - a), log_p)


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

    def level_of_grey(self, device=None) -> Tensor:
        """(256,) int64: the model's level of each grey value g (its :meth:`quantise`)."""
        grey = torch.arange(GREY_MAX + 1, device=device, dtype=torch.float32) / GREY_MAX
        return self.quantise(grey)

    def grey_level_log_prob(self, levels: Tensor, params: Tensor) -> Tensor:
        """Each level's probability spread evenly over the grey values it covers: with
        K = 16 a level covers 17 grey values (the end ones 9), so
        P(g) = P(level(g)) / #{g' : level(g') = level(g)}."""
        k_of = self.level_of_grey(params.device)
        counts = torch.bincount(k_of, minlength=self.levels).double()
        logp = torch.log_softmax(self._logits(params).double(), dim=2)  # (B, C, K, H, W)
        k = k_of[levels]                                                 # (B, C, H, W)
        picked = logp.gather(2, k.unsqueeze(2)).squeeze(2)
        return picked - torch.log(counts[k])


#: The largest grey level of an 8-bit image; levels are 0..GREY_MAX, value g / GREY_MAX.
GREY_MAX = 255


def grey_levels(x: Tensor) -> Tensor:
    """(B, C, H, W) int64 0..255: the 8-bit grey level of each pixel value in [0, 1]."""
    return torch.round(x.clamp(0, 1).double() * GREY_MAX).long()


def log_normal_mass(lo: Tensor, hi: Tensor) -> Tensor:
    """log(Φ(hi) − Φ(lo)) for standardised bounds lo < hi (±inf allowed), stable in both
    tails: in the upper tail the mass is computed as Φ(−lo) − Φ(−hi)."""
    upper = lo > 0
    a = torch.where(upper, -hi, lo)
    b = torch.where(upper, -lo, hi)
    lb, la = torch.special.log_ndtr(b), torch.special.log_ndtr(a)
    # log(e^lb - e^la) = lb + log(1 - e^(la - lb)); la <= lb
    return lb + torch.log(-torch.expm1(torch.clamp(la - lb, max=-1e-300)))


def discrete_nll_bits(likelihood: Likelihood, x: Tensor, params: Tensor) -> Tensor:
    """Negative log-likelihood of the 8-bit images ``x`` in bits per pixel, per image.

    Parameters
    ----------
    x : (B, C, H, W) in [0, 1], values g / 255 of 8-bit images.
    params : the decoder's output for them.

    Returns
    -------
    (B,) float64 bits per pixel (per channel value): 8 is a uniform guess over 256
    levels, 0 a certain one.
    """
    log_p = likelihood.grey_level_log_prob(grey_levels(x), params)
    return -log_p.flatten(1).mean(1) / math.log(2)


def make_likelihood(cfg: ObjectiveConfig) -> Likelihood:
    """The likelihood named by ``cfg.likelihood``."""
    if cfg.likelihood == "gaussian":
        return GaussianLikelihood(cfg.gaussian_std)
    if cfg.likelihood == "bernoulli":
        return BernoulliLikelihood()
    return CategoricalLikelihood(cfg.levels)
