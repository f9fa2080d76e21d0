"""A run's images placed for training: tensors on the device, or batches read by a DataLoader.

In memory (the default whenever the data set fits) the training and
validation splits are tensors on the training device — on the CPU when a
GPU is too small for them — and a batch is one index operation, which no
DataLoader can beat. Images streamed from their file
(:class:`~engine.data.streamed.FileImages`: a memory-mapped .npy, an HDF5
data set) are read a batch at a time by a torch ``DataLoader`` with worker
processes, into pinned memory on CUDA.

Either way the trainer chooses the order: it draws each epoch's permutation
(seeded, in every checkpoint) and hands :meth:`TrainingData.epoch` the
batches' indices, so a streamed run trains on the same batches in the same
order as the in-memory run of the same file, and resumes mid-epoch exactly.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader
from torch.utils.data import Dataset as TorchDataset

from engine.data.dataset import Dataset
from engine.errors import DataError

Pair = tuple[Tensor, "Tensor | None"]  # images (B, C, H, W) float32, labels (B,) int64 or None


def default_workers(cores: int | None = None) -> int:
    """DataLoader workers for a streamed set: 0 on up to 2 free cores, else cores - 2, at most 4.

    The training process and the window (or the machine's other work) keep a
    core each. Measured on 2 cores (benchmarks/bench_data_streaming.py), one
    worker process cost more in passing batches than it saved in reading:
    the 28x28 digits trained at 0.77 of the in-memory rate from a .npy with a
    worker, 1.06 reading in the training process.
    """
    if cores is None:  # the cores free now: those other processes keep busy do not count
        from engine.threads import free_cores
        cores = free_cores()
    return 0 if cores <= 2 else min(4, cores - 2)


class TrainingData:
    """The training and validation images of a run, where the trainer reads its batches.

    Parameters
    ----------
    dataset : the data set; streamed when its images are FileImages.
    train_idx : (n,) int64 indices of the images the run trains on.
    device : the training device: every batch arrives there.
    labels : whether batches carry labels.
    workers : DataLoader worker processes for a streamed set; None: :func:`default_workers`.

    Attributes
    ----------
    n_train : the number of training images.
    index_device : where the trainer keeps an epoch's permutation.
    streamed : whether batches are read from the file.
    """

    def __init__(self, dataset: Dataset, train_idx: np.ndarray, device: torch.device,
                 labels: bool, workers: int | None = None):
        self.device = device
        self.n_train = int(len(train_idx))
        self.streamed = not isinstance(dataset.images, np.ndarray)
        self._images = dataset.images
        self._labels = (np.asarray(dataset.labels, np.int64)
                        if labels and dataset.labels is not None else None)
        self._val_idx = np.asarray(dataset.val_idx, np.int64)
        if self.streamed:
            self.index_device = torch.device("cpu")
            self._train_rows = np.asarray(train_idx, np.int64)
            self._order = _EpochOrder()
            self._workers = default_workers() if workers is None else workers
            self._loader: DataLoader | None = None
            return
        from engine.device import fits_on_device
        images = torch.from_numpy(dataset.images)
        # The whole set lives on the device when it fits: a batch is then one index op.
        self.index_device = device if fits_on_device(images.nbytes, device) else torch.device("cpu")
        self._all = images.to(self.index_device)
        self._all_labels = (None if self._labels is None
                            else torch.from_numpy(self._labels).to(self.index_device))
        self._train = self._take_tensors(train_idx)
        self._val = self._take_tensors(self._val_idx)

    # -- what the trainer reads --------------------------------------------------------------
    def take(self, idx: np.ndarray) -> Tensor:
        """(k, C, H, W) the images at dataset indices ``idx``, on the data's device (few rows)."""
        if self.streamed:
            return torch.from_numpy(self._images[np.asarray(idx, np.int64)])
        return self._take_tensors(idx)[0]

    def epoch(self, index_batches: Sequence[Tensor]) -> Iterator[Pair]:
        """Batches on the training device, one per entry of ``index_batches``.

        Parameters
        ----------
        index_batches : (b,) int64 positions within the training split, on
            ``index_device``; the batches of (the rest of) one epoch, in order.
        """
        if not self.streamed:
            images, labels = self._train
            for idx in index_batches:
                yield self._to_device(images[idx], None if labels is None else labels[idx])
            return
        if self._loader is None:
            if self._workers > 0:
                self._images.release()  # workers open the file themselves: no handle crosses a fork
            self._loader = DataLoader(
                _BatchReader(self._images, self._labels, self._train_rows),
                sampler=self._order, batch_size=None, num_workers=self._workers,
                pin_memory=self.device.type == "cuda", persistent_workers=self._workers > 0)
        self._order.batches = [i.numpy() for i in index_batches]
        try:
            for x, y in self._loader:
                yield self._to_device(x, y)
        except DataError as e:  # from a worker: its message, without the worker's traceback
            raise DataError(_worker_message(e)) from None

    def validation(self, size: int) -> Iterator[Pair]:
        """The validation images in order, ``size`` at a time, on the training device."""
        if not self.streamed:
            images, labels = self._val
            for i in range(0, images.shape[0], size):
                yield self._to_device(images[i:i + size],
                                      None if labels is None else labels[i:i + size])
            return
        for i in range(0, len(self._val_idx), size):
            rows = self._val_idx[i:i + size]
            yield self._to_device(torch.from_numpy(self._images[rows]),
                                  None if self._labels is None
                                  else torch.from_numpy(self._labels[rows]))

    def close(self) -> None:
        """Stop the DataLoader's workers (kept from one epoch to the next); made again on use."""
        if self.streamed:
            self._loader = None  # its iterator, freed with it, shuts the workers down

    # -- helpers ------------------------------------------------------------------------------
    def _take_tensors(self, idx: np.ndarray) -> Pair:
        at = torch.from_numpy(np.asarray(idx, np.int64)).to(self.index_device)
        return self._all[at], (None if self._all_labels is None else self._all_labels[at])

    def _to_device(self, x: Tensor, y: Tensor | None) -> Pair:
        if x.device != self.device:
            x = x.to(self.device, non_blocking=True)
            y = None if y is None else y.to(self.device, non_blocking=True)
        return x, y


class _EpochOrder:
    """The DataLoader's sampler: the current epoch's index batches, set before each epoch.

    One sampler object for the loader's lifetime lets its workers persist
    between epochs (a new loader would fork new workers every epoch).
    """

    def __init__(self) -> None:
        self.batches: list[np.ndarray] = []

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class _BatchReader(TorchDataset):
    """Reads one whole batch per item: ``reader[positions]`` -> (images, labels)."""

    def __init__(self, images, labels: np.ndarray | None, rows: np.ndarray):
        self.images, self.labels, self.rows = images, labels, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, positions: np.ndarray):
        idx = self.rows[positions]
        x = torch.from_numpy(self.images[idx])
        return x, (None if self.labels is None else torch.from_numpy(self.labels[idx]))


def _worker_message(error: Exception) -> str:
    """The original message of an error a DataLoader worker re-raised with its traceback."""
    text = str(error).strip()
    last = text.splitlines()[-1] if text else ""
    prefix = f"{DataError.__module__}.{DataError.__name__}: "
    return last[len(prefix):] if last.startswith(prefix) else text

