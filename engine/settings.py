"""What an optional config section says about itself, and the families' own sections.

A family's settings (a GAN's ``gan``, an RBM's ``rbm``) are a frozen
dataclass beside its model, described field by field with
:func:`engine.fields.setting`, mixing in :class:`SectionSettings` and
registered under its config name with :func:`family_settings`::

    @family_settings("gan")
    @dataclass(frozen=True)
    class GanConfig(SectionSettings):
        families = ("gan",)
        ...

:class:`~engine.config.RunConfig` then reads, writes and checks that
section, and the settings form shows it, with no word about the family.
(``RunConfig`` in the annotations below is :class:`engine.config.RunConfig`, not
imported: the config imports this module.)
"""

from __future__ import annotations

import importlib
import sys


class SectionSettings:
    """What an optional section says about itself (mixed into its dataclass).

    ``families``: the model families it belongs to; a section set for another
    is refused at the section's name, saying ``used_for``. A family's own
    settings also set ``title`` and ``note`` (the form's group) and may
    override :meth:`check_run` with the rules the family sets on the shared
    sections (an RBM has one hidden layer, ...).
    """

    families: tuple[str, ...] = ()
    used_for = ""
    title = ""
    note = ""

    @classmethod
    def used_by(cls, cfg: "RunConfig") -> bool:
        return cfg.model.family in cls.families

    @classmethod
    def check_run(cls, cfg: "RunConfig") -> None:
        """Rules the family sets on the shared sections; ConfigError naming the field."""



#: The settings sections the families bring, by config name (``gan``, ``rbm``): filled by
#: :func:`family_settings` as :mod:`engine.models` imports each family's file.
FAMILY_SETTINGS: dict[str, type] = {}


def family_settings(name: str):
    """Class decorator: register a family's settings dataclass as config section ``name``."""
    def register(cls: type) -> type:
        FAMILY_SETTINGS[name] = cls
        return cls
    return register


#: Where the bundled families register themselves: loaded by name on the first lookup, as a
#: plugin system loads its plugins, so that a config read by itself
#: (``RunConfig.from_json``) knows a ``gan`` section too. By name, not by an import
#: statement: the families import this module and the config, not the other way round.
BUNDLED_FAMILIES = ("engine.models",)


def registered_settings() -> dict[str, type]:
    """Every family's settings section: the bundled families' (loaded on first use) and any
    registered since with :func:`family_settings` (a family defined elsewhere, a test's)."""
    for module in BUNDLED_FAMILIES:
        if module not in sys.modules:
            importlib.import_module(module)
    return FAMILY_SETTINGS


def settings_for_family(family: str) -> tuple[str, type] | None:
    """``(section name, settings class)`` of ``family``'s own settings, or None."""
    for name, cls in registered_settings().items():
        if family in cls.families:
            return name, cls
    return None
