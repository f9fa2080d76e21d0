"""What the session folder holds, against the user's budget, and clearing out — with no Qt.

Every run of the window is saved automatically, and every lesson keeps its runs and
figures in ``lessons/<lesson>/``, so the folder grows. The status bar shows what it
holds against the budget the user sets, :class:`~gui.dialogs.session_folder.SessionFolderDialog`
lists it to delete what is no longer needed, and a new run that would pass the budget
says so (:func:`over_budget_words`). Nothing is ever deleted but what the user chooses.

Listed, each with its size: the session files at the top of the folder (with the spare
``.tmp`` / ``.old`` files a writer keeps beside them), each lesson's folder (everything
in it), and any other folder that holds sessions (a sweep, say: its ``.h5`` files).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
import shutil

LESSONS = "lessons"
SPARES = (".tmp", ".old")


@dataclass(frozen=True)
class StoredSession:
    """One thing the folder holds: a session file, or a folder of the app's files.

    Attributes
    ----------
    path : the file or folder.
    size : its bytes (a session with its spares; a folder: what the app wrote in it).
    modified : when it was last written.
    kind : ``"session"``, ``"lesson"`` (a lesson's folder) or ``"folder"`` (of sessions).
    """

    path: Path
    size: int
    modified: datetime
    kind: str = "session"

    @property
    def name(self) -> str:
        """How the dialog lists it: ``run.h5``, ``lessons/undercomplete/``."""
        if self.kind == "lesson":
            return f"{LESSONS}/{self.path.name}/"
        return self.path.name + ("/" if self.kind == "folder" else "")


def list_sessions(folder: Path) -> list[StoredSession]:
    """What the folder holds, newest first (an unreadable folder lists nothing)."""
    folder = Path(folder)
    out = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for p in entries:
        if p.suffix == ".h5" and p.is_file():
            item = _stamped(p, [p, *_spares(p)], "session")
        elif p.is_dir() and p.name == LESSONS:
            out += [item for q in _subfolders(p)
                    if (item := _stamped(q, _files(q, all_files=True), "lesson"))]
            continue
        elif p.is_dir():
            item = _stamped(p, _files(p, all_files=False), "folder")
        else:
            continue
        if item is not None:
            out.append(item)
    return sorted(out, key=lambda s: s.modified, reverse=True)


def folder_size(folder: Path) -> tuple[int, int]:
    """(how many things the folder lists, their bytes together)."""
    items = list_sessions(folder)
    return len(items), sum(s.size for s in items)


def folder_words(items: list[StoredSession], budget: int) -> str:
    """``3 sessions, 1 lesson, 45.2 MB of 2.0 GB`` (the status bar, the dialog)."""
    from engine.words import size_words
    counts = [(sum(s.kind == k for s in items), word) for k, word in
              (("session", "session"), ("lesson", "lesson"), ("folder", "folder"))]
    parts = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in counts if n] or ["nothing"]
    used = sum(s.size for s in items)
    of = f" of {size_words(budget)}" if budget > 0 else ""
    over = " — over your budget" if 0 < budget < used else ""
    return f"{', '.join(parts)}, {size_words(used)}{of}{over}"


def over_budget_words(used: int, adds: int, budget: int) -> str | None:
    """What to tell the user when a run of about ``adds`` bytes would take the folder past
    ``budget`` (None when it would not, or there is no budget)."""
    from engine.words import size_words
    if budget <= 0 or used + adds <= budget:
        return None
    return (f"The session folder holds {size_words(used)}; this run adds about "
            f"{size_words(adds)}, past your budget of {size_words(budget)}. Nothing is "
            f"deleted by itself: choose what to delete in Manage…, or raise the budget there.")


def delete_sessions(paths: list[Path], keep: set[Path]) -> tuple[list[Path], list[str]]:
    """Delete session files (and their spares) or folders, never one in ``keep`` (on
    display, training) nor a folder that holds one.

    Returns
    -------
    The paths deleted, and a reason for each that was not.
    """
    deleted, problems = [], []
    keep = {Path(k).resolve() for k in keep}
    for p in paths:
        p = Path(p)
        held = [k for k in keep if k == p.resolve() or p.resolve() in k.parents]
        if held:
            problems.append(f"{p.name} is open in the window; open another session first")
            continue
        try:
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
                for q in _spares(p):
                    q.unlink(missing_ok=True)
            deleted.append(p)
        except OSError as e:
            problems.append(f"{p.name}: {e.strerror or e}")
    return deleted, problems


def _spares(p: Path) -> list[Path]:
    return [p.with_name(p.name + s) for s in SPARES]


def _subfolders(p: Path) -> list[Path]:
    try:
        return [q for q in p.iterdir() if q.is_dir()]
    except OSError:
        return []


def _files(folder: Path, all_files: bool) -> list[Path]:
    """Every file below ``folder`` (a lesson's: all are the app's), or its sessions."""
    try:
        found = [q for q in folder.rglob("*") if q.is_file()]
    except OSError:
        return []
    if all_files:
        return found
    return [q for q in found if q.suffix == ".h5" or q.name.endswith(
        tuple(".h5" + s for s in SPARES)) or q.name == "sweep.json"]


def _stamped(path: Path, files: list[Path], kind: str) -> StoredSession | None:
    """``path`` with the bytes of ``files`` and when it was last written (None: no file):
    a session's own time (a spare beside it is the writer's), a folder's newest file's."""
    size, newest = 0, None
    for q in files:
        try:
            st = q.stat()
        except OSError:
            continue
        size += st.st_size
        if kind != "session" or q == path:
            newest = st.st_mtime if newest is None else max(newest, st.st_mtime)
    if newest is None:
        return None
    return StoredSession(path, size, datetime.fromtimestamp(newest), kind)
