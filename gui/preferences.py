"""What the app remembers between launches (QSettings): session folder and its budgets,
recent sessions, the window's layout, a teacher's lessons folder."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from engine.session.weights import DEFAULT_BUDGET as DEFAULT_WEIGHTS_BUDGET

ORGANISATION, APPLICATION = "AutoencoderStudio", "Autoencoder Studio"
MAX_RECENT = 10
DEFAULT_SESSION_FOLDER = Path.home() / "AutoencoderStudio" / "sessions"
DEFAULT_FOLDER_BUDGET = 2_000_000_000   # bytes the session folder may hold before a warning


class Preferences:
    """Typed access to the app's QSettings.

    Parameters
    ----------
    settings : the store; default the user's settings for this app. Tests pass
        an INI file in a temporary folder so they never touch the user's.
    """

    def __init__(self, settings: QSettings | None = None):
        self.settings = settings if settings is not None else QSettings(ORGANISATION, APPLICATION)

    @property
    def session_folder(self) -> Path:
        """Where every run's session is written automatically."""
        value = self.settings.value("sessions/folder", "")
        return Path(value) if value else DEFAULT_SESSION_FOLDER

    @session_folder.setter
    def session_folder(self, folder: str | Path) -> None:
        self.settings.setValue("sessions/folder", str(folder))

    @property
    def folder_budget(self) -> int:
        """Bytes the session folder may hold: a new run that would pass it says so (never
        deletes anything); 0 for no budget."""
        value = _as_int(self.settings.value("sessions/budget", DEFAULT_FOLDER_BUDGET))
        return value if value >= 0 else DEFAULT_FOLDER_BUDGET

    @folder_budget.setter
    def folder_budget(self, n_bytes: int) -> None:
        self.settings.setValue("sessions/budget", int(max(0, n_bytes)))

    @property
    def weights_budget(self) -> int:
        """Bytes of model weights each run's session keeps for replay's interactive views
        (``engine/session/weights.py``)."""
        value = _as_int(self.settings.value("sessions/weights_budget", DEFAULT_WEIGHTS_BUDGET))
        return value if value >= 0 else DEFAULT_WEIGHTS_BUDGET

    @weights_budget.setter
    def weights_budget(self, n_bytes: int) -> None:
        self.settings.setValue("sessions/weights_budget", int(max(0, n_bytes)))

    @property
    def lessons_folder(self) -> Path | None:
        """A teacher's own lessons (``*.json``, see docs/lessons.md) beside the bundled
        ones, or None."""
        value = self.settings.value("lessons/folder", "")
        return Path(value) if value else None

    @lessons_folder.setter
    def lessons_folder(self, folder: str | Path | None) -> None:
        self.settings.setValue("lessons/folder", str(folder) if folder else "")

    def new_session_path(self, run_name: str, now: datetime | None = None) -> Path:
        """A fresh ``<folder>/<timestamp>-<run name>.h5`` that does not exist yet."""
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in run_name) or "run"
        folder = self.session_folder
        path = folder / f"{stamp}-{safe}.h5"
        n = 2
        while path.exists():  # two runs in one second
            path = folder / f"{stamp}-{safe}-{n}.h5"
            n += 1
        return path

    def recent_sessions(self) -> list[str]:
        value = self.settings.value("sessions/recent", [])
        if isinstance(value, str):  # QSettings gives a lone string for a one-item list
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent_session(self, path: str | Path) -> list[str]:
        """Put ``path`` first in the recent list (deduplicated, at most ten)."""
        p = str(Path(path).resolve())
        recent = [p] + [r for r in self.recent_sessions() if r != p]
        recent = recent[:MAX_RECENT]
        self.settings.setValue("sessions/recent", recent)
        return recent

    def clear_recent_sessions(self) -> None:
        self.settings.setValue("sessions/recent", [])

    # -- the window's layout -----------------------------------------------------------
    def window_layout(self, version: int) -> dict:
        """What :func:`gui.window_layout.save_layout` stored: name -> bytes (geometry,
        ``splitter/<name>``) or int (``tab``); empty when none, or of another version."""
        s = self.settings
        s.beginGroup("layout")
        try:
            if _as_int(s.value("version", 0)) != version:
                return {}
            out: dict = {}
            for key in s.allKeys():
                if key == "version":
                    continue
                value = s.value(key)
                if key == "tab":
                    out[key] = _as_int(value)
                elif isinstance(value, (QByteArray, bytes)):
                    out[key] = bytes(value.data() if isinstance(value, QByteArray) else value)
            return out
        finally:
            s.endGroup()

    def set_window_layout(self, version: int, state: dict) -> None:
        """Replace the stored layout with ``state`` (see :meth:`window_layout`)."""
        s = self.settings
        s.remove("layout")
        s.beginGroup("layout")
        s.setValue("version", version)
        for key, value in state.items():
            s.setValue(key, QByteArray(value) if isinstance(value, bytes) else value)
        s.endGroup()
        s.sync()


def _as_int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
