"""Choosing the training device: cuda, then mps, then cpu, or as configured."""

from __future__ import annotations

import torch

from engine.errors import ConfigError


def available_devices() -> list[str]:
    """Device names this machine can train on, best first (always ends with ``cpu``)."""
    out = []
    if torch.cuda.is_available():
        out += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out + ["cpu"]


def resolve_device(name: str) -> torch.device:
    """The torch device for a config value; ``auto`` picks the best available.

    Raises
    ------
    ConfigError
        When the named device does not exist here.
    """
    avail = available_devices()
    if name == "auto":
        return torch.device(avail[0])
    if name not in avail:
        raise ConfigError(f"device '{name}' is not available on this machine; "
                          f"available: {', '.join(avail)} (or 'auto')")
    return torch.device(name)


def fits_on_device(nbytes: int, device: torch.device) -> bool:
    """Whether a data set of ``nbytes`` can live on ``device`` with room to train."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return nbytes < 0.5 * free
    return True
