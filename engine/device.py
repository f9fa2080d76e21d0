"""Choosing the training device: cuda, then mps, then cpu, or as configured."""

from __future__ import annotations

import os

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


def use_exact_numerics(device: torch.device) -> None:
    """On CUDA: deterministic cuDNN algorithms and no TF32, so a seeded run repeats exactly.

    Every run is seeded, and a resumed run must continue as the uninterrupted
    one would: cuDNN's autotuner (``benchmark``) may pick a different
    convolution algorithm in each process, and several of its backward
    algorithms add in a non-deterministic order; TF32 rounds float32 products
    to 10 mantissa bits on Ampere and later GPUs, so a GPU run would differ
    from the same run in float32 elsewhere by more than rounding. The cost is
    speed on convolutional models: ``scripts/gpu_check.sh`` measures the
    64x64 presets with and without (``benchmarks/bench_presets_64.py``).
    The settings are process-wide; nothing changes on the CPU or MPS.
    """
    if device.type != "cuda":
        return
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


def fits_on_device(nbytes: int, device: torch.device) -> bool:
    """Whether a data set of ``nbytes`` can live on ``device`` with room to train."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return nbytes < 0.5 * free
    return True


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), not the machine's count.

    A container or ``taskset`` limit shows here and not in ``os.cpu_count()``.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on macOS and Windows
        return max(1, os.cpu_count() or 1)


def torch_threads(reserve: int = 0) -> int:
    """Torch intra-op threads for one training process: its share of the usable cores.

    Parameters
    ----------
    reserve : cores to leave free for other work of the process (the window's GUI thread).

    Under torchrun the processes on one machine (``LOCAL_WORLD_SIZE``) share its
    cores: more threads than cores costs 1.3-1.6x when other work is running.
    """
    per_process = usable_cores() // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    return max(1, per_process - reserve)
