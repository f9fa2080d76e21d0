"""Why Qt's window system plugin cannot start here, in words that say what to install.

On Linux Qt draws through a platform plugin (``xcb`` for X11). When one of
the system libraries that plugin links to is missing, Qt prints that
``xcb-cursor0`` is needed (even when it is installed and another library is
the one missing) and aborts the whole process. Two guards replace that:

- :func:`missing_xcb_libraries` asks the dynamic linker (``ldd``), before Qt
  starts, which libraries of the xcb plugin cannot be found; :func:`xcb_advice`
  names the Debian/Ubuntu packages that provide them.
- :class:`FatalPlatformMessage` catches Qt's fatal "no Qt platform plugin could
  be initialized" (any other cause: no X server at ``$DISPLAY``, a broken
  Wayland session) and exits with code 2 and a plain message instead of an abort.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

EXIT_CODE = 2

#: The packages Qt's xcb plugin needs on Debian and Ubuntu (the README lists the same).
DEBIAN_PACKAGES = ("libegl1", "libgl1", "libfontconfig1", "libdbus-1-3", "libxkbcommon-x11-0",
                   "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1",
                   "libxcb-randr0", "libxcb-render-util0", "libxcb-shape0", "libxcb-xkb1")

#: Sonames whose Debian package name does not follow the usual rule.
_PACKAGE_EXCEPTIONS = {"libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0",
                       "libGLX.so.0": "libglx0", "libGLdispatch.so.0": "libglvnd0"}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def xcb_plugin() -> Path | None:
    """The xcb platform plugin of the installed Qt, or None when there is none."""
    from PySide6.QtCore import QLibraryInfo  # QtCore only: no window system is touched
    plugin = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms" \
        / "libqxcb.so"
    return plugin if plugin.exists() else None


def uses_xcb(environ=os.environ) -> bool:
    """Will Qt pick the xcb plugin? (Linux, an X display, no other platform asked for.)"""
    if not sys.platform.startswith("linux"):
        return False
    asked = environ.get("QT_QPA_PLATFORM", "")
    if asked:
        return asked.split(";")[0].split(":")[0] == "xcb"
    wayland = environ.get("XDG_SESSION_TYPE") == "wayland" and environ.get("WAYLAND_DISPLAY")
    return bool(environ.get("DISPLAY")) and not wayland


def missing_xcb_libraries(plugin: Path | None = None) -> list[str]:
    """Sonames the xcb plugin links to that the dynamic linker cannot find ([] when all
    are found, or when this cannot be told: no ``ldd``, no plugin)."""
    plugin = plugin or xcb_plugin()
    ldd = shutil.which("ldd")
    if plugin is None or ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_ldd(out.stdout)


def parse_ldd(text: str) -> list[str]:
    """The libraries ``ldd`` reports as ``not found``, each once, in order."""
    return list(dict.fromkeys(_NOT_FOUND.findall(text)))


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that usually ships ``soname``.

    ``libxcb-icccm.so.4`` -> ``libxcb-icccm4``; a name ending in a digit takes a
    hyphen: ``libxkbcommon-x11.so.0`` -> ``libxkbcommon-x11-0``.
    """
    if soname in _PACKAGE_EXCEPTIONS:
        return _PACKAGE_EXCEPTIONS[soname]
    match = re.fullmatch(r"(.+?)\.so\.(\d+)(?:\.\d+)*", soname)
    if not match:
        return soname
    name, major = match.group(1).lower(), match.group(2)
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def xcb_advice(missing: list[str]) -> str:
    """What to tell the user when the xcb plugin's libraries ``missing`` are not installed."""
    packages = " ".join(dict.fromkeys(debian_package(m) for m in missing))
    return (f"the window cannot start: Qt's X11 plugin (xcb) needs system libraries that "
            f"are not installed ({', '.join(missing)}). On Debian or Ubuntu install them "
            f"with:\n    sudo apt-get install {packages}\n"
            f"(the README lists every package the window needs). The headless commands "
            f"work without them: python main.py --help")


def fatal_advice(messages: list[str], environ=os.environ) -> str:
    """What to tell the user when Qt gave up starting any platform plugin.

    ``messages`` are Qt's own messages so far; the last lines of them are kept
    (they name the plugin that failed), after our explanation.
    """
    text = "\n".join(messages)
    display = environ.get("DISPLAY", "")
    if "could not connect to display" in text.lower():
        reason = (f"there is no X server at DISPLAY={display!r} (is the desktop running, "
                  f"or DISPLAY set to another machine's?).")
    elif "xcb" in text:
        reason = ("Qt's X11 plugin (xcb) could not be loaded; on Debian or Ubuntu install "
                  "the system packages it needs:\n    sudo apt-get install "
                  + " ".join(DEBIAN_PACKAGES))
    else:
        reason = "Qt could not start a window system plugin."
    # Qt's hint about xcb-cursor0 comes whatever the cause, and its last line only says
    # that it failed: keep the lines that say why.
    details = [m.strip().splitlines()[0] for m in messages if m.strip()
               and "xcb-cursor0" not in m and "failed to start" not in m][-3:]
    return (f"the window cannot start: {reason}\n"
            f"Headless commands work without a window: python main.py --help. Qt said:\n  "
            + "\n  ".join(details))


class FatalPlatformMessage:
    """A Qt message handler while the application starts: Qt's abort becomes exit code 2.

    Qt's other messages meanwhile are held, and printed when the application has
    started (on failure they are part of the explanation instead). Use as
    ``with FatalPlatformMessage(): QApplication(...)``.
    """

    def __init__(self, stream=None, exit=os._exit):
        self.stream = stream or sys.stderr
        self.messages: list[str] = []
        self._exit = exit

    def __call__(self, kind, context, message: str) -> None:
        from PySide6.QtCore import QtMsgType
        self.messages.append(message)
        if kind == QtMsgType.QtFatalMsg and "platform plugin" in message:
            self.stream.write(f"error: {fatal_advice(self.messages)}\n")
            self.stream.flush()
            self._exit(EXIT_CODE)  # returning would let Qt abort the process

    def __enter__(self) -> "FatalPlatformMessage":
        from PySide6.QtCore import qInstallMessageHandler
        qInstallMessageHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        from PySide6.QtCore import qInstallMessageHandler
        qInstallMessageHandler(None)  # Qt's own output again
        for message in self.messages:
            self.stream.write(message + "\n")
