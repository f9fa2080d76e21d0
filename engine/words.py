"""Numbers as a user reads them, in one place for the CLI and the window."""

from __future__ import annotations


def size_words(n: int) -> str:
    """A byte count in decimal units: ``"87.3 MB"``, ``"512 bytes"``."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"
