"""Why a research-measure view (traversals, interpolation, disentanglement, I(x; z)) shows
nothing for a run, from the family's traits and the run's data — never from its name."""

from __future__ import annotations

from engine.decoding import LatentDecoder
from engine.models import family_class
from gui.panels.code_view import images_reason

NO_ENCODER = "{view} needs codes of the images; this model has no encoder."
NO_DECODER = "{view} decodes codes into images; this model has no decoder."
NO_FACTORS = ("{view} is measured against known factors of the data (the sprites' shape, "
              "scale, rotation, x and y); this run's data have none. Train on sprites "
              "(data source 'sprites') to see it.")
NO_CODES = ("This run's snapshots hold no real-valued codes of its probe images "
            "(probe_latent_mean): {view} sweeps such codes — an RBM's hidden units are "
            "binary — or the session was written before the view existed.")


def encoder_reason(run, view: str) -> str:
    """"" when the family's traits say its images have codes, else why not (its own words
    when the family gives them, under ``missing['encoder']``)."""
    traits = family_class(run.config).traits(run.config)
    if traits.encoder:
        return ""
    return traits.missing.get("encoder", NO_ENCODER.format(view=view))


def decoding_reason(run, view: str) -> str:
    """"" for a run whose codes decode to images, else why ``view`` does not apply."""
    why = encoder_reason(run, view)
    if why:
        return why
    if not LatentDecoder.available(run.config):
        return NO_DECODER.format(view=view)
    return images_reason(run, view)


def factors_reason(run, view: str) -> str:
    """"" for a run with codes of data that has ground-truth factors."""
    why = encoder_reason(run, view)
    if why:
        return why
    if run.data is None or run.data.map_factors is None:
        return NO_FACTORS.format(view=view)
    return ""
