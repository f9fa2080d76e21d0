"""Training under ``torchrun``: the process group, each rank's share of a batch, agreement.

``torchrun --nproc_per_node=N main.py train ...`` starts N copies of the
command. Each joins the process group (:func:`torchrun_process_group`: gloo
on the CPU, nccl on CUDA) and runs the ordinary
:class:`~engine.trainer.Trainer`, which asks :meth:`Ranks.current` whether
it is one of several ranks. What changes then, all of it here:

- **One global batch.** ``optim.batch_size`` is the batch of one optimiser
  step whatever N is: every rank draws the same epoch permutation from the
  same seeded generator (rank 0's is broadcast, to be sure) and takes rows
  ``r, r+N, r+2N, ...`` of each batch (:meth:`Ranks.shard`). Steps per
  epoch, the learning rate and the history are a one-process run's, so a
  session started with 2 processes resumes with 1 or 4.
- **Gradients** are all-reduced by :class:`DistributedDataParallel`
  (:meth:`Ranks.data_parallel`): the family's own ``loss`` is routed through
  DDP's forward, so the unchanged default ``train_step``'s backward starts
  the all-reduce. A communication hook weighs each rank's gradient by its
  share of the batch, so an uneven last batch averages exactly as one
  process would over the whole batch.
- **Terms** are averaged across ranks, with the same weights, inside the one
  finite check (``StepContext.reduce``): every rank sees the same values, and
  a non-finite term on any rank stops every rank at the same step, before
  any optimiser step.
- **Stop** asked on any rank (Ctrl+C reaches them all) stops all at the same
  batch (:meth:`Ranks.any`).
- **Noise** (corruption, reparameterisation) must differ between ranks, and
  the permutation generator must stay the same on all: each rank draws its
  noise from a generator seeded by (seed, step, rank) at every step, so no
  per-rank state needs to be in the checkpoint and a resumed run draws the
  same noise.
- **Only rank 0 reports**: the others emit nothing, so only rank 0 writes the
  session (and the command line prints from rank 0 alone).
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from typing import Iterator

import torch
import torch.distributed as dist
from torch import Tensor, nn

from engine.errors import ConfigError

#: Seeds the per-rank noise streams apart from the run's other generators.
_NOISE_STREAM = 0x4E015E


def launched_by_torchrun() -> bool:
    """Whether this process is one of several that torchrun started."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def local_processes() -> int:
    """How many processes of the job share this machine (1 outside torchrun)."""
    return max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


def is_main_process() -> bool:
    """True outside torchrun and on rank 0: the process that writes and prints."""
    return int(os.environ.get("RANK", "0")) == 0


def rank_device(device: torch.device) -> torch.device:
    """The device of this rank: ``cuda`` means this machine's GPU number LOCAL_RANK.

    Raises
    ------
    ConfigError
        Under torchrun on MPS (DDP does not run there), or with more processes
        on this machine than it has GPUs.
    """
    if not launched_by_torchrun():
        return device
    if device.type == "mps":
        raise ConfigError("cannot train on mps under torchrun: use --device cpu "
                          "(or a machine with CUDA GPUs)", "device")
    if device.type != "cuda":
        return device
    local = int(os.environ.get("LOCAL_RANK", "0"))
    index = local if device.index is None else device.index
    if index >= torch.cuda.device_count():
        raise ConfigError(f"torchrun started {local_processes()} processes on this machine but "
                          f"it has {torch.cuda.device_count()} GPU(s): use --nproc_per_node="
                          f"{torch.cuda.device_count()} or fewer", "device")
    return torch.device("cuda", index)


@contextmanager
def torchrun_process_group(device: torch.device) -> Iterator[None]:
    """Join the job torchrun started for the duration of a command (nothing outside torchrun).

    Parameters
    ----------
    device : the device the run trains on: nccl for CUDA, gloo otherwise.
    """
    if not launched_by_torchrun() or (dist.is_available() and dist.is_initialized()):
        yield
        return
    if not dist.is_available():
        raise ConfigError("this torch has no torch.distributed: train in one process")
    device = rank_device(device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


class Ranks:
    """This process's place among the ranks of a torchrun job, and what they share.

    Attributes
    ----------
    rank, world : this rank and the number of ranks.
    device : this rank's training device.
    share : this rank's share of the current batch, in [0, 1]; the shares of
        all ranks sum to 1. Set by :meth:`shard`.
    """

    def __init__(self, rank: int, world: int, device: torch.device, seed: int):
        self.rank, self.world, self.device = rank, world, device
        self.share = 1.0 / world
        self._seed = seed
        self._noise = torch.Generator(device=device)

    @classmethod
    def current(cls, device: torch.device, seed: int) -> "Ranks | None":
        """The ranks of the process group this process joined, or None when it trains alone."""
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
            return None
        return cls(dist.get_rank(), dist.get_world_size(), rank_device(device), seed)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # -- data ----------------------------------------------------------------------------
    def same_order(self, permutation: Tensor) -> Tensor:
        """Rank 0's permutation on every rank (they draw the same one; this makes it sure)."""
        dist.broadcast(permutation, src=0)
        return permutation

    def shard(self, idx: Tensor) -> Tensor:
        """This rank's rows of a global batch: ``idx[rank::world]``.

        Parameters
        ----------
        idx : (M,) the global batch's indices, the same on every rank.

        Returns
        -------
        (ceil((M - rank) / world),) indices. A rank left without rows (M < world)
        takes row 0, with a share of 0 (:meth:`begin_step`), so that it still runs
        the step its peers wait for.
        """
        local = idx[self.rank::self.world]
        return local if local.shape[0] else idx[:1]

    def begin_step(self, step: int, batch_size: int) -> torch.Generator:
        """Set this rank's share of a global batch of ``batch_size``; the step's noise generator.

        The generator is seeded by (seed, step, rank): noise differs between
        ranks, the shared permutation generator is left alone, and a resumed
        run draws the same noise again.
        """
        mine = len(range(self.rank, batch_size, self.world))
        self.share = mine / batch_size
        self._noise.manual_seed(hash((self._seed, step, self.rank, _NOISE_STREAM)) % (2**63))
        return self._noise

    # -- agreement ----------------------------------------------------------------------
    def reduce(self, values: Tensor) -> Tensor:
        """(K,) per-rank batch means -> the global batch's means, the same on every rank."""
        out = values * self.share
        dist.all_reduce(out)
        return out

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is True on any."""
        t = torch.tensor([int(flag)], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    # -- the model ------------------------------------------------------------------------
    @staticmethod
    def check_trainable(model: nn.Module) -> None:
        """Raise ConfigError for a family whose training step DDP cannot run.

        DDP's reducer expects one backward per forward; a family with its own
        ``train_step`` (several optimisers or backward passes a step) need not
        keep that.
        """
        from engine.models.base import Model
        if type(model).train_step is not Model.train_step:
            raise ConfigError(f"the {type(model).family} family trains with its own step, "
                              "which does not run under torchrun yet: train it in one process",
                              "model.family")

    @contextmanager
    def data_parallel(self, model: nn.Module) -> Iterator[None]:
        """Train ``model`` under DistributedDataParallel while the block runs.

        DDP broadcasts rank 0's weights at once, so every rank starts equal.
        The family's ``loss`` goes through DDP's forward for the block (an
        instance attribute that shadows the method, not a submodule, so the
        state dict and the checkpoint keep their keys).
        """
        ddp = nn.parallel.DistributedDataParallel(_LossForward(model))
        ddp.register_comm_hook(self, _weighted_allreduce)
        object.__setattr__(model, "loss", ddp.__call__)
        try:
            yield
        finally:
            # Free the DDP now: left to the cycle collector it can outlive the process
            # group, and its reducer then aborts the process when it is freed.
            del model.__dict__["loss"]
            del ddp
            gc.collect()


class _LossForward(nn.Module):
    """``Model.loss`` as a module's forward: what DDP wraps."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch, generator=None, training: bool = True):
        return type(self.model).loss(self.model, batch, generator, training)


def _weighted_allreduce(ranks: Ranks, bucket):  # DDP rejects a string return annotation
    """DDP communication hook: the sum over ranks of share x gradient (the global mean).

    Returns a ``torch.futures.Future[Tensor]`` of the bucket's reduced gradients.
    """
    grads = bucket.buffer()
    grads.mul_(ranks.share)
    return dist.all_reduce(grads, async_op=True).get_future().then(lambda f: f.value()[0])
