"""What the session folder holds, and clearing out old sessions — with no Qt.

Every run of the window is saved automatically, so the folder grows; the
status bar shows its size and :class:`~gui.dialogs.session_folder.SessionFolderDialog`
lists the files to delete. Only ``.h5`` files the app wrote there are
listed, with the spare ``.tmp`` / ``.old`` files a writer keeps beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path



@dataclass(frozen=True)
class StoredSession:
    """One session file of the folder: where, how big (with its spares), when last written."""

    path: Path
    size: int
    modified: datetime


def list_sessions(folder: Path) -> list[StoredSession]:
    """The folder's session files, newest first (an unreadable folder lists nothing)."""
    out = []
    try:
        files = [p for p in Path(folder).glob("*.h5") if p.is_file()]
    except OSError:
        return []
    for p in files:
        try:
            st = p.stat()
        except OSError:
            continue
        spares = sum(q.stat().st_size for q in _spares(p) if q.exists())
        out.append(StoredSession(p, st.st_size + spares, datetime.fromtimestamp(st.st_mtime)))
    return sorted(out, key=lambda s: s.modified, reverse=True)


def folder_size(folder: Path) -> tuple[int, int]:
    """(number of session files, their bytes together)."""
    sessions = list_sessions(folder)
    return len(sessions), sum(s.size for s in sessions)


def delete_sessions(paths: list[Path], keep: set[Path]) -> tuple[list[Path], list[str]]:
    """Delete session files (and their spares), never one in ``keep`` (on display, training).

    Returns
    -------
    The files deleted, and a reason for each that was not.
    """
    deleted, problems = [], []
    keep = {Path(k).resolve() for k in keep}
    for p in paths:
        p = Path(p)
        if p.resolve() in keep:
            problems.append(f"{p.name} is open in the window; open another session first")
            continue
        try:
            p.unlink()
            for q in _spares(p):
                q.unlink(missing_ok=True)
            deleted.append(p)
        except OSError as e:
            problems.append(f"{p.name}: {e.strerror or e}")
    return deleted, problems


def _spares(p: Path) -> list[Path]:
    return [p.with_name(p.name + ".tmp"), p.with_name(p.name + ".old")]
