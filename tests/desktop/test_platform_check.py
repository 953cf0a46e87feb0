"""The start-up check that stops Qt from aborting when it cannot open a window."""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop import platform_check
from desktop.platform_check import XCB_LIBRARIES, check_platform

X11 = {"DISPLAY": ":0"}


def elf_needed(path: Path) -> list[str]:
    """The DT_NEEDED entries of a 64-bit little-endian ELF file (what `readelf -d` lists)."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, f"{path} is not ELF64 LE"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    dynamic = next(s for s in sections if s[1] == 6)  # SHT_DYNAMIC
    strtab = sections[dynamic[6]]  # sh_link names the string table
    names = []
    for offset in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, value = struct.unpack_from("<qQ", data, offset)
        if tag == 0:
            break
        if tag == 1:  # DT_NEEDED
            start = strtab[4] + value
            names.append(data[start:data.index(b"\0", start)].decode())
    return names


@pytest.mark.skipif(sys.platform != "linux", reason="the xcb plugin exists on Linux only")
def test_the_table_covers_every_system_library_the_installed_plugin_needs() -> None:
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    needed: set[str] = set()
    for binary in (qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6",
                   qt / "lib" / "libQt6Gui.so.6", qt / "lib" / "libQt6DBus.so.6"):
        needed |= set(elf_needed(binary))
    bundled = {n for n in needed if n.startswith(("libQt6", "libicu"))}
    toolchain = {n for n in needed if n.split(".so")[0] in
                 ("libc", "libm", "libstdc++", "libgcc_s", "libz", "libzstd", "ld-linux-x86-64", "libdl",
                  "libpthread", "librt")}
    assert "libxcb-cursor.so.0" in needed  # the library that started this check
    assert needed - bundled - toolchain <= set(XCB_LIBRARIES)


def test_a_missing_library_names_the_packages_and_the_command() -> None:
    problem = check_platform(environ=X11, platform="linux", loads=lambda name: name != "libxcb-cursor.so.0",
                             connects=lambda display: True)
    assert problem is not None and problem.missing == ("libxcb-cursor.so.0",)
    assert "sudo apt-get install libxcb-cursor0\n" in problem.message
    assert "sudo dnf install xcb-util-cursor\n" in problem.message
    assert "cloister --help" in problem.message


def test_several_missing_libraries_list_each_package_once() -> None:
    gone = {"libxcb-randr.so.0", "libxcb-shm.so.0", "libxcb-icccm.so.4"}
    problem = check_platform(environ=X11, platform="linux", loads=lambda name: name not in gone,
                             connects=lambda display: True)
    assert problem is not None and set(problem.missing) == gone
    assert "apt-get install libxcb-icccm4 libxcb-randr0 libxcb-shm0\n" in problem.message
    assert "dnf install libxcb xcb-util-wm\n" in problem.message  # randr and shm are both in libxcb


def test_the_real_loader_reports_a_library_that_does_not_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(XCB_LIBRARIES, "libcloister-absent.so.7", ("cloister-absent7", "cloister-absent"))
    problem = check_platform(environ=X11, platform="linux", connects=lambda display: True)
    assert problem is not None and "libcloister-absent.so.7" in problem.missing
    assert "cloister-absent7" in problem.message


def test_no_display_says_so() -> None:
    problem = check_platform(environ={}, platform="linux", loads=lambda name: True)
    assert problem is not None and "there is no display" in problem.message
    assert "cloister demo" in problem.message


def test_an_unreachable_display_says_so() -> None:
    problem = check_platform(environ={"DISPLAY": ":97"}, platform="linux", loads=lambda name: True,
                             connects=lambda display: False)
    assert problem is not None and "':97'" in problem.message and "does not answer" in problem.message


def test_the_real_connection_check_fails_for_a_display_nobody_serves() -> None:
    if not platform_check._loads("libxcb.so.1"):
        pytest.skip("libxcb is not installed here")
    assert platform_check._connects(":96") is False


@pytest.mark.parametrize("environ", [{"QT_QPA_PLATFORM": "offscreen"}, {"QT_QPA_PLATFORM": "wayland"},
                                     {"WAYLAND_DISPLAY": "wayland-0"}])
def test_platforms_that_do_not_use_xcb_are_not_checked(environ: dict[str, str]) -> None:
    assert check_platform(environ=environ, platform="linux", loads=lambda name: False) is None


def test_windows_and_macos_need_nothing_extra() -> None:
    for platform in ("win32", "darwin"):
        assert check_platform(environ={}, platform=platform, loads=lambda name: False) is None


def test_main_exits_with_the_message_on_stderr_and_in_a_log(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str],
                                                             isolated_dirs: dict[str, Path]) -> None:
    from desktop import app

    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(platform_check, "_loads", lambda name: name != "libxcb-cursor.so.0")
    monkeypatch.setattr(sys, "platform", "linux")
    assert app.main() == app.EXIT_NO_PLATFORM
    err = capsys.readouterr().err
    assert "sudo apt-get install libxcb-cursor0" in err
    log = isolated_dirs["XDG_DATA_HOME"] / "Cloister" / "logs" / "startup-error.log"
    assert log.read_text(encoding="utf-8").strip() == err.strip()


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is not installed (.ci/run installs it)")
def test_the_window_opens_under_xvfb(tmp_path: Path, isolated_dirs: dict[str, Path]) -> None:
    display = f":{90 + os.getpid() % 9}"
    # -noreset: by default Xvfb resets when its last client leaves, here the readiness probe just
    # below; on a loaded machine the app then connected mid-reset and failed (a flaky test).
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp",
                               "-noreset"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not platform_check._connects(display):
            assert server.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.1)
        env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
        env.update(DISPLAY=display, CLOISTER_QUIT_AFTER_SHOW="1")
        done = subprocess.run([sys.executable, "-m", "desktop.launcher"], env=env, capture_output=True,
                              text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("SHOWN ")
    finally:
        server.terminate()
        server.wait(timeout=10)
