"""A writing error in words a user can act on: a full disk, a read-only folder, no permission.

The session writer turns what the operating system says into a message that
names the folder, what the file still holds and what to do (:func:`disk_words`).
"""

from __future__ import annotations

import errno
from pathlib import Path



def resume_words(path: Path) -> str:
    """What to do after a full disk, for a run's status message."""
    return (f"free some space in {path.parent}, then continue the run (Continue in the "
            f"window, or python main.py resume {path.name})")


def disk_words(e: OSError, path: Path, kept: str = "") -> str:
    """A writing error in words a user can act on.

    ``path`` is the session file; ``kept`` says what the file on disk still holds.
    """
    folder = path.parent
    kept = f" ({kept})" if kept else ""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        what = "the disk is full" if e.errno == errno.ENOSPC else "your disk quota is used up"
        return (f"{what} in {folder}{kept}. Free some space there, then continue the run "
                f"(Continue in the window, or python main.py resume {path.name})")
    if e.errno == errno.EROFS:
        return (f"cannot write the session: {folder} is on a read-only file system{kept}. "
                f"Choose a folder you can write to")
    if e.errno in (errno.EACCES, errno.EPERM):
        return (f"cannot write the session: no permission to write in {folder}{kept}. "
                f"Choose a folder you can write to")
    return f"cannot write the session: {e.strerror or e}{kept}"
