"""Continuing a recorded run: a trainer rebuilt from a run's config and checkpoint.

In the app only the job runner (:func:`engine.jobs.continue_job`) calls it: the window,
the CLI, lessons and sweeps all continue a session through the runner.
"""

from __future__ import annotations

import numpy as np

from engine.data import Dataset
from engine.session.reader import SessionRun
from engine.session.schema import fail
from engine.trainer import Trainer


def resume_trainer(run: SessionRun, epochs: int | None,
                   device: str | None = None,
                   dataset: Dataset | None = None) -> tuple[Trainer, int]:
    """A trainer positioned at a run's checkpoint, to train ``epochs`` more epochs.

    The data is loaded again from the stored config (the same seed gives the
    same split and probe set) and compared with the stored probe images, so
    a data file that changed since is caught before any training.

    Parameters
    ----------
    run : a run of an open session.
    epochs : how many epochs to train after the last completed one (>= 1). A
        run stopped mid-epoch first finishes that epoch, which counts. None
        trains up to the epochs its config asks for (finishing a stopped run).
    device : overrides the config's device (e.g. continue a GPU run on the CPU).
    dataset : the data to train on, when not ``config.data`` itself (the codes
        a later greedy stage trains on).

    Returns
    -------
    trainer : ready for ``trainer.run(emit, control, until_epoch=until)``; positioned at
        the checkpoint, or at the start when the run saved none (killed before its first).
    until : the last epoch to train.

    Raises
    ------
    SessionError
        Data that no longer matches, or a checkpoint that does not load.
    DataError, ConfigError
        The data cannot be loaded; the device is invalid.
    """
    if epochs is not None and epochs < 1:
        raise fail(run.path, f"the number of epochs to resume must be >= 1 (got {epochs})")
    ck = run.checkpoint()
    if ck is not None and not ck.optimizers:   # weights without optimiser state (version 1)
        raise fail(run.path, f"run '{run.run_id}' has no optimiser state to resume from")
    # No checkpoint: the run was killed before its first one (written after about 30 s of
    # training, see engine/session/writer.py): it trains again from its start, in the same file.
    done = ck.epoch if ck is not None else 0
    until = done + epochs if epochs is not None else max(run.config.optim.epochs, done)
    overrides = {"optim.epochs": max(until, 1)}
    if device is not None:
        overrides["device"] = device
    config = run.config.with_overrides(overrides)
    trainer = Trainer(config, dataset)
    _check_same_data(run, trainer)
    if ck is None:
        return trainer, until
    try:
        trainer.load_checkpoint(ck)
    except (ValueError, RuntimeError, KeyError, TypeError, IndexError) as e:
        raise fail(run.path, f"the checkpoint cannot be loaded: {e}") from None
    return trainer, until


def _check_same_data(run: SessionRun, trainer: Trainer) -> None:
    stored, now = run.data, trainer.dataset_info()
    same = (tuple(stored.image_shape) == tuple(now.image_shape)
            and stored.n_train == now.n_train and stored.n_val == now.n_val
            and np.array_equal(stored.probe_images, now.probe_images))
    if not same:
        raise fail(run.path, f"the data ({now.source}) is not the data this run was "
                                 f"trained on: it changed since the session was written")
