"""Counting the places where the engine reads a tensor's value on the host.

On a GPU each such read (``.item()``, ``.tolist()``, ``int(t)``, ``bool(t)``,
``.cpu()``, ...) waits for every kernel queued before it: one per training
step is the finite check's, any more slows every step. The CPU cannot show
the wait, but it can count the reads: :func:`counting_host_reads` wraps the
tensor methods that read values and counts the calls made from the
project's ``engine/`` code (torch's own, such as an optimiser reading its
CPU step counter, are not the engine's to remove).
"""

from __future__ import annotations

import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch

ENGINE = str(Path(__file__).resolve().parents[2] / "engine")
#: Tensor methods that hand a value to Python (and so wait for the device).
READS = ("item", "tolist", "__bool__", "__int__", "__float__", "__index__", "numpy", "cpu")


@contextmanager
def counting_host_reads() -> Iterator[Counter]:
    """Count the engine's value reads while the block runs: ``{"file:line method": calls}``."""
    counts: Counter = Counter()
    saved = {name: torch.Tensor.__dict__.get(name) for name in READS}
    originals = {name: getattr(torch.Tensor, name) for name in READS}

    def wrap(name):
        real = originals[name]

        def read(self, *args, **kwargs):
            caller = sys._getframe(1).f_code
            if caller.co_filename.startswith(ENGINE):
                counts[f"{Path(caller.co_filename).name}:{caller.co_name} {name}"] += 1
            return real(self, *args, **kwargs)
        return read

    for name in READS:
        setattr(torch.Tensor, name, wrap(name))
    try:
        yield counts
    finally:
        for name, value in saved.items():
            if value is None:
                delattr(torch.Tensor, name)
            else:
                setattr(torch.Tensor, name, value)


def reads_while_training(trainer, epochs: int = 1) -> tuple[Counter, int]:
    """The engine's value reads inside the training steps of ``epochs`` epochs, and the steps.

    Only the batches count (``Trainer._train_epoch``): the epoch's end —
    validation, the snapshot, the checkpoint — reads values by design, once
    an epoch.
    """
    counts: Counter = Counter()
    real = type(trainer)._train_epoch

    def counted(self, *args, **kwargs):
        with counting_host_reads() as c:
            out = real(self, *args, **kwargs)
        counts.update(c)
        return out

    trainer._train_epoch = counted.__get__(trainer)
    try:
        trainer.run(lambda e: None, until_epoch=epochs, snapshots=False, checkpoints=False)
    finally:
        del trainer._train_epoch
    return counts, trainer.step
