"""Starting the window where there is no display gives a message, not a Qt abort."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_display_is_a_clear_error_with_exit_2():
    if not sys.platform.startswith("linux"):
        return
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert "no display" in r.stderr and "python main.py train" in r.stderr


def _x11_env(**extra) -> dict:
    """An X11 desktop's environment whose display has no server behind it."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")}
    env.update(DISPLAY=":97531", **extra)
    return env


def test_a_window_system_that_cannot_start_is_a_clear_error_not_an_abort():
    """Missing xcb libraries (named, with the apt-get line) or no X server at $DISPLAY:
    either way exit 2 with words, where Qt alone aborts (exit 134) with a misleading hint."""
    if not sys.platform.startswith("linux"):
        return
    r = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=_x11_env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error: the window cannot start"), r.stderr
    assert ("sudo apt-get install" in r.stderr) or ("no X server at DISPLAY=':97531'" in r.stderr)
    assert "python main.py --help" in r.stderr


def test_qt_fatal_platform_message_becomes_exit_2_even_without_ldd():
    """Without ldd nothing is checked beforehand: Qt's own fatal message is caught."""
    if not sys.platform.startswith("linux"):
        return
    r = subprocess.run([sys.executable, "main.py"], cwd=ROOT,
                       env=_x11_env(PATH="/nonexistent"), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error: the window cannot start"), r.stderr
    assert "Qt said:" in r.stderr


def test_missing_libraries_are_read_from_ldd_and_named_as_debian_packages():
    from gui.platform_plugin import debian_package, parse_ldd, xcb_advice
    ldd = ("\tlinux-vdso.so.1 (0x00007ffd)\n"
           "\tlibxcb-icccm.so.4 => not found\n"
           "\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x7f)\n"
           "\tlibxcb-keysyms.so.1 => not found\n"
           "\tlibxcb-icccm.so.4 => not found\n")
    missing = parse_ldd(ldd)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert [debian_package(m) for m in missing] == ["libxcb-icccm4", "libxcb-keysyms1"]
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libEGL.so.1") == "libegl1"
    assert debian_package("libdbus-1.so.3") == "libdbus-1-3"
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n" in xcb_advice(missing)


def test_the_xcb_plugin_is_expected_only_on_an_x11_desktop():
    from gui.platform_plugin import uses_xcb
    if not sys.platform.startswith("linux"):
        return
    assert uses_xcb({"DISPLAY": ":0"})
    assert not uses_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"})
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"})
    assert not uses_xcb({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland",
                         "WAYLAND_DISPLAY": "wayland-0"})
