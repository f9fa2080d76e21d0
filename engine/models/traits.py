"""What a family's runs offer the rest of the app: :class:`ModelTraits`.

The engine's exporters, the CLI's ``info`` and the window's views ask a run's
family what applies to it through these traits (``family_class(cfg).traits(cfg)``),
never by comparing its name: a view that does not apply says why in the family's
own words (:attr:`ModelTraits.missing`), and a new family gets the generic views
by setting what it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: What a family's generated points are, when it says nothing (a VAE's decoded prior codes).
DECODED_PRIOR = "decoded z ~ N(0, I)"


@dataclass(frozen=True)
class ModelTraits:
    """What a family's runs offer the views, and in words why a view shows nothing.

    Attributes
    ----------
    generative : how it models the data: ``explicit`` (it has a density p(x), or a
        bound on it), ``implicit`` (it draws samples but cannot evaluate p(x)) or
        ``""`` (no generative model of x).
    encoder : the data has codes (q(z|x), p(h|v)): the latent map shows encoded data.
    reconstructs : its snapshots reconstruct the probe images (``probe_recon``).
    prior_samples : codes drawn from N(0, I) decode to samples (samples panel, manifold).
    continuous_code : its codes are real vectors, so a grid of codes (the manifold) and
        codes drawn around the data's decode to pictures; False for binary units.
    autoencoder_code : an autoencoder's code (an encoder's vector, decoded back): the
        Code views (KL, activations, Jacobian, identity, noise, drawing, trails) and the
        reconstruction field r(x) - x apply.
    scriptable : ``export --script`` can write its runs as a standalone torch script.
    classifier_encoder : its encoder can start a classifier (the pretraining comparison).
    log_loss : its loss terms are positive, so the loss plot opens on a log axis.
    likelihood : what it reports about log p(x), in words.
    code : what its code is, in words (the Generative models tab); "" for the default
        ``z ∈ R^D``.
    sampler : how its generated points are drawn, in words (data space).
    missing : view name -> why that view has nothing to show for this family:
        ``reconstructions``, ``samples``, ``likelihood``, ``encoder``; ``code`` (the
        family, in the words "a {code} has none" of the Code views); ``data_map`` (why
        data space has no map behind the points); ``classifier_encoder`` (what to start a
        classifier from instead).
    """

    generative: str = ""
    encoder: bool = False
    reconstructs: bool = False
    prior_samples: bool = False
    continuous_code: bool = False
    autoencoder_code: bool = False
    scriptable: bool = False
    classifier_encoder: bool = False
    log_loss: bool = True
    likelihood: str = ""
    code: str = ""
    sampler: str = DECODED_PRIOR
    missing: dict[str, str] = field(default_factory=dict)
