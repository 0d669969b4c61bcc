"""Before the window starts on Linux: can Qt reach a display through its ``xcb`` plugin?

Why: when a library the plugin needs is missing (a slim Linux lacks ``libxcb-icccm4``,
``libxcb-keysyms1``, ``libxcb-xinerama0``, ...) or no display is set, Qt prints "Could not load the
Qt platform plugin "xcb"" and aborts the process, where Python cannot catch it. So the libraries are
tried first, by their sonames, and a missing one is reported with the one ``apt-get`` line that
installs them all (issue 25.13).
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

#: The shared libraries Qt 5's xcb platform plugin loads beyond glibc, and the Debian/Ubuntu package
#: that ships each (``ldd libqxcb.so`` of the PyQt5 wheel).
XCB_LIBRARIES = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libGL.so.1": "libgl1",
}
#: Everything above in one line (the README's line too).
APT_LINE = "sudo apt-get install -y " + " ".join(sorted(set(XCB_LIBRARIES.values())))


@dataclass
class PlatformProblem:
    """Why the window cannot start: ``missing`` sonames (with their ``packages``), or ``no_display``."""

    missing: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    no_display: bool = False

    def message(self) -> str:
        if self.no_display:
            return ("no display: $DISPLAY is not set. Start gam-gui in a desktop session, over ssh -X, or "
                    "under xvfb-run; 'gam-gui export' needs no display.")
        return (f"Qt cannot load its xcb platform plugin: missing {', '.join(self.missing)}. Install them with: "
                f"sudo apt-get install -y {' '.join(self.packages)}  (all the window needs: {APT_LINE})")


def _load(name: str) -> object:
    return ctypes.CDLL(name)


def platform_problem(environ: dict | None = None, platform: str = sys.platform,
                     load: Callable[[str], object] = _load) -> PlatformProblem | None:
    """A :class:`PlatformProblem` when Qt would start with the xcb plugin and could not, else None.

    Only on Linux, and only when the platform is xcb (``QT_QPA_PLATFORM`` unset or ``xcb``): an
    ``offscreen`` or Wayland session is left to Qt."""
    env = os.environ if environ is None else environ
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen and not chosen.startswith("xcb"):
        return None
    if not chosen and env.get("WAYLAND_DISPLAY"):
        return None
    if not env.get("DISPLAY"):
        return PlatformProblem(no_display=True)
    missing = []
    for soname in XCB_LIBRARIES:
        try:
            load(soname)
        except OSError:
            missing.append(soname)
    if not missing:
        return None
    return PlatformProblem(missing, sorted({XCB_LIBRARIES[m] for m in missing}))
