"""Continuing a recorded run: a trainer rebuilt from a session's config and checkpoint."""

from __future__ import annotations

import numpy as np

from engine.session.reader import Session
from engine.session.schema import fail
from engine.trainer import Trainer


def resume_trainer(session: Session, epochs: int,
                   device: str | None = None) -> tuple[Trainer, int]:
    """A trainer positioned at the session's checkpoint, to train ``epochs`` more epochs.

    The data is loaded again from the stored config (the same seed gives the
    same split and probe set) and compared with the stored probe images, so
    a data file that changed since is caught before any training.

    Parameters
    ----------
    session : an open session.
    epochs : how many epochs to train after the last completed one (>= 1). A
        run stopped mid-epoch first finishes that epoch, which counts.
    device : overrides the config's device (e.g. continue a GPU run on the CPU).

    Returns
    -------
    trainer : ready for ``trainer.run(emit, control, until_epoch=until)``.
    until : the last epoch to train.

    Raises
    ------
    SessionError
        No checkpoint, data that no longer matches, or a checkpoint that does not load.
    DataError, ConfigError
        The data cannot be loaded; the device is invalid.
    """
    if epochs < 1:
        raise fail(session.path, f"the number of epochs to resume must be >= 1 (got {epochs})")
    ck = session.checkpoint()
    if ck is None:
        raise fail(session.path, "has no checkpoint to resume from (the run ended before "
                                 "its first epoch or checkpoint)")
    until = ck.epoch + epochs
    overrides = {"optim.epochs": until}
    if device is not None:
        overrides["device"] = device
    config = session.config.with_overrides(overrides)
    trainer = Trainer(config)
    _check_same_data(session, trainer)
    try:
        trainer.load_checkpoint(ck)
    except (ValueError, RuntimeError, KeyError, TypeError, IndexError) as e:
        raise fail(session.path, f"the checkpoint cannot be loaded: {e}") from None
    return trainer, until


def _check_same_data(session: Session, trainer: Trainer) -> None:
    stored, now = session.data, trainer.dataset_info()
    same = (tuple(stored.image_shape) == tuple(now.image_shape)
            and stored.n_train == now.n_train and stored.n_val == now.n_val
            and np.array_equal(stored.probe_images, now.probe_images))
    if not same:
        raise fail(session.path, f"the data ({now.source}) is not the data this run was "
                                 f"trained on: it changed since the session was written")
