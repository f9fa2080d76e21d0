"""A CPU copy of a model's decoder, for decoding latent points while training goes on elsewhere.

The latent explorer, the samples panel and session replay decode with their
own copy built from an ``EpochSnapshot``'s weights (the model family's
interactive parts, see :func:`engine.models.cpu_copy`), so dragging never
waits for the training thread and never touches its weights.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.config import RunConfig
from engine.errors import SessionError
from engine.models import Model, cpu_copy, family_class


class LatentDecoder:
    """Decodes codes to mean images on the CPU.

    Parameters
    ----------
    config : the run's config (family, architecture, likelihood).
    image_shape : (C, H, W).
    weights : an ``EpochSnapshot.weights`` dict (``decoder.*`` arrays).
    model : a CPU copy of those weights already built (:func:`engine.models.cpu_copy`),
        used instead of building another (the window keeps one copy per epoch for
        every view); ``weights`` is then ignored.
    weights_epoch : the epoch those weights are from (a session keeps weights at some
        epochs only: a replayed epoch may decode with an earlier one's), for labels.

    Raises
    ------
    SessionError
        When the family has no decoder, or the weights do not fit the
        architecture the config describes.
    """

    def __init__(self, config: RunConfig, image_shape: tuple[int, int, int],
                 weights: dict[str, np.ndarray] | None = None, model: Model | None = None,
                 weights_epoch: int | None = None):
        if not self.available(config):
            raise SessionError(f"a {config.model.family} has no decoder to explore")
        if model is None:
            try:
                model = cpu_copy(config, tuple(image_shape), weights or {})
            except ValueError as e:
                raise SessionError(
                    f"the stored decoder does not fit the run's config: {e}") from None
        if family_class(config).decoder_part in model.missing_parts:
            raise SessionError("the snapshot carries no decoder weights")
        self._model = model
        self.weights_epoch = weights_epoch
        self.latent_dim = config.model.latent_dim
        self.image_shape = tuple(image_shape)

    @staticmethod
    def available(config: RunConfig) -> bool:
        """Whether runs of this config's family have a decoder to explore."""
        return family_class(config).decoder_part is not None

    def decode(self, z: np.ndarray) -> np.ndarray:
        """z (N, D) -> mean images (N, C, H, W) float32 in [0, 1]."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        with torch.inference_mode():
            out = self._model.decode_mean(torch.from_numpy(z))
        return out.numpy()

    def decode_sample(self, z: np.ndarray, seed: int = 0) -> np.ndarray:
        """z (N, D) -> one image drawn from p(x|z) each (the model's ``decode_sample``:
        Bernoulli, Gaussian or Categorical pixels), (N, C, H, W); the same seed draws the
        same pixels."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        generator = torch.Generator().manual_seed(int(seed))
        with torch.inference_mode():
            out = self._model.decode_sample(torch.from_numpy(z), generator=generator)
        return out.numpy()

    def prior_codes(self, n: int, seed: int = 0) -> np.ndarray:
        """n codes drawn from the prior N(0, I): (n, D) float32."""
        rng = np.random.default_rng(seed)
        return rng.standard_normal((n, self.latent_dim)).astype(np.float32)

    def sample(self, n: int, seed: int = 0, draw: bool = False) -> np.ndarray:
        """Images of n codes drawn from the prior N(0, I): (n, C, H, W) — the means of
        p(x|z), or with ``draw`` one sample of p(x|z) each."""
        z = self.prior_codes(n, seed)
        return self.decode_sample(z, seed) if draw else self.decode(z)
