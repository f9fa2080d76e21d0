"""The research measures of an epoch, computed at training time into the snapshot's arrays.

The trainer calls :func:`epoch_measures` with the arrays a model's snapshot
already holds — the mean codes of the latent map's validation images
(``map_latents``) and, for a VAE, their log-variances — and the ground-truth
factors of those images when the data has them. Nothing is encoded again
and no weights are needed later: a session keeps these small arrays for
every epoch even where it keeps weights for a few (docs/session-format.md).

==========================  =========  ==============================================
array                       shape      what
==========================  =========  ==============================================
``mutual_information``      ()         I(x; z) under q, nats (He et al. 2019), a VAE's
``disentanglement``         (5,)       :data:`SCORES`, NaN at epochs not scored
``factor_code_mi``          (F, D)     I(z_d; v_k) / H(v_k), the matrix behind MIG
``dci_importance``          (D, F)     the DCI regressor's importance of z_d for v_k
==========================  =========  ==============================================

The disentanglement scores need a code of the data (a family whose traits
say ``encoder``) and factors; they cost tens of milliseconds, so they are
computed at the first epoch, every :data:`SCORE_EVERY` epochs and at the
run's last epoch, and the epochs between carry NaN (the views say so). The
mutual information costs about a millisecond and is computed every epoch.
"""

from __future__ import annotations

import numpy as np

from engine.analysis.dci import dci
from engine.analysis.disentanglement import factor_vae_score, mig
from engine.analysis.mutual_information import mutual_information

#: The entries of the ``disentanglement`` array, in order.
SCORES = ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness",
          "factor_vae")
#: In words, for ``info``, ``compare`` and the views.
SCORE_WORDS = {"mig": "MIG", "dci_disentanglement": "DCI disentanglement",
               "dci_completeness": "DCI completeness",
               "dci_informativeness": "DCI informativeness", "factor_vae": "FactorVAE score"}
#: Epochs between two disentanglement scorings (besides the first and the last).
SCORE_EVERY = 5
#: Fewer images than this cannot be scored (half of them fit DCI's regressor).
MIN_IMAGES = 20


def scored_epoch(epoch: int, last_epoch: int, every: int = SCORE_EVERY) -> bool:
    """Whether the disentanglement scores are computed at ``epoch``."""
    return epoch == 1 or epoch == last_epoch or epoch % every == 0


def disentanglement_arrays(codes: np.ndarray, factors: np.ndarray, seed: int = 0
                           ) -> dict[str, np.ndarray]:
    """MIG, DCI and the FactorVAE score of codes (M, D) against factors (M, F).

    Returns
    -------
    ``disentanglement`` (5,), ``factor_code_mi`` (F, D), ``dci_importance`` (D, F), float32.
    """
    codes = np.asarray(codes, np.float64)
    factors = np.asarray(factors, np.float64)
    score, matrix = mig(codes, factors)
    d = dci(codes, factors, seed=seed)
    values = [score, d.disentanglement, d.completeness, d.informativeness,
              factor_vae_score(codes, factors, seed=seed)]
    return {"disentanglement": np.asarray(values, np.float32),
            "factor_code_mi": matrix.astype(np.float32),
            "dci_importance": d.importance.astype(np.float32)}


def unscored_arrays(latent_dim: int, n_factors: int) -> dict[str, np.ndarray]:
    """The same arrays filled with NaN, for an epoch between two scorings (the session
    stores one row per epoch for each array, so every snapshot of a run has them)."""
    nan = np.float32("nan")
    return {"disentanglement": np.full(len(SCORES), nan, np.float32),
            "factor_code_mi": np.full((n_factors, latent_dim), nan, np.float32),
            "dci_importance": np.full((latent_dim, n_factors), nan, np.float32)}


def epoch_measures(arrays: dict[str, np.ndarray], factors: np.ndarray | None,
                   has_encoder: bool, epoch: int, last_epoch: int,
                   seed: int = 0) -> dict[str, np.ndarray]:
    """The measures of one epoch from its snapshot's arrays (see the module docstring).

    Parameters
    ----------
    arrays : the model's snapshot arrays (reads ``map_latents``, ``map_latent_logvar``).
    factors : (M, F) the map images' ground-truth factors, or None.
    has_encoder : the family's ``traits.encoder``: its ``map_latents`` are codes of the
        images (a GAN's are prior samples, which no factor explains).
    epoch, last_epoch : which epoch this is, of how many (:func:`scored_epoch`).
    seed : the run's seed; the same every epoch, so the epochs differ by the model alone.
    """
    out: dict[str, np.ndarray] = {}
    codes = arrays.get("map_latents")
    if not has_encoder or codes is None or len(codes) < 2:
        return out
    logvar = arrays.get("map_latent_logvar")
    if logvar is not None and logvar.shape == codes.shape:
        out["mutual_information"] = np.asarray(mutual_information(codes, logvar, seed),
                                               np.float32)
    if factors is None or len(factors) != len(codes) or len(codes) < MIN_IMAGES:
        return out
    if scored_epoch(epoch, last_epoch):
        out.update(disentanglement_arrays(codes, factors, seed))
    else:
        out.update(unscored_arrays(codes.shape[1], factors.shape[1]))
    return out


def scores_of(arrays: dict[str, np.ndarray]) -> dict[str, float] | None:
    """A snapshot's scores by name (:data:`SCORES`), or None when it has none or was not
    scored (NaN)."""
    values = arrays.get("disentanglement")
    if values is None or not np.any(np.isfinite(values)):
        return None
    return {k: float(v) for k, v in zip(SCORES, np.asarray(values, np.float64))}
