"""Per-epoch evaluation: validation loss terms and the epoch snapshot.

Evaluation draws its noise (corruption, reparameterisation) from generators
of its own, seeded from the run's seed, so it never shifts the training
stream: a run evaluated every epoch and a resumed run stay identical.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from engine.checkpoint import module_arrays
from engine.corruption import corrupt
from engine.events import EpochSnapshot
from engine.objective import kl_to_standard_normal

if TYPE_CHECKING:
    from engine.trainer import Trainer

EVAL_BATCH = 500


class Evaluator:
    """Computes validation terms and snapshots for a :class:`~engine.trainer.Trainer`."""

    def __init__(self, trainer: "Trainer", map_points: int):
        self.t = trainer
        self._kl_epoch = -1
        self._kl_per_dim: np.ndarray | None = None

    def _generator(self, salt: int) -> torch.Generator:
        g = torch.Generator(device=self.t.device)
        g.manual_seed((self.t.config.seed * 1_000_003 + salt) % (2**63))
        return g

    def _batches(self, images: torch.Tensor):
        for i in range(0, images.shape[0], EVAL_BATCH):
            x = images[i:i + EVAL_BATCH]
            yield x.to(self.t.device, non_blocking=True) if x.device != self.t.device else x

    def validation_terms(self, epoch: int) -> dict[str, float]:
        """Mean of every term over the validation set (empty dict when there is none)."""
        t = self.t
        if t.val_images.shape[0] == 0:
            return {}
        obj = t.config.objective
        gen = self._generator(epoch)
        sums: dict[str, float] = {}
        kl_sum = None
        n = 0
        # The contractive term needs input gradients even when evaluating.
        with torch.set_grad_enabled(obj.contractive > 0):
            for x in self._batches(t.val_images):
                x_in = corrupt(x, obj.corruption, obj.corruption_level, gen)
                terms, code, _ = t.objective(t.model, x, x_in, gen, create_graph=False)
                m = x.shape[0]
                for k, v in terms.items():
                    sums[k] = sums.get(k, 0.0) + float(v.detach()) * m
                if code.mean is not None:
                    kl = kl_to_standard_normal(code.mean, code.logvar).detach().sum(0)
                    kl_sum = kl if kl_sum is None else kl_sum + kl
                n += m
        if kl_sum is not None:
            self._kl_per_dim = (kl_sum / n).cpu().numpy().astype(np.float32)
            self._kl_epoch = epoch
        return {k: v / n for k, v in sums.items()}

    @torch.no_grad()
    def _codes(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
        means, logvars = [], []
        for x in self._batches(images):
            code = self.t.model.encoder(x, sample=False)
            means.append(code.h)
            if code.logvar is not None:
                logvars.append(code.logvar)
        mean = torch.cat(means).cpu().numpy()
        return mean, (torch.cat(logvars).cpu().numpy() if logvars else None)

    @torch.no_grad()
    def snapshot(self, epoch: int) -> EpochSnapshot:
        """Probe reconstructions, latent codes, KL per dimension and decoder weights."""
        t = self.t
        obj = t.config.objective
        model = t.model
        probe = t.probe_images.to(t.device)
        # The same corruption every epoch (fixed seed) so epochs can be compared.
        probe_in = corrupt(probe, obj.corruption, obj.corruption_level, self._generator(-1))
        code = model.encoder(probe_in, sample=False)
        recon = model.likelihood.mean(model.decoder(code.z))
        map_mean, map_logvar = self._codes(t.map_images)
        kl = None
        if model.variational:
            if self._kl_epoch != epoch:  # no validation set: fall back to the probe codes
                kl = kl_to_standard_normal(code.mean, code.logvar).mean(0).cpu().numpy()
            else:
                kl = self._kl_per_dim
        return EpochSnapshot(
            epoch=epoch, step=t.step,
            probe_inputs=probe_in.cpu().numpy().astype(np.float32),
            probe_recon=recon.cpu().numpy().astype(np.float32),
            probe_latent_mean=code.h.cpu().numpy().astype(np.float32),
            probe_latent_logvar=None if code.logvar is None else code.logvar.cpu().numpy(),
            map_latents=map_mean.astype(np.float32),
            map_latent_logvar=map_logvar,
            kl_per_dim=None if kl is None else np.asarray(kl, dtype=np.float32),
            decoder=module_arrays(model.decoder))
