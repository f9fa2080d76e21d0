"""A CPU copy of a decoder, for decoding latent points while training goes on elsewhere.

The latent explorer and session replay decode with their own copy built
from an ``EpochSnapshot``'s decoder arrays, so dragging never waits for
the training thread and never touches its weights.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.checkpoint import load_module_arrays
from engine.config import RunConfig
from engine.errors import SessionError
from engine.models import build_autoencoder


class LatentDecoder:
    """Decodes codes to mean images on the CPU.

    Parameters
    ----------
    config : the run's config (architecture, likelihood).
    image_shape : (C, H, W).
    decoder_arrays : parameter name -> array, as in ``EpochSnapshot.decoder``.

    Raises
    ------
    SessionError
        When the arrays do not fit the architecture the config describes.
    """

    def __init__(self, config: RunConfig, image_shape: tuple[int, int, int],
                 decoder_arrays: dict[str, np.ndarray]):
        # Built on the meta device: no memory and, above all, no draws from
        # torch's global generator, which a training thread may be seeding.
        with torch.device("meta"):
            model = build_autoencoder(tuple(image_shape), config.model, config.objective)
        try:
            load_module_arrays(model.decoder, decoder_arrays, assign=True)
        except ValueError as e:
            raise SessionError(f"the stored decoder does not fit the run's config: {e}") from None
        self._decoder = model.decoder.eval()
        self._likelihood = model.likelihood
        self.latent_dim = config.model.latent_dim
        self.image_shape = tuple(image_shape)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """z (N, D) -> mean images (N, C, H, W) float32 in [0, 1]."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        with torch.inference_mode():
            out = self._likelihood.mean(self._decoder(torch.from_numpy(z)))
        return out.numpy()

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """Mean images of n codes drawn from the prior N(0, I): (n, C, H, W)."""
        rng = np.random.default_rng(seed)
        return self.decode(rng.standard_normal((n, self.latent_dim)).astype(np.float32))
