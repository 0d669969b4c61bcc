"""The rules for user-given values, in one place, for the command line and the Python API alike.

Each rule is a ``check_*`` function that returns the cleaned value or raises ``ValueError`` whose
text starts with the value's name (``conf must be in [0, 1], got 2.0``). The API passes its
parameter names (``conf``, ``gam_layer``); the CLI wraps the same functions as argparse ``type=``
callables (:func:`arg`), which report the same words after ``argument --conf:`` and exit 2, as
argparse does for every usage error. So a rule changes in one place and both stay in step.

This module imports nothing heavy (no numpy, torch or cv2): ``gam-gui --help`` and the checks of
paths before a model loads must stay fast. The name lists below mirror the heavy modules that own
them (``explain.cams.METHODS``, ``render.COLORMAPS``, ``models.gam.VARIANTS``,
``sources.STREAM_PREFIXES``); ``tests/cli/test_cli_strict.py`` checks they agree.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

LOGGER = logging.getLogger(__name__)

#: CAM methods (``explain.cams.METHOD_CHOICES``) and the aliases ``canonical_method`` accepts.
METHOD_NAMES = ("auto", "gradcam", "gradcam++", "xgradcam", "hirescam", "layercam", "eigencam", "eigengradcam", "none")
METHOD_ALIASES = {"gradcampp": "gradcam++", "gradcamplusplus": "gradcam++", "grad-cam": "gradcam", "off": "none"}
#: ``render.COLORMAPS``
COLORMAP_NAMES = ("jet", "turbo", "inferno", "viridis", "magma", "plasma", "hot", "bone")
#: ``models.gam.VARIANTS``
GAM_VARIANTS = ("seed", "paper", "paper-shuffle")
#: Heatmap colour scales (``Settings.scale``, ``--scale``): each frame's range, or one held over a video.
SCALES = ("per-frame", "fixed")
#: What the two GAM panels show (``Settings.gam_view``, ``--gam-view``): the gates, or a gain beside a gate.
GAM_VIEWS = ("gates", "gain", "channel-gain", "spatial-gain")
#: ``sources.STREAM_PREFIXES``: sources that are not paths
STREAM_PREFIXES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")

_TARGET = re.compile(r"^(all|class|box|\d+|cls:\s*\d+)$")


class UsageError(ValueError):
    """A value that is wrong for the model that was loaded (``--gam-layer``, ``--layers``): a usage
    error (exit 2) that can only be found once the model is known. ``option`` names the argument."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


def _number(value: Any, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or math.isnan(x):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return x


def check_unit(value: Any, name: str) -> float:
    """A fraction in [0, 1]: ``conf``, ``iou``, ``alpha``. A confidence of 2 keeps no box and -1
    keeps every raw prediction; both look like a working model, so they are refused."""
    x = _number(value, name)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return x


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """An integer >= ``minimum`` (``every``, ``max_frames``, ``imgsz``, ``threads``)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    try:
        i = int(value) if not isinstance(value, str) else int(value.strip())
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}") from None
    if isinstance(value, float) and value != i:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if i < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return i


#: ``gam-gui --threads`` / ``$GAM_GUI_THREADS`` above this is a usage error: 10,000 made 30,001 OS
#: threads and, under a memory cap, a window that could not start its worker (issue 26.9).
MAX_THREADS = 256


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. a container's share), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def check_threads(value: Any, name: str = "threads") -> int:
    """A thread count in [1, MAX_THREADS]; :func:`cap_threads` then caps it at the CPUs."""
    i = check_count(value, name, 1)
    if i > MAX_THREADS:
        raise ValueError(f"{name} must be at most {MAX_THREADS} (this machine has {usable_cpus()} CPUs), got {i}")
    return i


def cap_threads(threads: int, name: str = "threads") -> int:
    """``threads`` capped at the CPUs this process may use, with a logged notice when it was more:
    more threads than CPUs only spin at each barrier."""
    cpus = usable_cpus()
    if threads > cpus:
        LOGGER.warning("%s %d is more than the %d CPUs available: using %d", name, threads, cpus, cpus)
        return cpus
    return threads


def check_positive(value: Any, name: str) -> float:
    """A number > 0 (a learning rate)."""
    x = _number(value, name)
    if not (x > 0 and math.isfinite(x)):
        raise ValueError(f"{name} must be a number > 0, got {value}")
    return x


def check_imgsz(value: Any, name: str = "imgsz") -> int:
    """A positive inference size (the stride rounding needs the model: :func:`round_imgsz`)."""
    return check_count(value, name, 1)


_NOTICED: set[tuple[int, int]] = set()


def round_imgsz(imgsz: int, stride: int, name: str = "imgsz") -> int:
    """``imgsz`` rounded up to a multiple of the model's largest stride, with a logged notice the
    first time a value is changed (as ultralytics' ``check_imgsz`` does): the network input is
    padded to the stride anyway, and the letterbox must scale to the size actually used."""
    imgsz = check_imgsz(imgsz, name)
    stride = max(1, int(stride))
    out = -(-imgsz // stride) * stride
    if out != imgsz and (imgsz, stride) not in _NOTICED:
        _NOTICED.add((imgsz, stride))
        LOGGER.warning("%s %d is not a multiple of the model's stride %d: using %d", name, imgsz, stride, out)
    return out


def check_method(value: Any, name: str = "method") -> str:
    """A CAM method name, normalised as ``explain.cams.canonical_method`` does."""
    key = str(value).strip().lower().replace("_", "").replace(" ", "")
    key = METHOD_ALIASES.get(key, key)
    if key not in METHOD_NAMES:
        raise ValueError(f"{name} {value!r} is unknown; choose one of {', '.join(METHOD_NAMES)}")
    return key


def check_target(value: Any, name: str = "target", nc: int | None = None) -> str:
    """The grammar of ``explain.cams.TargetSpec.parse``: all, class, box, a detection index, cls:<id>;
    with ``nc`` (the model's class count) a ``cls:<id>`` must name one of its classes."""
    t = str(value).strip().lower()
    if len(t) > 40 or not _TARGET.match(t):
        raise ValueError(f"{name} {str(value)[:40]!r} is unknown; use all, class, box, a detection index or "
                         "cls:<id>")
    if nc is not None and t.startswith("cls:") and int(t[4:]) >= nc:
        raise ValueError(f"{name} {t}: the model has {nc} classes (cls:0 to cls:{nc - 1})")
    return str(value).strip()


def check_gam_layer(value: int | None, gam_blocks: Sequence[int], name: str = "gam_layer",
                    what: str = "GAM block") -> int | None:
    """``None`` (the first block) or the index of one of the model's attention blocks (``what``: how
    the error names them, ``GAM block`` for a model with GAM only)."""
    if value is None:
        return None
    i = check_count(value, name, 0)
    if i not in gam_blocks:
        where = f"{what}s: {', '.join(map(str, gam_blocks))}" if gam_blocks else f"the model has no {what}s"
        raise ValueError(f"{name} {value} is not a{'n' if what[0] in 'aeiou' else ''} {what}; {where}")
    return i


#: A gate's name as the registry writes them (``channel``, ``branch-hw``): what ``--gate`` accepts.
_GATE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")


def is_gate_name(value: object) -> bool:
    """Whether ``value`` can be a gate's name (checked against the block when drawn)."""
    return isinstance(value, str) and bool(_GATE_NAME.fullmatch(value))


def check_gate(value: str, name: str = "gate") -> str:
    """A gate name for ``--gate`` (``ValueError`` otherwise)."""
    if not is_gate_name(value):
        raise ValueError(f"{name} {str(value)[:40]!r} is not a gate name (letters, digits, '-', '_')")
    return value


def check_layer_indices(layers: Iterable[Any], n_layers: int, name: str = "layers") -> tuple[int, ...]:
    """Layer indices of a model with ``n_layers`` layers (the last is the head, which has no map to
    explain); negative indices count from the end. Duplicates are dropped, order kept."""
    out = []
    for x in layers:
        try:
            i = int(x)
            if isinstance(x, bool) or i != x and not isinstance(x, str):
                raise ValueError
        except (TypeError, ValueError):
            i = n_layers  # out of range below
        j = i + n_layers if i < 0 else i
        if not 0 <= j < n_layers - 1:
            raise ValueError(f"{name}: layer {x} is out of range; valid layers: 0..{n_layers - 2} "
                             f"(the head is {n_layers - 1})")
        out.append(j)
    return tuple(dict.fromkeys(out))


def check_source(spec: str | os.PathLike | int) -> None:
    """Fail fast (``FileNotFoundError``, exit 1 in the CLI) for a source path that does not exist,
    before a model is loaded; cameras and stream URLs are left to the source readers."""
    if isinstance(spec, int):
        return
    s = str(spec)
    if s.startswith("camera:") or s.lower().startswith(STREAM_PREFIXES):
        return
    try:
        exists = Path(s).exists()
    except (OSError, ValueError) as e:  # a name too long, a NUL byte ...
        raise FileNotFoundError(f"{s[:200]!r}: not a usable path ({e})") from None
    if not exists:
        raise FileNotFoundError(f"{s}: no such file or folder")


def check_file(path: str | os.PathLike, what: str = "file") -> None:
    """``FileNotFoundError`` for a missing file (a checkpoint), checked before torch is imported."""
    p = Path(path)
    try:
        ok = p.exists()
    except (OSError, ValueError) as e:
        raise FileNotFoundError(f"{str(path)[:200]!r}: not a usable path ({e})") from None
    if not ok:
        raise FileNotFoundError(f"{p}: no such {what}")


def arg(check: Callable[..., Any], **kw: Any) -> Callable[[str], Any]:
    """An argparse ``type=`` callable from a ``check_*`` rule: argparse prints
    ``argument --conf: must be in [0, 1], got 2`` and exits 2. The rule's own name for the value is
    left out of the message because argparse already names the option."""

    def parse(text: str) -> Any:
        try:
            return check(text, "\0", **kw)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e).replace("\0 ", "").replace("\0", "value")) from None

    parse.__name__ = check.__name__.removeprefix("check_")
    return parse
