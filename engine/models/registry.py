"""The registry of model families, keyed by ``model.family``, and what is built from it.

A family registers with ``@register`` on its class (its module is imported by
:mod:`engine.models`, one line each); everything else finds it through
:func:`family_class` — its traits, its description, its interface — and never
compares a family's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from engine.checkpoint import load_module_arrays
from engine.errors import ConfigError
from engine.models.base import Model

if TYPE_CHECKING:
    from engine.config import RunConfig

FAMILIES: dict[str, type[Model]] = {}


def register(cls: type[Model]) -> type[Model]:
    """Class decorator: make ``cls`` the family named ``cls.family``."""
    FAMILIES[cls.family] = cls
    return cls


def unregister(family: str) -> None:
    """Forget a family (a test's own family, once the test is done)."""
    FAMILIES.pop(family, None)


def family_class(config: "RunConfig") -> type[Model]:
    """The class of ``config.model.family``; ConfigError naming the known ones."""
    cls = FAMILIES.get(config.model.family)
    if cls is None:
        raise ConfigError(f"must be one of {', '.join(sorted(FAMILIES))} "
                          f"(got {config.model.family!r})", "model.family")
    return cls


def build_model(config: "RunConfig", image_shape: tuple[int, int, int],
                n_classes: int | None = None) -> Model:
    """The model a config describes, with fresh weights (seed them with ``fork_rng``)."""
    return family_class(config).from_config(config, tuple(image_shape), n_classes)


def cpu_copy(config: "RunConfig", image_shape: tuple[int, int, int],
             weights: dict[str, np.ndarray], n_classes: int | None = None) -> Model:
    """A CPU model whose :attr:`~Model.interactive_parts` hold ``weights``.

    Built on the ``meta`` device: no memory for the other parts and, above
    all, no draws from torch's global generator, which a training thread may
    be seeding at that moment. Only the interactive parts may be used.

    A part with no weights at all in ``weights`` stays on the meta device and
    is named in the copy's ``missing_parts`` (a tuple): sessions written before
    an autoencoder's snapshots carried its encoder hold only ``decoder.*``,
    and still decode. Check ``"encoder" in copy.missing_parts`` before encoding.

    Raises
    ------
    ValueError
        When the weights do not fit those parts, or fit none of them.
    """
    with torch.device("meta"):
        model = build_model(config, image_shape, n_classes)
    missing = []
    for part in model.interactive_parts:
        prefix = part + "."
        arrays = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
        if not arrays and getattr(model, part).state_dict():
            missing.append(part)
            continue
        load_module_arrays(getattr(model, part), arrays, assign=True)
    if missing and len(missing) == len(model.interactive_parts):
        raise ValueError(f"weights do not match the model: missing every weight of "
                         f"{', '.join(missing)}")
    model.missing_parts = tuple(missing)
    return model.eval()
