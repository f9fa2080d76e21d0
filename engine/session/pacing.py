"""Which checkpoints to write: every one while that is cheap, fewer when it is not.

A checkpoint holds the model and the optimiser state (for the default
preset 8 MB: three times the model). Written after every short epoch it
would cost more than the rest of the session together, so
:class:`CheckpointPacer` skips intermediate checkpoints while writing one
would take more than ``share`` of the training time since the last one
written. The last checkpoint of a run is always written (the writer asks
for it at run end, on stop and on failure), so only a killed process
resumes from an older one: at most ``cost / share`` seconds of training
back (about 2 s for the default preset), and those steps are retrained
identically.
"""

from __future__ import annotations

from engine.session.batch import Batch


class CheckpointPacer:
    """Keeps the time spent writing intermediate checkpoints under a share of training time.

    Parameters
    ----------
    share : e.g. 0.005 for 0.5 %; None writes every checkpoint.
    """

    def __init__(self, share: float | None = 0.005):
        if share is not None and not 0 < share <= 1:
            raise ValueError(f"checkpoint share must be in (0, 1] or None (got {share})")
        self.share = share
        self._last: Batch | None = None   # the batch that carried the last written checkpoint
        self._last_wall = 0.0

    def due(self, wall_time: float) -> bool:
        """Should the checkpoint taken at ``wall_time`` (seconds of training) be written now?"""
        if self.share is None or self._last is None:
            return True
        cost = self._last.checkpoint_seconds
        if cost == 0.0:
            return False  # the last one is still being written
        return (wall_time - self._last_wall) * self.share >= cost

    def written(self, batch: Batch, wall_time: float) -> None:
        """Note that ``batch`` carries the checkpoint taken at ``wall_time``."""
        self._last = batch
        self._last_wall = wall_time
