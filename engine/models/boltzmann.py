"""A restricted Boltzmann machine's mathematics: energy, free energy, Gibbs sampling, log Z.

Binary hidden units h in {0, 1}^H; visible units v that are Bernoulli
(grey values read as probabilities, as the autoencoder's Bernoulli
likelihood reads them) or Gaussian with a fixed standard deviation σ
(for continuous data such as the 2-D point sets). With weights W (H, D),
visible biases b (D,) and hidden biases c (H,):

=========  =======================================  ==============================================
visible    energy E(v, h)                           free energy F(v) = -log Σ_h exp(-E(v, h))
=========  =======================================  ==============================================
Bernoulli  -b·v - c·h - h·Wv                        -b·v - Σ_j softplus(c_j + W_j·v)
Gaussian   ‖v - b‖²/2σ² - c·h - h·Wv/σ               ‖v - b‖²/2σ² - Σ_j softplus(c_j + W_j·v/σ)
=========  =======================================  ==============================================

p(h_j = 1 | v) = sigmoid(c_j + W_j·v') with v' = v (Bernoulli) or v/σ
(Gaussian); p(v | h) is Bernoulli(sigmoid(b + Wᵀh)) or N(b + σWᵀh, σ²).
p(v) = exp(-F(v)) / Z, and log Z is what makes the log-likelihood hard:

- :meth:`BoltzmannMachine.log_z_exact` sums over all 2^H hidden states
  (the visible units integrate out in closed form), for H <= 20;
- :func:`~engine.models.boltzmann.ais_log_z` estimates it by annealed
  importance sampling from the machine with W = 0, c = 0 (Salakhutdinov &
  Murray, 2008), with an error bar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

EXACT_MAX_HIDDEN = 20   # enumerate 2^H hidden states up to this H (2^20 ≈ 1M)
_STATE_CHUNK = 1 << 13  # hidden states per pass of the enumeration


class BoltzmannMachine(nn.Module):
    """The parameters of an RBM and everything computed from them.

    Parameters
    ----------
    visible, hidden : D and H.
    kind : ``bernoulli`` or ``gaussian`` visible units.
    std : σ of Gaussian visible units (ignored for Bernoulli ones).

    All methods take flattened visible states ``v`` (B, D) and hidden states
    ``h`` (B, H).
    """

    def __init__(self, visible: int, hidden: int, kind: str = "bernoulli", std: float = 1.0):
        super().__init__()
        if kind not in ("bernoulli", "gaussian"):
            raise ValueError(f"visible units must be bernoulli or gaussian, not {kind!r}")
        self.kind = kind
        self.std = float(std) if kind == "gaussian" else 1.0
        # Small random weights, zero biases (Hinton, "A practical guide to training RBMs").
        self.weight = nn.Parameter(0.01 * torch.randn(hidden, visible))
        self.visible_bias = nn.Parameter(torch.zeros(visible))
        self.hidden_bias = nn.Parameter(torch.zeros(hidden))

    @property
    def n_visible(self) -> int:
        return self.weight.shape[1]

    @property
    def n_hidden(self) -> int:
        return self.weight.shape[0]

    # -- conditionals -----------------------------------------------------------------
    def hidden_logits(self, v: Tensor) -> Tensor:
        """c + W v' (B, H): the logits of p(h = 1 | v)."""
        return F.linear(v / self.std if self.kind == "gaussian" else v, self.weight,
                        self.hidden_bias)

    def hidden_probs(self, v: Tensor) -> Tensor:
        """p(h_j = 1 | v), (B, H): the stochastic encoder."""
        return torch.sigmoid(self.hidden_logits(v))

    def visible_params(self, h: Tensor) -> Tensor:
        """(B, D) the parameter of p(v | h): logits b + Wᵀh, or the Gaussian's mean."""
        if self.kind == "gaussian":
            return self.visible_bias + self.std * (h @ self.weight)
        return self.visible_bias + h @ self.weight

    def visible_mean(self, h: Tensor) -> Tensor:
        """E[v | h], (B, D): the stochastic decoder's mean."""
        p = self.visible_params(h)
        return p if self.kind == "gaussian" else torch.sigmoid(p)

    def sample_hidden(self, v: Tensor, generator: torch.Generator | None) -> Tensor:
        return torch.bernoulli(self.hidden_probs(v), generator=generator)

    def sample_visible(self, h: Tensor, generator: torch.Generator | None) -> Tensor:
        p = self.visible_params(h)
        if self.kind == "gaussian":
            return p + self.std * torch.randn(p.shape, generator=generator, device=p.device,
                                              dtype=p.dtype)
        return torch.bernoulli(torch.sigmoid(p), generator=generator)

    def gibbs(self, v: Tensor, steps: int, generator: torch.Generator | None) -> Tensor:
        """``steps`` alternating Gibbs updates v -> h -> v; returns the last sampled v (B, D)."""
        for _ in range(steps):
            v = self.sample_visible(self.sample_hidden(v, generator), generator)
        return v

    # -- energies -----------------------------------------------------------------------
    def _visible_term(self, v: Tensor) -> Tensor:
        """The part of -E that involves v alone: b·v, or -‖v - b‖²/2σ²; (B,)."""
        if self.kind == "gaussian":
            return -(v - self.visible_bias).pow(2).sum(1) / (2 * self.std ** 2)
        return v @ self.visible_bias

    def energy(self, v: Tensor, h: Tensor) -> Tensor:
        """E(v, h), (B,)."""
        vs = v / self.std if self.kind == "gaussian" else v
        return -(self._visible_term(v) + h @ self.hidden_bias
                 + ((h @ self.weight) * vs).sum(1))

    def free_energy(self, v: Tensor) -> Tensor:
        """F(v) = -log Σ_h exp(-E(v, h)), (B,)."""
        return -self._visible_term(v) - F.softplus(self.hidden_logits(v)).sum(1)

    # -- the partition function -----------------------------------------------------------
    def log_z_given_hidden(self, h: Tensor) -> Tensor:
        """log Σ_v exp(-E(v, h)) (or ∫ dv) for each hidden state h (S, H), (S,)."""
        a = self.visible_params(h)
        if self.kind == "gaussian":
            b = self.visible_bias
            d = self.n_visible
            return (h @ self.hidden_bias + (a.pow(2).sum(1) - b.pow(2).sum()) / (2 * self.std ** 2)
                    + 0.5 * d * math.log(2 * math.pi * self.std ** 2))
        return h @ self.hidden_bias + F.softplus(a).sum(1)

    def log_z_exact(self) -> Tensor:
        """log Z by enumerating all 2^H hidden states (scalar; differentiable).

        Raises
        ------
        ValueError
            For more than :data:`EXACT_MAX_HIDDEN` hidden units.
        """
        n = self.n_hidden
        if n > EXACT_MAX_HIDDEN:
            raise ValueError(f"{n} hidden units: 2^{n} states are too many to enumerate "
                             f"(at most {EXACT_MAX_HIDDEN}); estimate log Z by AIS instead")
        bits = torch.arange(n, device=self.weight.device)
        parts = []
        for start in range(0, 1 << n, _STATE_CHUNK):
            idx = torch.arange(start, min(start + _STATE_CHUNK, 1 << n), device=bits.device)
            h = ((idx[:, None] >> bits) & 1).to(self.weight.dtype)
            parts.append(torch.logsumexp(self.log_z_given_hidden(h), 0))
        return torch.logsumexp(torch.stack(parts), 0)


@dataclass(frozen=True)
class AisEstimate:
    """log Z by annealed importance sampling.

    Attributes
    ----------
    log_z : the estimate log Ẑ = log Z_0 + log mean(w).
    lower, upper : log(Ẑ ∓ 3 standard errors of the mean weight); lower is -inf
        when three standard errors exceed the mean (the estimate is then unreliable).
    chains, steps : AIS runs and intermediate temperatures used.
    """

    log_z: float
    lower: float
    upper: float
    chains: int
    steps: int


@torch.no_grad()
def ais_log_z(machine: BoltzmannMachine, chains: int, steps: int,
              generator: torch.Generator | None) -> AisEstimate:
    """Estimate log Z of ``machine`` by AIS (Salakhutdinov & Murray, 2008).

    The base machine has the same visible biases and W = 0, c = 0, so its
    log Z_0 is known in closed form; the intermediate machines scale W and
    c by β_k (k = 0..steps, β linear from 0 to 1) and the base's visible
    part by 1 - β_k. Each of ``chains`` runs starts from an exact sample of
    the base machine and moves by one Gibbs sweep per temperature.
    """
    w, b, c = machine.weight, machine.visible_bias, machine.hidden_bias
    gaussian = machine.kind == "gaussian"
    std = machine.std
    d, n_hidden = machine.n_visible, machine.n_hidden
    betas = torch.linspace(0.0, 1.0, steps + 1, device=w.device, dtype=w.dtype)

    def log_p_star(v: Tensor, beta: Tensor) -> Tensor:
        # The base shares the target's visible term, so only the hidden part anneals.
        vs = v / std if gaussian else v
        return machine._visible_term(v) + F.softplus(beta * F.linear(vs, w, c)).sum(1)

    if gaussian:
        v = b + std * torch.randn((chains, d), generator=generator, device=w.device,
                                  dtype=w.dtype)
        log_z0 = n_hidden * math.log(2.0) + 0.5 * d * math.log(2 * math.pi * std ** 2)
    else:
        v = torch.bernoulli(torch.sigmoid(b).expand(chains, d), generator=generator)
        log_z0 = n_hidden * math.log(2.0) + float(F.softplus(b).sum())
    log_w = torch.zeros(chains, device=w.device, dtype=torch.float64)
    for k in range(1, steps + 1):
        log_w += (log_p_star(v, betas[k]) - log_p_star(v, betas[k - 1])).double()
        # One Gibbs sweep that leaves the k-th machine invariant.
        vs = v / std if gaussian else v
        h = torch.bernoulli(torch.sigmoid(betas[k] * F.linear(vs, w, c)), generator=generator)
        mean = b + betas[k] * (std * (h @ w) if gaussian else h @ w)
        if gaussian:
            v = mean + std * torch.randn(mean.shape, generator=generator, device=w.device,
                                         dtype=w.dtype)
        else:
            v = torch.bernoulli(torch.sigmoid(mean), generator=generator)
    top = float(log_w.max())
    r = torch.exp(log_w - top)
    mean_r = float(r.mean())
    sem = float(r.std(unbiased=True)) / math.sqrt(chains) if chains > 1 else float("inf")
    base = log_z0 + top
    lower = base + math.log(mean_r - 3 * sem) if mean_r > 3 * sem else float("-inf")
    return AisEstimate(log_z=base + math.log(mean_r), lower=lower,
                       upper=base + math.log(mean_r + 3 * sem), chains=chains, steps=steps)


@dataclass(frozen=True)
class LogPartition:
    """An RBM's log Z at an epoch, from its validation terms (both per image).

    Attributes
    ----------
    nll : -log p(v), the validation ``nll_exact`` or ``nll_ais``.
    log_z : the nll minus the validation free energy.
    exact : summed over every hidden state (else an AIS estimate).
    below, above : 3 standard errors of an AIS estimate, below and above (None when the
        snapshot keeps none).
    """

    nll: float
    log_z: float
    exact: bool
    below: float | None = None
    above: float | None = None


def log_partition(val: dict[str, float], arrays: dict) -> LogPartition | None:
    """log Z from one epoch's validation terms and its snapshot's arrays (the AIS error
    bar, ``log_z_below`` / ``log_z_above``); None when the terms are not there."""
    name = next((t for t in ("nll_exact", "nll_ais") if t in val), None)
    if name is None or val.get(name) is None or val.get("free_energy") is None:
        return None
    nll = float(val[name])
    bar = ("log_z_below" in arrays and name == "nll_ais")
    return LogPartition(nll, nll - float(val["free_energy"]), name == "nll_exact",
                        float(arrays["log_z_below"]) if bar else None,
                        float(arrays["log_z_above"]) if bar else None)
