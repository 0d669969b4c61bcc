"""Strict JSON for everything gam-gui writes or prints.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which JavaScript, ``jq`` and most
other strict parsers reject. A missing value (a class with no ground truth, a method with no
detection) is ``null`` here, never ``NaN``; :func:`dumps` replaces non-finite floats (also inside
numpy scalars and arrays) with ``None`` before a ``json.dumps(..., allow_nan=False)`` that would
refuse anything left over.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any


def clean(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by ``None``; numpy scalars and arrays become
    Python numbers and lists, dataclasses dicts, tuples and sets lists, paths strings."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, int):
        return obj
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [clean(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return clean(dataclasses.asdict(obj))
    if isinstance(obj, Path):
        return str(obj)
    tolist = getattr(obj, "tolist", None)  # numpy scalars and arrays, torch tensors
    if callable(tolist):
        return clean(tolist())
    return str(obj)


def dumps(obj: Any, indent: int | None = 2, **kw: Any) -> str:
    """Strict JSON text of ``obj`` (see :func:`clean`)."""
    return json.dumps(clean(obj), indent=indent, allow_nan=False, **kw)
