"""Optional dependencies: importing one that may be missing, with a message naming its extra.

The exports to other tools (ONNX, TensorBoard) need
packages most users of the window never use; they are in the ``export``
extra of ``pyproject.toml``. A command that needs one says which extra to
install instead of failing with an ImportError.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from engine.errors import StudioError

#: package to import -> the distributions to install for it
PACKAGES = {
    "onnx": "onnx onnxscript",
    "onnxscript": "onnx onnxscript",
    "tensorboard": "tensorboard",
}


class MissingExtra(StudioError):
    """An optional package a command needs is not installed."""


def require(module: str, purpose: str, extra: str = "export") -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtra` saying how to install it.

    Parameters
    ----------
    module : the top-level package, e.g. ``"onnx"``.
    purpose : what needs it, in words (``"--onnx"``, ``"the comparison figure"``).
    extra : the ``pyproject.toml`` extra that installs it.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        names = PACKAGES.get(module, module)
        raise MissingExtra(f"{purpose} needs the {module} package, which is not installed: "
                           f"pip install -e \".[{extra}]\" (or: pip install {names})") from None
