"""The GAN's and the RBM's part of the run-settings form, with no Qt.

A run of the ``gan`` or ``rbm`` family has a config section of its own
(:class:`~engine.config.GanConfig`, :class:`~engine.config.RbmConfig`); the
form shows its fields as text, and :func:`put_family_fields` writes them
into the config dictionary the form validates. Field keys are the config's
dotted names (``gan.d_steps``), so the engine's messages land beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.config import GanConfig, RbmConfig, RunConfig

#: (section field, label, tooltip, kind) of every text field, per family.
GAN_FIELDS = [
    ("d_steps", "k (D steps per G step)", "Discriminator updates per generator update", int),
    ("d_lr", "Discriminator lr", "Blank: the learning rate below", float),
    ("instance_noise", "Instance noise", "Std of noise added to every image D sees", float),
    ("d_dropout", "D dropout", "Dropout after each discriminator layer", float),
]
RBM_FIELDS = [
    ("cd_k", "CD steps k", "Gibbs steps per update (CD-k)", int),
    ("chains", "Chains", "Persistent chains (and Gibbs samples shown)", int),
    ("ais_chains", "AIS runs", "Runs of annealed importance sampling (> 20 hidden units)", int),
    ("ais_steps", "AIS temperatures", "Intermediate temperatures of each AIS run", int),
]
FAMILY_FIELDS = {"gan": GAN_FIELDS, "rbm": RBM_FIELDS}
NOTES = {"gan": "A GAN: a generator (the decoder's architecture) and a discriminator (the "
                "encoder's), trained against each other. The kinds above are autoencoder "
                "regularisers: a GAN uses none of them.",
         "rbm": "An RBM: Latent size is its number of hidden units, Likelihood its visible "
                "units (Bernoulli, or Gaussian with the std of the objective). The kinds "
                "above are autoencoder regularisers: an RBM uses none of them."}


@dataclass
class FamilyValues:
    """The family fields as entered: the family, text per field, and PCD's check box."""

    family: str = "autoencoder"
    text: dict[str, str] = field(default_factory=dict)
    persistent: bool = False


def values_from_config(cfg: RunConfig) -> FamilyValues:
    family = cfg.model.family
    section = {"gan": cfg.gan_settings, "rbm": cfg.rbm_settings}.get(family)
    text = {}
    for name, _, _, _ in FAMILY_FIELDS.get(family, []):
        v = getattr(section, name)
        text[name] = "" if v is None else f"{v:g}" if isinstance(v, float) else str(v)
    return FamilyValues(family, text, bool(cfg.rbm_settings.persistent))


def put_family_fields(d: dict[str, Any], v: FamilyValues, errors: dict[str, str]) -> None:
    """Write the family's section into config dict ``d``; unparsable text into ``errors``."""
    if v.family not in FAMILY_FIELDS:
        return
    defaults = GanConfig() if v.family == "gan" else RbmConfig()
    section = dict(d.get(v.family) or vars(defaults))
    for name, _, _, kind in FAMILY_FIELDS[v.family]:
        text = v.text.get(name, "").strip()
        key = f"{v.family}.{name}"
        if text == "" and name == "d_lr":
            section[name] = None
            continue
        try:
            section[name] = int(text, 10) if kind is int else float(text)
        except ValueError:
            errors[key] = f"{key} must be {'a whole number' if kind is int else 'a number'} " \
                          f"(got {text!r})"
            section[name] = getattr(defaults, name)
    if v.family == "rbm":
        section["persistent"] = v.persistent
    d[v.family] = section
