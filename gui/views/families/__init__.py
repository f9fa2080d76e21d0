"""Views of a family of its own, one file each, registered by family (see :mod:`.base`).

Importing this package registers them: one line each below.
"""

from gui.views.families.base import FAMILY_VIEWS, FamilyViews, family_of, register_views
from gui.views.families import gan, rbm  # noqa: F401,E402 - each registers its views

__all__ = ["FAMILY_VIEWS", "FamilyViews", "family_of", "register_views"]
