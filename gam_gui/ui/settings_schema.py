"""Every value the window reads back from its settings file, declared once, with its default and rule.

Why: the settings file is user-editable text (``~/.config/gam-gui/gam-gui.conf``). A value the
controls cannot hold (``iou=nan``, ``conf=inf``, ``alpha=1e400``, ``target_index=99999999999``, a
``layers`` list of 5,000 digits) used to stop the window at every start until the file was edited
by hand. Here each key is read through the same rules the command line uses
(:mod:`gam_gui.validate`), plus the range of the control that shows it; a value that fails falls
back to its default and leaves one line in :attr:`SettingsReader.notices` (the window shows them in
the status bar and logs them).

The module is Qt-free: it needs only an object with ``value(key, default)`` and ``contains(key)``
(QSettings), so the rules can be tested without a window.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gam_gui import validate as V

LOGGER = logging.getLogger(__name__)

#: Longest text accepted for any scalar setting: nothing the window writes is near it, and a
#: megabyte of digits must not reach ``int()``.
MAX_TEXT = 512
#: The controls' ranges (the widgets clamp to these; a value outside is a bad value, not a clamp).
IMGSZ_RANGE = (64, 1920)
TARGET_INDEX_MAX = 9999
CLASS_ID_MAX = 99_999
CAM_EVERY_RANGE = (1, 60)
LAYER_INDEX_MAX = 9_999
MAX_LAYERS = 256
TARGET_MODES = ("all", "class", "box", "clicked", "cls")
#: Target modes that name something on one frame (a clicked detection): they make no sense at the
#: next start, where nothing is clicked, so they go back to "all" (issue 25.10).
FRAME_BOUND_TARGETS = ("clicked",)
REDUCTIONS = ("mean", "max")
DEVICES = ("cpu", "cuda")


class BadSettingError(ValueError):
    """A stored value that breaks its rule; ``key`` and ``value`` (shortened) say which."""

    def __init__(self, key: str, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.key = key
        self.value = value
        self.reason = reason


def _text(value: Any) -> str:
    """A scalar setting as text; lists (an INI line with commas) and over-long text are refused."""
    if isinstance(value, (list, tuple, dict)):
        raise ValueError("a list where one value was expected")
    if isinstance(value, bytes | bytearray):
        raise ValueError("binary data where one value was expected")
    s = str(value)
    if len(s) > MAX_TEXT:
        raise ValueError(f"{len(s)} characters long")
    return s.strip()


def _finite_unit(value: Any, name: str) -> float:
    x = V.check_unit(_text(value), name)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite")
    return x


def _bounded_int(lo: int, hi: int) -> Callable[[Any, str], int]:
    def check(value: Any, name: str) -> int:
        i = V.check_count(_text(value), name, lo)
        if i > hi:
            raise ValueError(f"{name} must be at most {hi}, got {i}")
        return i

    return check


def _imgsz(value: Any, name: str) -> int:
    i = V.check_imgsz(_text(value), name)
    lo, hi = IMGSZ_RANGE
    if not lo <= i <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {i}")
    return i


def _gam_layer(value: Any, name: str) -> int:
    """-1 (the first block) or a layer index."""
    s = _text(value)
    if s == "-1":
        return -1
    return _bounded_int(0, LAYER_INDEX_MAX)(s, name)


def _choice(choices: tuple[str, ...]) -> Callable[[Any, str], str]:
    def check(value: Any, name: str) -> str:
        s = _text(value)
        if s not in choices:
            raise ValueError(f"{name} {s[:40]!r} is not one of {', '.join(choices)}")
        return s

    return check


def _method(value: Any, name: str) -> str:
    return V.check_method(_text(value), name)


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    s = _text(value).lower()
    if s in ("true", "1"):
        return True
    if s in ("false", "0"):
        return False
    raise ValueError(f"{name} must be true or false")


def _layers(value: Any, name: str) -> tuple[int, ...]:
    """Comma-separated layer indices (an unquoted INI line comes back as a list)."""
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_LAYERS:
            raise ValueError(f"{name}: more than {MAX_LAYERS} layers")
        parts = [_text(x) for x in value]
    else:
        parts = _text(value).split(",")
    parts = [p.strip() for p in parts if p.strip()]
    if len(parts) > MAX_LAYERS:
        raise ValueError(f"{name}: more than {MAX_LAYERS} layers")
    return tuple(_bounded_int(0, LAYER_INDEX_MAX)(p, name) for p in parts)


def _path(value: Any, name: str) -> str:
    s = _text(value) if not isinstance(value, str) else value
    if len(s) > 4096 or "\0" in s:
        raise ValueError(f"{name} is not a usable path")
    return s


def _paths(value: Any, name: str) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    items = value if isinstance(value, (list, tuple)) else [value]
    return tuple(_path(x, name) for x in items[:64])


@dataclass(frozen=True)
class Setting:
    """One stored key: its default and the rule (a ``validate``-style check: value, name -> clean)."""

    key: str
    default: Any
    rule: Callable[[Any, str], Any]

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


#: Every key the window reads back (window geometry and state are Qt's own blobs: :func:`blob`).
SCHEMA: dict[str, Setting] = {s.key: s for s in (
    Setting("controls/conf", 0.25, _finite_unit),
    Setting("controls/iou", 0.45, _finite_unit),
    Setting("controls/imgsz", 640, _imgsz),
    Setting("controls/method", "auto", _method),
    Setting("controls/layers", (), _layers),
    Setting("controls/target_mode", "all", _choice(TARGET_MODES)),
    Setting("controls/target_index", 0, _bounded_int(0, TARGET_INDEX_MAX)),
    Setting("controls/target_class", 0, _bounded_int(0, CLASS_ID_MAX)),
    Setting("controls/renorm_boxes", False, _bool),
    Setting("controls/cam_every", 1, _bounded_int(*CAM_EVERY_RANGE)),
    Setting("controls/gam_layer", -1, _gam_layer),
    Setting("controls/reduction", "mean", _choice(REDUCTIONS)),
    Setting("controls/gam_view", "gates", _choice(V.GAM_VIEWS)),
    Setting("controls/scale", "per-frame", _choice(V.SCALES)),
    Setting("controls/colormap", "jet", _choice(V.COLORMAP_NAMES)),
    Setting("controls/alpha", 0.5, _finite_unit),
    Setting("controls/device", "cpu", _choice(DEVICES)),
    Setting("controls/imgsz_weights", "", _path),
    Setting("view/chart", True, _bool),
    Setting("playback/loop", True, _bool),
    Setting("paths/recent", (), _paths),
    Setting("paths/last_folder", "", _path),
    Setting("paths/last_weights", "", _path),
    Setting("paths/last_stream", "rtsp://", _path),
)}


def panel_setting(panel_key: str) -> Setting:
    """``view/panel_<key>``: whether a panel is shown (one per panel, so built on demand)."""
    return Setting(f"view/panel_{panel_key}", True, _bool)


def short(value: Any, limit: int = 40) -> str:
    """A stored value for a one-line notice: its repr, cut to ``limit`` characters."""
    r = repr(value)
    return r if len(r) <= limit else f"{r[:limit - 3]}..."


@dataclass
class SettingsReader:
    """Reads keys of :data:`SCHEMA` from a QSettings-like store; bad values -> default + a notice."""

    store: Any
    notices: list[str] = field(default_factory=list)
    bad: list[BadSettingError] = field(default_factory=list)

    def bad_keys(self) -> set[str]:
        """The keys whose stored value was ignored."""
        return {b.key for b in self.bad}

    def get(self, key: str | Setting) -> Any:
        """The clean value of ``key``, or its default when it is absent or breaks its rule."""
        s = key if isinstance(key, Setting) else SCHEMA[key]
        try:
            if not self.store.contains(s.key):
                return s.default
            raw = self.store.value(s.key)
        except Exception as e:  # noqa: BLE001 - an unreadable store entry is a bad value, not a crash
            raw, reason = "?", type(e).__name__
        else:
            if raw is None:
                return s.default
            try:
                return s.rule(raw, s.name)
            except (ValueError, TypeError, OverflowError) as e:
                reason = str(e) or type(e).__name__
        self.notice(BadSettingError(s.key, raw, reason))
        return s.default

    def has(self, key: str) -> bool:
        try:
            return bool(self.store.contains(key))
        except Exception:  # noqa: BLE001
            return False

    def notice(self, err: BadSettingError) -> None:
        self.bad.append(err)
        line = (f"settings: {err.key}={short(err.value)} ignored ({err.reason[:120]}); "
                f"using the default {short(SCHEMA[err.key].default if err.key in SCHEMA else '')}")
        self.notices.append(line)
        LOGGER.warning("%s", line)


def blob(store: Any, key: str) -> Any:
    """A Qt state blob (window geometry, dock state): the stored QByteArray, or None for anything
    else (a hand-edited text value would make ``restoreGeometry`` raise TypeError)."""
    try:
        v = store.value(key)
    except Exception:  # noqa: BLE001
        return None
    return v if type(v).__name__ == "QByteArray" else None
