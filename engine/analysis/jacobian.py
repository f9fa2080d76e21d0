"""Singular values of the encoder Jacobian at probe points: what contraction does.

The Jacobian J(x) = d E_q[z|x] / dx (the code h for a deterministic encoder,
the mean for a VAE) says how the code moves when the input moves. A
contractive autoencoder penalises ||J||_F^2, which presses the singular
values down in every direction except the few along the data manifold
(Rifai et al. 2011): its spectrum falls off steeply, a plain one's does not.

Cost, which a snapshot pays every epoch (``benchmarks/bench_snapshot_views.py``):

- the Jacobians: closed form diag(a'(u)) W for a one-layer encoder
  h = a(W x + b) (the sparse, contractive and identity-risk presets), else
  one per point by reverse mode (D vector-Jacobian products) or forward mode
  (N = C*H*W Jacobian-vector products), whichever is fewer, batched with
  ``torch.func.vmap``;
- the singular values: from the eigenvalues of the R x R Gram matrix
  (R = min(D, N)), 2-3 times faster than an SVD for the codes of 256-1024
  units, whose R^3 then dominates (for a one-layer encoder the Gram matrix
  is diag(s) W W^T diag(s), with W W^T formed once); so the number of points
  is what an epoch can afford (:func:`spectrum_points`): all 16 for codes up
  to ~180 units, 5 at 256, 1 from 512; a linear one-layer code has one
  Jacobian everywhere, computed once.

The decompositions run on the CPU whatever device trains: the matrices are
small (R x R, or a Jacobian of at most a few million values), and on a GPU
a batch of small float64 eigen- or singular-value problems is many small
kernels and host syncs, at a rate the budget above was not measured for.
The products that form the Gram matrices stay on the training device.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.func import jacfwd, jacrev, vmap

#: Most points of the probe set whose spectrum a snapshot carries (the first ones).
JACOBIAN_POINTS = 16
#: Seconds a snapshot may spend on spectra, at this machine's measured rates below:
#: about 5-10 % of an epoch of the presets that need the most (256-1024-unit codes).
SPECTRUM_SECONDS = 0.02
_GEMM_FLOPS_PER_S = 7e10     # float32 matrix products, one thread of the 2-core machine
_EIG_S_PER_R3 = 2e-10        # float64 eigvalsh of an R x R matrix there: ~2e-10 R^3 s
#: Up to this R an exact SVD is cheap; above it the Gram matrix is used.
_SVD_UP_TO = 64
#: A Jacobian of more values than this is not copied to the host for its exact SVD: its
#: float64 Gram matrix (R x R) is formed where it is and copied instead.
_HOST_COPY_VALUES = 1 << 22


def _code_function(model: nn.Module):
    """x (B, C, H, W) -> E_q[z|x] (B, D), differentiable in x."""
    encoder = getattr(model, "encoder", None)
    if encoder is not None and hasattr(encoder, "code_activations"):
        return encoder.code_activations
    return model.encode_mean


def one_layer_parts(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor] | None:
    """(a'(W x + b), W) of a one-layer encoder h = a(W x + b) (a VAE's mean: slope 1), else None.

    Returns
    -------
    slope : (J, D); w : (D, N). None when the encoder has hidden layers, is a conv, or
    its code activation has no closed-form slope.
    """
    # Imported here: engine.models imports this module (the autoencoder's snapshot).
    from engine.models.objective import code_slope, is_single_layer

    enc = getattr(model, "encoder", None)
    if enc is None or not hasattr(enc, "body") or not is_single_layer(model):
        return None
    d = enc.latent_dim
    w = enc.body.head.weight[:d].detach()                        # (D, N): a VAE's mean rows
    if enc.variational:
        return torch.ones(x.shape[0], d, device=x.device, dtype=x.dtype), w
    slope = code_slope(enc.code_act, enc.code_activations(x).detach())
    return None if slope is None else (slope, w)


def one_layer_jacobian(model: nn.Module, x: Tensor) -> Tensor | None:
    """diag(a'(W x + b)) W for a one-layer encoder, (J, D, N); else None."""
    parts = one_layer_parts(model, x)
    return None if parts is None else parts[0][:, :, None] * parts[1][None]


def encoder_jacobian(model: nn.Module, x: Tensor) -> Tensor:
    """d E_q[z|x] / dx at each image, flattened over the input.

    Parameters
    ----------
    model : an autoencoder (anything with ``encoder.code_activations`` or
        ``encode_mean``), in eval mode.
    x : (J, C, H, W) inputs (clean probe images).

    Returns
    -------
    (J, D, N) float32, N = C*H*W: row d holds the gradient of code unit d.
    """
    closed = one_layer_jacobian(model, x)
    if closed is not None:
        return closed
    code = _code_function(model)

    def one(xi: Tensor) -> Tensor:  # (C, H, W) -> (D,)
        return code(xi.unsqueeze(0)).squeeze(0)

    n = x[0].numel()
    with torch.enable_grad():  # a snapshot runs under no_grad; the transforms need autograd
        d = one(x[0].detach()).shape[0]
        # Reverse mode costs D products per point, forward mode N: take the fewer.
        jac = vmap(jacrev(one) if d <= n else jacfwd(one))(x.detach())
    return jac.reshape(x.shape[0], -1, n).detach()


def spectrum_points(d: int, n: int, available: int, closed_form: bool = False) -> int:
    """How many points' spectra a snapshot computes: all it may, within SPECTRUM_SECONDS.

    Parameters
    ----------
    d, n : code units and input values (the Jacobian is D x N).
    available : probe points there are.
    closed_form : the Jacobians cost nothing to form (one-layer encoder).

    Returns
    -------
    int in [1, min(available, JACOBIAN_POINTS)].
    """
    r, big = min(d, n), max(d, n)
    if closed_form and d <= n:
        gemm = 0.0                                  # W W^T once, shared by every point
    else:
        gemm = 2.0 * r * r * big + (0.0 if closed_form else 2.0 * d * n * r)
    per_point = gemm / _GEMM_FLOPS_PER_S + _EIG_S_PER_R3 * r ** 3
    most = min(available, JACOBIAN_POINTS)
    return int(max(1, min(most, SPECTRUM_SECONDS // per_point)))


def singular_values(jac: Tensor) -> Tensor:
    """Singular values of each matrix of a batch, descending.

    Parameters
    ----------
    jac : (J, D, N)

    Returns
    -------
    (J, R) float32 on the CPU, R = min(D, N), descending, >= 0.
    """
    j, d, n = jac.shape
    r = min(d, n)
    if r <= _SVD_UP_TO:
        if jac.numel() <= _HOST_COPY_VALUES:
            return torch.linalg.svdvals(jac.to("cpu", torch.float64)).float()
        # A wide 64x64 colour Jacobian: the float64 Gram matrix keeps singular values down
        # to ~1e-8 sigma_max, as far as the float32 Jacobian itself resolves them.
        wide = jac.double()
        return gram_singular_values(wide @ wide.mT if d <= n else wide.mT @ wide)
    # sigma_i^2 are the eigenvalues of the R x R Gram matrix. It is formed in float32
    # (a BLAS-3 product, the bulk of the cost) and diagonalised in float64; values below
    # ~1e-3 sigma_max lose relative precision, which a log-scale view shows as a floor.
    return gram_singular_values(jac @ jac.mT if d <= n else jac.mT @ jac)


def gram_singular_values(gram: Tensor) -> Tensor:
    """Singular values of A from its Gram matrices A A^T (or A^T A), (J, R, R) -> (J, R) on
    the CPU (where the eigenvalues are computed)."""
    eig = torch.linalg.eigvalsh(gram.to("cpu", torch.float64))          # ascending
    return eig.clamp_min(0.0).sqrt().flip(-1).float()


def encoder_jacobian_spectrum(model: nn.Module, x: Tensor) -> Tensor:
    """Singular values of the encoder Jacobian at each input.

    Parameters
    ----------
    model : an autoencoder in eval mode.
    x : (J, C, H, W) inputs.

    Returns
    -------
    (J, R) float32 descending, R = min(D, C*H*W).
    """
    parts = one_layer_parts(model, x)
    if parts is None:
        return singular_values(encoder_jacobian(model, x))
    slope, w = parts
    if x.shape[0] > 1 and bool(torch.all(slope == slope[:1])):
        # A linear one-layer code (or a VAE's mean): one Jacobian everywhere, one spectrum.
        return singular_values(slope[:1, :, None] * w[None]).expand(x.shape[0], -1).clone()
    d, n = w.shape
    if _SVD_UP_TO < d <= n:
        # J J^T = diag(s) W W^T diag(s): W W^T once for all points, no Jacobian formed.
        k = w @ w.mT
        return gram_singular_values(slope[:, :, None] * k[None] * slope[:, None, :])
    return singular_values(slope[:, :, None] * w[None])


def snapshot_spectrum(model: nn.Module, probe_images: Tensor) -> Tensor:
    """The spectra a snapshot carries: at the first :func:`spectrum_points` probe images.

    Parameters
    ----------
    model : an autoencoder in eval mode.
    probe_images : (P, C, H, W) the clean probe images.

    Returns
    -------
    (J, R) float32 descending, 1 <= J <= min(P, JACOBIAN_POINTS).
    """
    most = probe_images[:JACOBIAN_POINTS]
    parts = one_layer_parts(model, most)
    if parts is not None and bool(torch.all(parts[0] == parts[0][:1])):
        return encoder_jacobian_spectrum(model, most)   # one Jacobian for all: one spectrum
    d = _code_function(model)(most[:1]).shape[1]
    n = probe_images[0].numel()
    j = spectrum_points(d, n, probe_images.shape[0], parts is not None)
    return encoder_jacobian_spectrum(model, probe_images[:j])


def frobenius_norm(spectrum: Tensor) -> Tensor:
    """||J||_F = sqrt(sum of squared singular values), (J, R) -> (J,)."""
    return spectrum.double().pow(2).sum(-1).sqrt().to(spectrum.dtype)
