"""Session files: runs — one, or a job's several — as one HDF5 file to reopen, replay and resume.

- :class:`SessionWriter` listens to the trainer's (and a job's) events and
  records them, committing atomically at every epoch end; the checkpoint goes
  with a commit every ~30 s and at a run's end (a crash loses at most the
  larger of one epoch and about 30 s of training), and the weights of the
  interactive views at a bounded set of epochs (``weights.py``).
- :class:`Session` opens a file read-only for replay and resume; its
  :class:`SessionRun` objects are the runs. Every problem with a file is a
  :class:`~engine.errors.SessionError`.
What is made from a session (figures, exports to other tools, several
sessions compared) is :mod:`engine.export`; this package is the file format
only. The layout is documented in ``docs/session-format.md``.
"""

from engine.errors import SessionError
from engine.session.reader import Session, open_h5_for_reading
from engine.session.runs import SessionJob, SessionRun
from engine.session.schema import FORMAT_NAME, FORMAT_VERSION, MAIN_RUN
from engine.session.writer import SessionWriter

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "MAIN_RUN", "Session", "SessionError", "SessionJob",
           "SessionRun", "SessionWriter", "open_h5_for_reading"]
