"""The training objective: reconstruction NLL plus the chosen regularisers.

Per image, averaged over the batch::

    total = recon + beta * kl + lambda_s * sparsity + lambda_c * contractive

Each term is reported *unweighted* in its natural unit (nats, L1 norm of the
code, squared Frobenius norm of the Jacobian), so the curves show what each
quantity does; ``total`` is the weighted sum that is minimised. The term
names are the series names everywhere: plots, session files, CLI output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from engine.models.mlp import MLPEncoder

if TYPE_CHECKING:
    from engine.config import ObjectiveConfig


def kl_to_standard_normal(mean: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mean, exp(logvar)) || N(0, 1)) per dimension, closed form.

    Parameters
    ----------
    mean, logvar : (B, D)

    Returns
    -------
    (B, D) nats.
    """
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar)


def jacobian_frobenius_sq(h: Tensor, x: Tensor, create_graph: bool) -> Tensor:
    """Exact ||dh/dx||_F^2 per image, for any encoder.

    One vector-Jacobian product per code dimension, batched with
    ``is_grads_batched`` (vmap) so it is a single call.

    Parameters
    ----------
    h : (B, D) code activations computed from ``x``.
    x : (B, ...) input with ``requires_grad``.

    Returns
    -------
    (B,)
    """
    d = h.shape[1]
    eye = torch.eye(d, device=h.device, dtype=h.dtype)
    grad_out = eye[:, None, :].expand(d, h.shape[0], d)
    (jac,) = torch.autograd.grad(h, x, grad_outputs=grad_out, is_grads_batched=True,
                                 create_graph=create_graph)
    # jac: (D, B, ...) — row i holds the gradient of h_i for every image.
    return jac.pow(2).flatten(2).sum((0, 2))


def jacobian_frobenius_sq_projected(h: Tensor, x: Tensor, n: int, create_graph: bool,
                                    generator: torch.Generator | None = None) -> Tensor:
    """Unbiased random-projection estimate of ||dh/dx||_F^2 per image.

    E_v ||J^T v||^2 = tr(J J^T) = ||J||_F^2 for v ~ N(0, I): ``n`` backward
    passes instead of D, at the price of variance.

    Returns
    -------
    (B,)
    """
    total = torch.zeros(h.shape[0], device=h.device, dtype=h.dtype)
    for i in range(n):
        v = torch.randn(h.shape, generator=generator, device=h.device, dtype=h.dtype)
        (g,) = torch.autograd.grad(h, x, grad_outputs=v, create_graph=create_graph,
                                   retain_graph=True)
        total = total + g.pow(2).flatten(1).sum(1)
    return total / n


def code_slope(code_act: nn.Module, h: Tensor) -> Tensor | None:
    """a'(u) of the code activation, written with its output h = a(u), or None.

    Parameters
    ----------
    code_act : the encoder's code activation (Sigmoid, Tanh, ReLU, Identity).
    h : (B, D) its output.

    Returns
    -------
    (B, D), or None for an activation with no closed form here.
    """
    kind = type(code_act).__name__
    if kind == "Sigmoid":
        return h * (1 - h)
    if kind == "Tanh":
        return 1 - h.pow(2)
    if kind == "ReLU":
        return (h > 0).to(h.dtype)
    if kind == "Identity":
        return torch.ones_like(h)
    return None


def is_single_layer(model: nn.Module) -> bool:
    """Whether the encoder is one affine map and a code activation: h = a(W x + b)."""
    enc = model.encoder
    return isinstance(enc.body, MLPEncoder) and len(enc.body.body) == 1  # only the Flatten


def single_layer_jacobian_sq(model: nn.Module, x: Tensor, h: Tensor) -> Tensor | None:
    """Closed-form ||dh/dx||_F^2 for a one-layer encoder h = a(W x + b), else None.

    The Jacobian is diag(a'(u)) W, so its squared norm is
    sum_i a'(u_i)^2 ||W_i||^2: no backward pass per code unit. For the
    lecture's contractive AE (sigmoid, a' = h (1 - h)) this is exact and
    cheap; deeper encoders fall back to :func:`jacobian_frobenius_sq`.
    """
    if model.variational or not is_single_layer(model):
        return None  # hidden layers (more than the Flatten), a conv or a Gaussian encoder
    slope = code_slope(model.encoder.code_act, h)
    if slope is None:
        return None
    w_sq = model.encoder.body.head.weight.pow(2).sum(1)  # (D,)
    return (slope.pow(2) * w_sq).sum(1)


class Objective:
    """Computes the named loss terms for a batch.

    Parameters
    ----------
    cfg : the objective settings (likelihood is taken from the model).
    """

    def __init__(self, cfg: "ObjectiveConfig"):
        self.cfg = cfg

    def term_names(self, variational: bool) -> list[str]:
        """The names this objective reports, in plotting order."""
        names = ["total", "recon"]
        if variational:
            names += ["kl", "elbo"]
        if self.cfg.sparsity > 0:
            names.append("sparsity")
        if self.cfg.contractive > 0:
            names.append("contractive")
        return names

    def __call__(self, model: nn.Module, x: Tensor, x_in: Tensor | None = None,
                 generator: torch.Generator | None = None,
                 create_graph: bool = True) -> tuple[dict[str, Tensor], object, Tensor]:
        """Loss terms for one batch.

        Parameters
        ----------
        model : the autoencoder.
        x : (B, C, H, W) clean images, the reconstruction target.
        x_in : (B, C, H, W) the encoder input (corrupted for denoising); defaults to ``x``.
        generator : the seeded generator for reparameterisation and projections.
        create_graph : False when evaluating (no parameter gradients needed).

        Returns
        -------
        terms : dict of scalar tensors, batch means per image (``total`` is minimised).
        code : the encoder's :class:`Code`.
        params : (B, C*m, H, W) decoder output.
        """
        cfg = self.cfg
        x_in = x if x_in is None else x_in
        need_jac = cfg.contractive > 0
        if need_jac:
            x_in = x_in.detach().requires_grad_(True)
        code = model.encoder(x_in, generator)
        params = model.decoder(code.z)
        recon = model.likelihood.nll(x, params).mean()
        terms: dict[str, Tensor] = {"recon": recon}
        total = recon
        if code.mean is not None:
            kl = kl_to_standard_normal(code.mean, code.logvar).sum(1).mean()
            terms["kl"] = kl
            terms["elbo"] = -(recon + kl).detach()
            total = total + cfg.beta * kl
        if cfg.sparsity > 0:
            sparsity = code.h.abs().sum(1).mean()
            terms["sparsity"] = sparsity
            total = total + cfg.sparsity * sparsity
        if need_jac:
            with torch.enable_grad():
                single = single_layer_jacobian_sq(model, x_in, code.h)
                if cfg.contractive_estimator == "exact" and single is not None:
                    jac = single
                elif cfg.contractive_estimator == "exact":
                    jac = jacobian_frobenius_sq(code.h, x_in, create_graph)
                else:
                    jac = jacobian_frobenius_sq_projected(code.h, x_in, cfg.projections,
                                                          create_graph, generator)
            contractive = jac.mean()
            terms["contractive"] = contractive
            total = total + cfg.contractive * contractive
        terms["total"] = total
        # Report in plotting order (total first): dict order is the series order everywhere.
        ordered = {k: terms[k] for k in self.term_names(code.mean is not None)}
        return ordered, code, params
