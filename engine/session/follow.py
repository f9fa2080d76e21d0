"""Following a session file that another process is writing.

A :class:`~engine.session.SessionWriter` never writes the published file:
each commit builds the next version beside it and renames it over the old
one (``atomic.py``). So a reader can tell a new commit from the file's
identity (inode, size, modification time) without opening it, and every
version it opens is complete. :class:`FileWatch` does that telling;
:func:`open_released` opens the newest version and lets it go at once, so
the reader never pins an old version (a writer would then have to copy the
whole file at its next commit instead of reusing its spare).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from engine.session.reader import Session


class FileWatch:
    """Whether a file has been replaced or changed since the last look.

    Attributes
    ----------
    changed_at : ``time.time()`` of the last change seen (or of the start).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._seen = self._stamp()
        self.changed_at = time.time()

    def _stamp(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    def changed(self) -> bool:
        """True once per new version of the file."""
        stamp = self._stamp()
        if stamp == self._seen:
            return False
        self._seen = stamp
        self.changed_at = time.time()
        return stamp is not None

    @property
    def quiet_seconds(self) -> float:
        """Seconds since the last change."""
        return time.time() - self.changed_at


def open_released(path: str | Path) -> Session:
    """The newest version of a session, opened, read and released (reads reopen on demand)."""
    session = Session.open(path)
    session.release()
    return session
