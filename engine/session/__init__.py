"""Session files: every run as one HDF5 file that can be reopened, replayed and resumed.

- :class:`SessionWriter` listens to the trainer's events and records them,
  committing atomically at every epoch end (a crash loses at most the last
  epoch and the one in progress).
- :class:`Session` opens a file read-only for replay and resume; every
  problem with a file is a :class:`~engine.errors.SessionError`.
- :func:`resume_trainer` rebuilds a trainer from a session's checkpoint.
- :mod:`engine.session.figures` writes PNG figures of an epoch (``export``).

The layout is documented in ``docs/session-format.md``.
"""

from engine.errors import SessionError
from engine.session.reader import Session
from engine.session.resume import resume_trainer
from engine.session.schema import FORMAT_NAME, FORMAT_VERSION
from engine.session.writer import SessionWriter

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "Session", "SessionError", "SessionWriter",
           "resume_trainer"]
