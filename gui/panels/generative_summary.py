"""What one run says about generative modelling, side by side with others, with no Qt.

"Generative models are explicit (variational autoencoders) or implicit
(GANs)" (lecture notes). :func:`summarise` reads a run's last epoch and
returns, in words and pictures, what the comparison tab shows in a column:
what kind of model it is, its samples, its reconstructions — or why it has
none — and what it can say about log p(x): an ELBO (a bound), a
log-likelihood (exact or an AIS estimate), or nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.toy2d import is_point_data
from engine.decoding import LatentDecoder
from engine.errors import StudioError
from engine.models import family_class
from engine.export.data_space import render_data_space
from engine.export.figures import prior_codes
from engine.export.quality_words import QualitySeries, quality_series, scores_words
from engine.session.reader import SessionRun

SAMPLES = 16
RECONSTRUCTIONS = 8
KIND_WORDS = {
    "explicit": "explicit: a density p(x) (or a bound on it) that can be evaluated",
    "implicit": "implicit: draws samples x = g(z), but cannot evaluate p(x)",
    "": "not a generative model: no prior to sample from, no density",
}


@dataclass
class GenerativeSummary:
    """One column of the comparison.

    Attributes
    ----------
    title : e.g. ``"gan (gan-toy), epoch 150"``.
    data : the data set, in words.
    kind : explicit / implicit, in words.
    code : the latent variables and how data reaches them, in words.
    samples : (N, C, H, W) images in [0, 1], or None; ``points`` for 2-D data: an
        RGB (S, S, 3) uint8 picture of data space with the samples instead.
    reconstructions : (2*R, C, H, W) originals then reconstructions, or None;
        ``recon_picture`` for 2-D data: data space with the data and their
        reconstructions.
    reconstructions_note, samples_note : why there are none, when there are none.
    likelihood : what the run says about log p(x), with its number.
    quality : FID, precision and recall over its epochs (:mod:`engine.export.quality_words`).
    """

    title: str
    data: str
    kind: str
    code: str
    samples: np.ndarray | None
    points: np.ndarray | None
    reconstructions: np.ndarray | None
    samples_note: str
    reconstructions_note: str
    likelihood: str
    recon_picture: np.ndarray | None = None
    quality: QualitySeries | None = None
    name: str = ""             # the run's config name, e.g. gan-toy

    def quality_words(self) -> str:
        """Its sample quality at its last epoch, or why there is none."""
        q = self.quality
        if q is None or q.last is None:
            return q.why_not if q is not None else ""
        return f"epoch {int(q.epochs[-1])}: {scores_words(q.last, q.real, q.space.items)}"


def summarise(run: SessionRun) -> GenerativeSummary:
    """The summary of a run's last saved epoch.

    Raises
    ------
    SessionError
        When the run has no snapshot yet.
    """
    cfg = run.config
    traits = family_class(cfg).traits(cfg)
    epoch = run.snapshot_epochs[-1] if run.snapshot_epochs else None
    if epoch is None:
        from engine.session.schema import fail
        raise fail(run.path, f"run '{run.run_id}' has no saved epoch to compare yet")
    snap = run.snapshot(epoch)
    title = f"{cfg.kind_label()} ({cfg.name}), epoch {epoch}"
    points = is_point_data(run.data.image_shape)
    samples = picture = None
    samples_note = traits.missing.get("samples", "")
    real = run.data.probe_images.reshape(-1, 2) if points else None
    if points:   # the samples over the data (their reconstructions get a picture of their own)
        picture = render_data_space(_without(snap.arrays, "recon_points"), real, 240)
    elif "gibbs_samples" in snap.images:
        samples = snap.images["gibbs_samples"][:SAMPLES]
    elif "samples" in snap.images:
        samples = snap.images["samples"][:SAMPLES]
    elif traits.prior_samples and LatentDecoder.available(cfg):
        try:
            decoder = run.decoder(epoch)
            samples = decoder.decode(prior_codes(snap, True, SAMPLES, cfg.seed))
        except StudioError as e:
            samples_note = str(e)
    recon = None
    if traits.reconstructs and not points and "probe_recon" in snap.images:
        recon = np.concatenate([run.data.probe_images[:RECONSTRUCTIONS],
                                snap.images["probe_recon"][:RECONSTRUCTIONS]])
    recon_note = "" if traits.reconstructs else traits.missing.get(
        "reconstructions", "This model has no decoder of codes of data.")
    recon_picture = None
    if points and traits.reconstructs and "recon_points" in snap.arrays:
        # On white (no D(x) or density behind): blue points on the RBM's blue map vanished.
        recon_picture = render_data_space(
            _without(snap.arrays, "generated_points", "disc_map", "density_map"), real, 240)
        recon_note = "grey: the data; blue: each point passed through the model"
    code = traits.code or f"z ∈ R^{cfg.model.latent_dim}"
    return GenerativeSummary(
        title=title, data=run.data.source, kind=KIND_WORDS.get(traits.generative, ""),
        code=code, samples=samples, points=picture, reconstructions=recon,
        samples_note=samples_note, reconstructions_note=recon_note,
        likelihood=likelihood_words(run, traits), recon_picture=recon_picture,
        quality=quality_series(run), name=cfg.name)


def _without(arrays: dict, *names: str) -> dict:
    return {k: v for k, v in arrays.items() if k not in names}


def likelihood_words(run: SessionRun, traits) -> str:
    """log p(x) of the validation set at the last epoch: a bound, a value, an estimate, none."""
    val = run.epoch_history.get("val", {})
    last = {k: float(v[-1]) for k, v in val.items() if len(v) and np.isfinite(v[-1])}
    each = "point" if is_point_data(run.data.image_shape) else "image"
    if "elbo" in last:
        return (f"log p(x) ≥ ELBO = {last['elbo']:.2f} nats per {each} (a lower bound: the "
                "VAE's density itself has no closed form)")
    if "nll_exact" in last:
        return (f"log p(x) = {-last['nll_exact']:.2f} nats per {each}, exact (all hidden "
                "states)")
    if "nll_ais" in last:
        return (f"log p(x) ≈ {-last['nll_ais']:.2f} nats per {each}, an estimate (log Z by "
                "annealed importance sampling)")
    if traits.generative == "implicit":
        return "None. " + traits.missing.get("likelihood", traits.likelihood)
    return traits.likelihood or "none"
