"""A run's images placed for training: tensors on the device, or batches read by a DataLoader.

In memory (the default whenever the data set fits) the training and
validation splits are tensors on the training device — on the host, pinned,
when a GPU is too small for them — and a batch is one index operation, which
no DataLoader can beat. Images streamed from their files
(:class:`~engine.data.streamed.StreamedImages`: a memory-mapped .npy, an HDF5
data set, a folder of image files) are read a batch at a time by a torch
``DataLoader`` with worker processes, into pinned memory on CUDA. Either way
8-bit images stay uint8 until they are on the device, which divides them by
255: a quarter of the memory and of the bytes copied.

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

from engine.data.arrays import to_unit
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
    dataset : the data set; streamed when its images are StreamedImages.
    train_idx : (n,) int64 indices of the images the run trains on.
    device : the training device: every batch arrives there, as float32 in [0, 1].
    labels : whether batches carry labels.
    workers : DataLoader worker processes for a streamed set; None: :func:`default_workers`.

    Attributes
    ----------
    n_train : the number of training images.
    index_device : where the trainer keeps an epoch's permutation.
    streamed : whether batches are read from the file.
    stored_dtype : how the placed images are held: uint8 when every value is
        k/255 (8-bit sources: a quarter of the memory, and of the bytes each
        batch copies to a GPU; the device divides by 255), else float32.
    pinned : whether host-memory images are pinned (CUDA with data that does
        not fit on the GPU), so batches copy asynchronously.
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
        self.pinned = False
        if self.streamed:
            self.index_device = torch.device("cpu")
            self.stored_dtype = dataset.images.stored_dtype
            self._train_rows = np.asarray(train_idx, np.int64)
            self._order = _EpochOrder()
            self._workers = default_workers() if workers is None else workers
            self._loader: DataLoader | None = None
            return
        from engine.device import fits_on_device
        train, val = (_stored(dataset.images, idx) for idx in (train_idx, self._val_idx))
        self.stored_dtype = train.dtype
        # What is placed, counted whole: the two splits (not the set they came from) and labels.
        n_placed = len(train) + len(val)
        placed = train.nbytes + val.nbytes + (0 if self._labels is None else 8 * n_placed)
        self.index_device = device if fits_on_device(placed, device) else torch.device("cpu")
        # On the host for a GPU: pinned, so that each batch copies while the GPU computes.
        self.pinned = device.type == "cuda" and self.index_device.type == "cpu"
        self._train = self._place(train, train_idx)
        self._val = self._place(val, self._val_idx)

    # -- what the trainer reads --------------------------------------------------------------
    def take(self, idx: np.ndarray) -> Tensor:
        """(k, C, H, W) float32 images at dataset indices ``idx``, on the data's device."""
        return torch.from_numpy(np.ascontiguousarray(
            self._images[np.asarray(idx, np.int64)])).to(self.index_device)

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
                yield self._to_device(self._gather(images, idx),
                                      None if labels is None else self._gather(labels, idx))
            return
        yield from self._stream([self._train_rows[i.numpy()] for i in index_batches])

    def validation(self, size: int) -> Iterator[Pair]:
        """The validation images in order, ``size`` at a time, on the training device."""
        if not self.streamed:
            images, labels = self._val
            for i in range(0, images.shape[0], size):
                yield self._to_device(images[i:i + size],
                                      None if labels is None else labels[i:i + size])
            return
        yield from self._stream([self._val_idx[i:i + size]
                                 for i in range(0, len(self._val_idx), size)])

    def close(self) -> None:
        """Stop the DataLoader's workers (kept from one epoch to the next); made again on use."""
        if self.streamed:
            self._loader = None  # its iterator, freed with it, shuts the workers down

    # -- helpers ------------------------------------------------------------------------------
    def _stream(self, row_batches: list[np.ndarray]) -> Iterator[Pair]:
        """Batches of dataset rows read by the DataLoader (its workers decode them)."""
        if self._loader is None:
            if self._workers > 0:
                self._images.release()  # workers open the file themselves: no handle crosses a fork
            self._loader = DataLoader(
                _BatchReader(self._images, self._labels), sampler=self._order, batch_size=None,
                num_workers=self._workers, pin_memory=self.device.type == "cuda",
                persistent_workers=self._workers > 0)
        self._order.batches = row_batches
        try:
            for x, y in self._loader:
                yield self._to_device(x, y)
        except DataError as e:  # from a worker: its message, without the worker's traceback
            raise DataError(_worker_message(e)) from None

    def _place(self, stored: np.ndarray, idx: np.ndarray) -> Pair:
        images = torch.from_numpy(stored)
        labels = None if self._labels is None else torch.from_numpy(self._labels[idx])
        if self.pinned:
            return images.pin_memory(), None if labels is None else labels.pin_memory()
        return images.to(self.index_device), None if labels is None else labels.to(
            self.index_device)

    def _gather(self, t: Tensor, idx: Tensor) -> Tensor:
        """t[idx]; into pinned memory when ``t`` is pinned (an index op's result is not)."""
        if not self.pinned:
            return t[idx]
        out = torch.empty((len(idx), *t.shape[1:]), dtype=t.dtype, pin_memory=True)
        return torch.index_select(t, 0, idx, out=out)

    def _to_device(self, x: Tensor, y: Tensor | None) -> Pair:
        if x.device != self.device:
            x = x.to(self.device, non_blocking=True)
            y = None if y is None else y.to(self.device, non_blocking=True)
        if x.dtype == torch.uint8:
            # Divided where the batch is: float32 division, the same numbers as on the host.
            x = x.to(torch.float32).div_(255.0)
        return x, y


def _stored(images: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """images[idx] as uint8 when every value is exactly k/255 (what ``to_unit`` turns back
    into the same float32 numbers), else as float32. (k, C, H, W)."""
    x = np.ascontiguousarray(images[np.asarray(idx, np.int64)])
    out = np.empty(x.shape, np.uint8)
    for i in range(0, len(x), 1024):  # in pieces, stopping at the first value that is not
        chunk = x[i:i + 1024]
        q = np.rint(chunk * np.float32(255.0))
        if not ((q >= 0) & (q <= 255)).all() or not np.array_equal(
                to_unit(q.astype(np.uint8)), chunk):
            return x
        out[i:i + 1024] = q
    return out


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
    """Reads one whole batch per item: ``reader[rows]`` -> (images as stored, labels)."""

    def __init__(self, images, labels: np.ndarray | None):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, rows: np.ndarray):
        x = torch.from_numpy(self.images.stored(rows))
        return x, (None if self.labels is None else torch.from_numpy(self.labels[rows]))


def _worker_message(error: Exception) -> str:
    """The original message of an error a DataLoader worker re-raised with its traceback."""
    text = str(error).strip()
    last = text.splitlines()[-1] if text else ""
    prefix = f"{DataError.__module__}.{DataError.__name__}: "
    return last[len(prefix):] if last.startswith(prefix) else text

