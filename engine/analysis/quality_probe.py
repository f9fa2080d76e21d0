"""Sample quality of a run, every epoch: its samples against held-out images, in one feature space.

The trainer asks :class:`SampleQualityProbe` for each snapshot's two arrays:

- ``sample_quality`` (3,) float32: FID, precision, recall of the model's samples
  against the validation images (:mod:`engine.analysis.sample_quality`);
- ``sample_quality_real`` (3,) float32: the same three numbers for as many
  *training* images against the same validation images — what a perfect model
  would score at this sample size (FID is biased upwards for small sets, and
  precision / recall of two samples of one distribution are below 1).

An epoch that is not scored carries NaN in both (a session stores every array at
every epoch); :func:`is_score` tells a score from such a row (and from the zeros
a session resumed from an older file holds for the epochs before it).

Which feature space (:func:`feature_space`):

- 2-D points: data space itself — the (x, y) of each point;
- the bundled digits: the shipped digit classifier's 64 features
  (:mod:`engine.analysis.digit_features`); **not comparable with FID figures
  computed with Inception features**;
- anything else (sprites, a user's own images): not available, and the reason
  says why — a digit classifier's features of other images measure nothing.

The samples are the model's own (:meth:`engine.models.Model.draw_samples`: a
VAE's decoded prior codes, a GAN's g(z), an RBM's Gibbs chains from noise),
drawn with a generator seeded the same every epoch, so the curves over epochs
follow the model, not the draw. Scored are a run's first epoch and every k-th
(``quality_every``; by default every epoch for 2-D points, every 5th for
images; :func:`scored`) — a function of the epoch alone, so a run resumed
from its session records what one trained straight through would. For 2-D points the samples are the
``generated_points`` the snapshot already holds (what data space shows in
orange). A family with no samples (a plain autoencoder) gets no arrays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from engine.analysis.sample_quality import (frechet_distance, gaussian_stats, knn_radii,
                                            precision_recall, psd_sqrt)
from engine.data.toy2d import is_point_data

#: Held-out images scored against (the first of the validation split), at most.
MAX_REFERENCE = 1000
#: ``quality_every`` None: 2-D points are scored every epoch (a few milliseconds), images
#: every 5th (their samples' features cost about a tenth of a small model's epoch).
IMAGE_EVERY = 5
FEATURE_BATCH = 500
ARRAY, REAL_ARRAY = "sample_quality", "sample_quality_real"
#: What the three values of each array are.
SCORES = ("FID", "precision", "recall")
DIGITS, DATA_SPACE = "digit features", "data space"
#: The data sources of MNIST digits: the bundled 5,000 and the 60,000 fetched by name.
DIGIT_SOURCES = ("mnist", "mnist-full")
log = logging.getLogger(__name__)
NOT_COMPARABLE = ("in the features of the app's own digit classifier: these FIDs compare "
                  "runs of this app, not FID figures computed with Inception features")
_REAL_STREAM = 0x0FD1


@dataclass(frozen=True)
class FeatureSpace:
    """Where a run's samples are compared with its data.

    Attributes
    ----------
    name : :data:`DIGITS`, :data:`DATA_SPACE` or ``""`` (not available).
    why_not : the reason, in words, when it is not available.
    """

    name: str
    why_not: str = ""

    @property
    def available(self) -> bool:
        return bool(self.name)

    @property
    def items(self) -> str:
        """What is scored, in words: ``points`` in data space, else ``images``."""
        return "points" if self.name == DATA_SPACE else "images"

    def words(self) -> str:
        """Where the numbers are measured ("in data space …"), for a caption or ``info``."""
        if self.name == DATA_SPACE:
            return "in data space (the points' x, y)"
        return NOT_COMPARABLE if self.name == DIGITS else self.why_not


def feature_space(source: str, image_shape) -> FeatureSpace:
    """The feature space of a run's data (``config.data.source``, ``data.image_shape``)."""
    if is_point_data(image_shape):
        return FeatureSpace(DATA_SPACE)
    c, h, w = (int(d) for d in image_shape)
    if source in DIGIT_SOURCES and c == 1 and h == w >= 16:   # the digits, at any size
        return FeatureSpace(DIGITS)
    what = {"sprites": "sprites are not digits"}.get(source, "these images are not MNIST digits")
    return FeatureSpace("", f"Sample quality is not available for this data: it is measured "
                            f"in the features of the app's classifier of MNIST digits, and "
                            f"{what} — its features of other images would measure nothing. "
                            f"It is measured for MNIST (bundled or full) and for 2-D points "
                            f"(in data space).")


def is_score(row) -> bool:
    """Whether a ``sample_quality`` row holds scores: finite, and not the all-zero row of an
    epoch from before the array existed."""
    row = np.asarray(row, np.float64).reshape(-1)
    return bool(np.isfinite(row).all() and row.any())


def scoring_every(config, image_shape) -> int:
    """Every how many epochs a run is scored (besides its first): the config's
    ``quality_every``, or :data:`IMAGE_EVERY` for images and 1 for 2-D points."""
    if config.quality_every is not None:
        return int(config.quality_every)
    return 1 if is_point_data(image_shape) else IMAGE_EVERY


def scored(config, image_shape, epoch: int) -> bool:
    """Whether epoch ``epoch`` of a run is scored: its first and every k-th."""
    return epoch == 1 or epoch % scoring_every(config, image_shape) == 0


class SampleQualityProbe:
    """Scores a run's samples each epoch (see the module docstring).

    Parameters
    ----------
    config : the run: its data source, its family (does it draw samples?) and
        ``quality_every``.
    dataset : the run's :class:`~engine.data.Dataset` (its split gives the held-out images).
    take : ``take(idx) -> (k, C, H, W)`` tensor of the images at dataset indices
        (:meth:`engine.data.training_data.TrainingData.take`).
    device : where features are computed (the training device).

    The reference features are computed at the first call of :meth:`arrays`, not
    here: a trainer that records no snapshot never pays for them.
    """

    def __init__(self, config, dataset, take, device: torch.device):
        from engine.models import family_class
        self.space = feature_space(config.data.source, dataset.image_shape)
        self.samples = bool(family_class(config).traits(config).generative)
        self.config = config
        self.dataset, self.take, self.device = dataset, take, torch.device(device)
        self._emitted = False       # arrays went into a snapshot: every later one has them
        self._net = None
        self._reference: tuple | None = None

    # -- features ---------------------------------------------------------------------------
    def features(self, images: torch.Tensor) -> np.ndarray:
        """(N, C, H, W) images or (N, 2) points -> (N, F) float64 features."""
        if self.space.name == DATA_SPACE:
            return images.reshape(len(images), -1).double().cpu().numpy()
        if self._net is None:
            from engine.analysis.digit_features import load_feature_net
            self._net = load_feature_net(self.device)
        out = []
        with torch.no_grad():
            for i in range(0, len(images), FEATURE_BATCH):
                batch = images[i:i + FEATURE_BATCH].to(self.device, torch.float32)
                out.append(self._net.features(batch).double().cpu())
        return torch.cat(out).numpy()

    def reference(self) -> tuple[np.ndarray, tuple, np.ndarray, np.ndarray]:
        """(features (N, F), their Gaussian (mean, cov, cov's square root), their k-NN
        radii, the real-versus-real scores (3,)), computed once."""
        if self._reference is None:
            ds = self.dataset
            held_out = ds.val_idx if len(ds.val_idx) >= 4 else ds.train_idx
            ref_idx = np.asarray(held_out[:MAX_REFERENCE], np.int64)
            pool = np.setdiff1d(ds.train_idx, ref_idx)
            rng = np.random.default_rng([_REAL_STREAM, len(pool), len(ref_idx)])
            real_idx = np.sort(rng.choice(pool, size=min(len(pool), len(ref_idx)),
                                          replace=False)) if len(pool) else pool
            feats = self.features(self.take(ref_idx))
            mean, cov = gaussian_stats(feats)
            stats, radii = (mean, cov, psd_sqrt(cov)), knn_radii(feats)
            real = (np.full(3, np.nan) if len(real_idx) < 4 else
                    self.score(self.features(self.take(real_idx)), feats, stats, radii))
            self._reference = (feats, stats, radii, real.astype(np.float32))
        return self._reference

    @staticmethod
    def score(fake: np.ndarray, real: np.ndarray, stats: tuple, radii: np.ndarray) -> np.ndarray:
        """(3,) FID, precision, recall of features ``fake`` against ``real``; ``stats`` the
        real features' (mean, covariance, its square root)."""
        mean, cov, root = stats
        fid = frechet_distance(mean, cov, *gaussian_stats(fake), root1=root)
        precision, recall = precision_recall(real, fake, real_radii=radii)
        return np.array([fid, precision, recall], np.float64)

    # -- every epoch --------------------------------------------------------------------------
    def snapshot_arrays(self, epoch: int, model, snapshot_arrays: dict,
                        generator: torch.Generator) -> dict[str, np.ndarray]:
        """What the snapshot of ``epoch`` carries: the scores at a scored epoch
        (:func:`scored`), NaN at the others; nothing when sample quality does not apply."""
        out = (self.arrays(model, snapshot_arrays, generator)
               if scored(self.config, self.dataset.image_shape, epoch) else {})
        if not out and (self._emitted or (self.space.available and self.samples)):
            # A session keeps every array at every epoch: NaN where there is no score.
            out = {ARRAY: np.full(3, np.nan, np.float32),
                   REAL_ARRAY: np.full(3, np.nan, np.float32)}
        self._emitted = self._emitted or bool(out)
        return out

    def arrays(self, model, snapshot_arrays: dict, generator: torch.Generator
               ) -> dict[str, np.ndarray]:
        """The sample-quality arrays for ``model`` now (empty when it does not apply: no
        feature space for this data, or a family that draws no samples)."""
        if not (self.space.available and self.samples):
            return {}
        try:
            feats, stats, radii, real = self.reference()
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            # The shipped weights missing or damaged: train on without the scores.
            log.warning("sample quality is off for this run: %s", e)
            self.space = FeatureSpace("", f"Sample quality is not available: {e}")
            return {}
        n = len(feats)
        if self.space.name == DATA_SPACE and "generated_points" in snapshot_arrays:
            samples = torch.from_numpy(np.asarray(snapshot_arrays["generated_points"])[:n])
        else:
            samples = model.draw_samples(n, generator)
        if samples is None or len(samples) < 4:
            return {}
        fake = self.features(samples)
        if not np.isfinite(fake).all():   # a diverging model: no score rather than a wrong one
            return {ARRAY: np.full(3, np.nan, np.float32), REAL_ARRAY: real}
        return {ARRAY: self.score(fake, feats, stats, radii).astype(np.float32),
                REAL_ARRAY: real}
