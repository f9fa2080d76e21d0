"""A run's random numbers, derived from its seed alone: nothing device-specific to save.

Every random draw of training comes from a generator seeded from the run's
seed and *where* in the run the draw happens:

- **the epoch's order** — ``randperm`` on a CPU generator seeded from
  (seed, epoch): the same permutation whatever device trains, so a run
  started on a GPU continues on a laptop with the same batches;
- **a step's noise** (corruption, reparameterisation, a GAN's z, dropout
  masks) — a generator on the training device seeded from (seed, step) (and
  the rank under torchrun), made once and reseeded at every step.

So a checkpoint needs no generator state: the step and epoch counters it
already holds say where the streams stand. (A CUDA generator's state is 16
bytes and a CPU one's 5,056, and each refuses the other: saving them tied a
session to the kind of device that wrote it.) CUDA and the CPU draw different
numbers for the same seed, so noise continued on another kind of device is a
different (equally valid) draw; on the same device the resumed run is the
uninterrupted one bit for bit. ``engine/export/script.py`` writes the same
derivation into exported scripts: change both together.

Sessions written before kept one generator's state, which drove both the
order and the noise. Resumed on the kind of device that wrote it, such a
checkpoint continues that generator (:class:`ContinuedStream`), exactly as
before; on another kind of device, whose generators refuse the state, the
run continues with the derived streams.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

log = logging.getLogger(__name__)

_MASK = (1 << 64) - 1
#: Stream numbers, so the order and the noise of one index never share a seed.
ORDER, NOISE = 0x0D, 0x4E
#: What a checkpoint keeps as ``rng['train']`` since the streams are derived (the
#: session format asks for a 1-d uint8 array there): the scheme's name, as bytes.
SCHEME = np.frombuffer(b"derived: order (seed, epoch), noise (seed, step)", np.uint8)


def _splitmix64(x: int) -> int:
    """One SplitMix64 output for state ``x`` (Steele et al. 2014): a well-mixed 64-bit int."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def stream_seed(seed: int, *where: int) -> int:
    """A 63-bit generator seed for the draw at ``where`` (stream, index, ...) of run ``seed``.

    Neighbouring indices give unrelated seeds, so reseeding at every step
    draws streams as independent as one long stream would be.
    """
    x = _splitmix64(seed & _MASK)
    for part in where:
        x = _splitmix64(x ^ (part & _MASK))
    return x >> 1


class RandomStreams:
    """The order and noise generators of one run.

    Parameters
    ----------
    seed : the run's seed.
    device : the training device (where the noise is drawn).
    """

    def __init__(self, seed: int, device: torch.device):
        self.seed = seed
        self._order = torch.Generator(device="cpu")
        self._noise = torch.Generator(device=device)

    def epoch_order(self, epoch: int, n: int) -> torch.Tensor:
        """(n,) int64 on the CPU: the order in which epoch ``epoch`` (from 1) visits the images."""
        self._order.manual_seed(stream_seed(self.seed, ORDER, epoch))
        return torch.randperm(n, generator=self._order)

    def step_noise(self, step: int, rank: int | None = None) -> torch.Generator:
        """The generator of step ``step``'s noise (from 0), reseeded; ``rank`` under torchrun.

        Reseeding a CUDA generator sets two host-side numbers: no device work.
        """
        where = (NOISE, step) if rank is None else (NOISE, step, rank)
        self._noise.manual_seed(stream_seed(self.seed, *where))
        return self._noise

    def state(self) -> np.ndarray:
        """What a checkpoint keeps: the scheme's name (nothing else is needed)."""
        return SCHEME.copy()


class ContinuedStream:
    """One generator for the order and the noise: a session from before the derived streams.

    Parameters
    ----------
    generator : a generator on the training device, holding the checkpoint's state.
    """

    def __init__(self, generator: torch.Generator):
        self._generator = generator

    def epoch_order(self, epoch: int, n: int) -> torch.Tensor:
        """(n,) int64, drawn on the generator's device as the earlier trainer drew it."""
        return torch.randperm(n, generator=self._generator, device=self._generator.device)

    def step_noise(self, step: int, rank: int | None = None) -> torch.Generator:
        return self._generator

    def state(self) -> np.ndarray:
        """The generator's state, so that the next resume continues it too."""
        return self._generator.get_state().numpy().copy()


def resumed_streams(rng: dict[str, np.ndarray], seed: int,
                    device: torch.device) -> "RandomStreams | ContinuedStream":
    """The streams a run continues with from a checkpoint's ``rng`` (see the module docstring)."""
    stored = np.asarray(rng.get("train", SCHEME), np.uint8)
    if stored.shape == SCHEME.shape and np.array_equal(stored, SCHEME):
        return RandomStreams(seed, device)
    generator = torch.Generator(device=device)
    try:
        generator.set_state(torch.from_numpy(stored.copy()))
    except (RuntimeError, ValueError, TypeError):
        log.info("the checkpoint's generator state (%d bytes) was written on another kind of "
                 "device: the run continues with streams derived from its seed", stored.size)
        return RandomStreams(seed, device)
    return ContinuedStream(generator)
