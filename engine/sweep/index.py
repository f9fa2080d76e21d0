"""``sweep.json``: a sweep folder's index — the plan and every run's file, status and result.

Written after every run ends (atomically: a new file renamed over the old),
so an interrupted sweep's index says which runs are done. The window opens
a folder with this file as a comparison; ``compare DIR`` reads it too.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import SessionError

INDEX_NAME = "sweep.json"
FORMAT = "autoencoder-studio-sweep"
VERSION = 1


@dataclass
class IndexedRun:
    """A run of the sweep as the index records it."""

    name: str
    file: str
    values: dict
    status: str = "planned"           # planned, running, completed, stopped, failed
    epochs: int = 0
    seconds: float = 0.0
    final: dict = field(default_factory=dict)   # {"train": {...}, "val": {...}}
    message: str = ""


@dataclass
class SweepIndex:
    """The index of one sweep folder."""

    base: dict
    axes: list[dict]                  # [{"field": ..., "values": [...]}]
    runs: list[IndexedRun]

    @property
    def fields(self) -> list[str]:
        return [a["field"] for a in self.axes]

    def same_plan(self, other: "SweepIndex") -> bool:
        # Older indexes kept the base's description too: words, not part of the plan.
        def plan(base: dict) -> dict:
            return {k: v for k, v in base.items() if k != "description"}
        return plan(self.base) == plan(other.base) and self.axes == other.axes

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": VERSION, "base": self.base,
                           "axes": self.axes, "runs": [vars(r) for r in self.runs]}, indent=2)

    def write(self, folder: Path) -> Path:
        """Write ``folder/sweep.json`` atomically."""
        path = Path(folder) / INDEX_NAME
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, path)
        return path


def read_index(folder: str | Path) -> SweepIndex:
    """The index of a sweep folder.

    Raises
    ------
    SessionError
        No index, or one that is not valid (named with what is wrong).
    """
    path = Path(folder) / INDEX_NAME
    if not path.is_file():
        raise SessionError(f"{folder}: not a sweep folder (it has no {INDEX_NAME}; "
                           f"python main.py sweep ... --out {folder} makes one)")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SessionError(f"{path}: cannot be read as a sweep index ({e})") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise SessionError(f"{path}: is not an Autoencoder Studio sweep index")
    if not isinstance(d.get("version"), int) or d["version"] > VERSION:
        raise SessionError(f"{path}: was written by a newer Autoencoder Studio (sweep index "
                           f"version {d.get('version')}); update the app to open it")
    try:
        runs = [IndexedRun(**r) for r in d["runs"]]
        axes = [{"field": str(a["field"]), "values": list(a["values"])} for a in d["axes"]]
        return SweepIndex(base=dict(d["base"]), axes=axes, runs=runs)
    except (KeyError, TypeError) as e:
        raise SessionError(f"{path}: the sweep index is damaged ({e})") from None
