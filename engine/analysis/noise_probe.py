"""The noise slider: the probe images corrupted at a chosen level, the same every time.

The window applies :func:`corrupt_at` to the probe images and reconstructs
them on its CPU copy of the model, so a person can see at which level a
denoiser breaks. A fixed seed makes the slider deterministic: moving it
back and forth shows the same noisy images, and a level's noise pattern
does not flicker between epochs.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch
from torch import Tensor

from engine.corruption import corrupt

#: The corruption kinds of :func:`engine.corruption.corrupt` a slider offers.
KINDS = ("gaussian", "masking", "salt_pepper")

Images = TypeVar("Images", np.ndarray, Tensor)


def corrupt_at(x: Images, kind: str, level: float, seed: int = 0) -> Images:
    """``engine.corruption.corrupt`` with a generator seeded by ``seed``.

    Parameters
    ----------
    x : (B, C, H, W) in [0, 1], numpy or torch (a tensor on any device).
    kind : ``none``, ``gaussian``, ``masking`` or ``salt_pepper``.
    level : the noise std (gaussian) or the corruption probability.
    seed : the same seed gives the same noise for the same shape and kind.

    Returns
    -------
    (B, C, H, W) of the input's type; a copy (never ``x`` itself).
    """
    is_tensor = isinstance(x, Tensor)
    t = x if is_tensor else torch.from_numpy(np.asarray(x, dtype=np.float32))
    gen = torch.Generator(device=t.device).manual_seed(int(seed))
    with torch.no_grad():
        out = corrupt(t.clone(), kind, float(level), gen)
    return out if is_tensor else out.cpu().numpy()


def corruption_statistics(clean: Images, noisy: Images, kind: str) -> dict[str, float]:
    """What a corruption did, to check it against its level.

    Parameters
    ----------
    clean, noisy : (B, C, H, W) the images before and after.
    kind : the corruption's kind (decides what ``level`` is compared with).

    Returns
    -------
    dict with ``fraction_changed`` (pixels whose value changed: ≈ level for
    masking and salt-and-pepper on images with no pixel already at 0 or 1),
    ``mean_abs_change`` and ``change_std`` (std of noisy - clean: ≈ level for
    Gaussian noise away from the clipping at 0 and 1), and ``level_estimate``
    (the one of those that estimates the level for ``kind``).
    """
    c = np.asarray(clean.detach().cpu() if isinstance(clean, Tensor) else clean, np.float64)
    n = np.asarray(noisy.detach().cpu() if isinstance(noisy, Tensor) else noisy, np.float64)
    diff = n - c
    stats = {"fraction_changed": float(np.mean(diff != 0)),
             "mean_abs_change": float(np.mean(np.abs(diff))),
             "change_std": float(np.std(diff))}
    stats["level_estimate"] = (stats["change_std"] if kind == "gaussian"
                               else stats["fraction_changed"])
    return stats
