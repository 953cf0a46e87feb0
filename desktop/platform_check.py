"""Can Qt open a window here? Checked before ``QApplication`` exists, because Qt aborts the whole
process (SIGABRT, no exception, no dialog) when its platform plugin cannot load.

The common case is a stock Debian/Ubuntu desktop without ``libxcb-cursor0``: Qt 6.5+ needs it,
and several other xcb helper libraries, to load its X11 plugin. This module tries to load each
shared library the plugin links against and, when some are missing, names the packages that
provide them and the command that installs them. It imports only the standard library, so it
runs in a frozen build and before any Qt import.
"""
from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

# The shared libraries Qt 6's xcb platform plugin (libqxcb.so and libQt6XcbQpa.so.6) and Qt Gui
# link against outside Qt itself, with the Debian/Ubuntu and the Fedora package providing each.
# tests/desktop/test_platform_check.py reads the installed plugin's ELF header to prove the table
# covers every one of them.
XCB_LIBRARIES: Mapping[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
}

@dataclass(frozen=True)
class PlatformProblem:
    """Why the window cannot open, in words for the user, and the libraries found missing."""

    message: str
    missing: tuple[str, ...] = ()


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def _connects(display: str) -> bool:
    """Can libxcb reach the X server named by ``display``? (Qt aborts when it cannot.)"""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return False
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        return bool(connection) and xcb.xcb_connection_has_error(connection) == 0
    finally:
        if connection:
            xcb.xcb_disconnect(connection)


def check_platform(*, environ: Mapping[str, str] | None = None, platform: str | None = None,
                   loads: Callable[[str], bool] | None = None,
                   connects: Callable[[str], bool] | None = None) -> PlatformProblem | None:
    """``None`` when Qt can start its platform plugin here, else what is wrong and what to do.

    ``environ``, ``platform``, ``loads`` and ``connects`` are for tests: they stand for
    ``os.environ``, ``sys.platform``, "can the dynamic loader open this library" and "does the
    X server answer".
    """
    env = os.environ if environ is None else environ
    loads = loads or _loads
    connects = connects or _connects
    if (platform or sys.platform) != "linux":
        return None  # Windows and macOS wheels carry everything Qt needs
    requested = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if requested and requested != "xcb":
        return None  # offscreen, wayland, eglfs...: not the X11 plugin this module knows
    if not requested and env.get("WAYLAND_DISPLAY"):
        return None  # Qt picks its Wayland plugin; xcb is only its fallback
    if not env.get("DISPLAY"):
        return PlatformProblem(
            "Cloister cannot open its window: there is no display (neither DISPLAY nor "
            "WAYLAND_DISPLAY is set). Start it from a desktop session, or over SSH with X "
            "forwarding (ssh -X). On a server, use the command line instead: "
            "'cloister --help' lists the commands, and 'cloister demo' runs the whole flow.")
    missing = tuple(name for name in XCB_LIBRARIES if not loads(name))
    if not missing:
        if connects(env["DISPLAY"]):
            return None
        return PlatformProblem(
            f"Cloister cannot open its window: the X display {env['DISPLAY']!r} (from DISPLAY) "
            "does not answer. Check that the desktop session is running and DISPLAY is right; "
            "over SSH, connect with 'ssh -X'.")
    debian = sorted({XCB_LIBRARIES[name][0] for name in missing})
    fedora = sorted({XCB_LIBRARIES[name][1] for name in missing})
    return PlatformProblem(
        "Cloister cannot open its window: Qt's X11 platform plugin needs system libraries that "
        f"are not installed ({', '.join(missing)}).\n"
        f"  Debian/Ubuntu:  sudo apt-get install {' '.join(debian)}\n"
        f"  Fedora/RHEL:    sudo dnf install {' '.join(fedora)}\n"
        "Then start Cloister again. The command line works without them: 'cloister --help'.",
        missing=missing)


def report(problem: PlatformProblem, *, log_dir: Path | None = None) -> Path | None:
    """Write the problem to stderr and to a log file in the user's data folder (a frozen,
    windowed app has no terminal to show stderr in). Returns the log file, if it was written."""
    if sys.stderr is not None:
        print(problem.message, file=sys.stderr)
    folder = log_dir if log_dir is not None else default_log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "startup-error.log"
        path.write_text(problem.message + "\n", encoding="utf-8")
    except OSError:
        return None  # nowhere to write: stderr is all we can do
    return path


def default_log_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("Cloister", appauthor=False) / "logs"
