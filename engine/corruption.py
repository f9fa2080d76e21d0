"""Input corruption for denoising autoencoders, applied on the device, per batch.

The training loss compares the reconstruction of the corrupted input x~
with the *clean* x: E = L(x, g(f(x~))).
"""

from __future__ import annotations

import torch
from torch import Tensor


def corrupt(x: Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> Tensor:
    """A corrupted copy of ``x``.

    Parameters
    ----------
    x : (B, C, H, W) float in [0, 1]
    kind : ``none``, ``gaussian`` (additive N(0, level^2), clipped to [0, 1]),
        ``masking`` (each pixel set to 0 with probability ``level``) or
        ``salt_pepper`` (each pixel set to 0 or 1, equally likely, with probability ``level``).
    level : noise standard deviation or corruption probability.
    generator : the run's seeded generator, on x's device.

    Returns
    -------
    (B, C, H, W) tensor; ``x`` itself when kind is ``none`` or level is 0.
    """
    if kind == "none" or level <= 0:
        return x
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + level * noise).clamp_(0.0, 1.0)
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    if kind == "masking":
        return x * (u >= level)
    if kind == "salt_pepper":
        hit = u < level
        # Reuse u: given a hit, u/level is uniform on [0, 1), so it picks salt or pepper fairly.
        salt = (u < level / 2).to(x.dtype)
        return torch.where(hit, salt, x)
    raise ValueError(f"unknown corruption {kind!r}")
