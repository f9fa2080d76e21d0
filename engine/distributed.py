"""Training under ``torchrun``: the process group, each rank's share of a batch, agreement.

``torchrun --nproc_per_node=N main.py train ...`` starts N copies of the
command. Each joins the process group (:func:`torchrun_process_group`: gloo
on the CPU, nccl on CUDA) and runs the ordinary
:class:`~engine.trainer.Trainer`, which asks :meth:`Ranks.current` whether
it is one of several ranks. What changes then, all of it here:

- **One global batch.** ``optim.batch_size`` is the batch of one optimiser
  step whatever N is: every rank draws the same epoch permutation from the
  same seeded CPU generator (rank 0's is broadcast, to be sure, on the
  ranks' own device: nccl takes CUDA tensors only, even when the data is
  streamed from the host) and takes rows
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
  batch: the request travels as one more number in the step's reduce of the
  terms, so every rank stops before the batch after the one in which it was
  asked (a batch later than one process would), with no all-reduce or
  device sync of its own.
- **Noise** (corruption, reparameterisation) must differ between ranks, and
  the permutation must stay the same on all: each rank draws its noise from
  a generator seeded by (seed, step, rank) at every step
  (:mod:`engine.random_streams`), so no per-rank state needs to be in the
  checkpoint and a resumed run draws the same noise.

Every tensor handed to a collective is on the rank's device
(:meth:`Ranks.on_own_device`): a CPU tensor given to nccl fails only on a
GPU machine, so the rule is checked here, where gloo would let it pass.
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
from engine.random_streams import RandomStreams


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
        self._streams = RandomStreams(seed, device)
        # The stop flag as a tensor already on the device: no host-to-device copy per step.
        self._flags = {False: torch.zeros(1, device=device), True: torch.ones(1, device=device)}

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
    def on_own_device(self, tensor: Tensor) -> Tensor:
        """``tensor``, checked to be on this rank's device before it enters a collective.

        nccl refuses CPU tensors ("No backend type associated with device type
        cpu") and gloo takes them; checking here makes a CPU run fail where a
        GPU run would.
        """
        if tensor.device != self.device:
            raise RuntimeError(f"a collective was given a tensor on {tensor.device}, but "
                               f"this rank trains on {self.device}: move it there first")
        return tensor

    def same_order(self, permutation: Tensor) -> Tensor:
        """Rank 0's permutation on every rank (they draw the same one; this makes it sure).

        Parameters
        ----------
        permutation : (n,) int64 on any device (the trainer draws it on the CPU).

        Returns
        -------
        (n,) int64 on this rank's device, where the broadcast ran.
        """
        order = self.on_own_device(permutation.to(self.device))
        dist.broadcast(order, src=0)
        return order

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
        return self._streams.step_noise(step, self.rank)

    # -- agreement ----------------------------------------------------------------------
    def reduce(self, values: Tensor, stop_asked: bool = False) -> Tensor:
        """(K,) per-rank batch means -> (K + 1,): the global batch's means, the same on
        every rank, and the number of ranks that asked to stop.

        One all-reduce carries both, so agreeing on a stop costs nothing more
        than the terms' reduce every step makes anyway.
        """
        flag = self._flags[bool(stop_asked)].to(values.dtype)
        out = self.on_own_device(torch.cat([values * self.share, flag]))
        dist.all_reduce(out)
        return out

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
