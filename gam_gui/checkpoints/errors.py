"""The loader's error and the budgeted text helpers its messages use.

Every failure to load a file ends in one :class:`CheckpointError`; text that comes from a file goes
into a message only through :func:`short_repr` (budgeted) and :func:`escape_text` (no control
characters), so a message is one short, printable line whatever the file holds.
"""

from __future__ import annotations

import collections
from typing import Any

from gam_gui.text import escape_text, short_repr

__all__ = ["CheckpointError", "MAX_NAMES", "MAX_NAME_LEN", "escape_text", "first_line", "names_dict", "short_repr"]


class CheckpointError(ValueError):
    """A file that cannot be loaded as a model; the message says why, for the user.

    Callers branch on the attributes, not the text: ``reason`` (a short tag such as ``"legacy"``,
    ``"call"``, ``"memory"``, ``"activations"``, ``"structure"``), ``path`` (the file, when known) and
    any figures the check produced (``declared``, ``estimate``, ``imgsz`` ...).
    """

    def __init__(self, message: str, *, reason: str = "invalid", path: str | None = None, **details: Any) -> None:
        # one printable line whatever the file holds: names and keys from it may carry terminal escapes
        super().__init__(escape_text(message))
        self.reason = reason
        self.path = path
        self.details = details
        for k, v in details.items():
            setattr(self, k, v)


#: Class names: at most this many, each cut to this length.
MAX_NAMES = 100_000
MAX_NAME_LEN = 200


def names_dict(names: Any) -> dict[int, str]:
    """An index -> name table from a file's ``names`` (dict or list); names that are not strings are
    described with a budget (``str()`` of a shared structure from a file can take forever)."""
    def text(v: Any) -> str:
        return v[:MAX_NAME_LEN] if isinstance(v, str) else short_repr(v, MAX_NAME_LEN)

    if type(names) in (dict, collections.OrderedDict):
        items = list(dict.items(names))[:MAX_NAMES]
        return {k: text(v) for k, v in items if isinstance(k, int) and not isinstance(k, bool) and 0 <= k < MAX_NAMES}
    if type(names) in (list, tuple):
        return {i: text(v) for i, v in enumerate(names[:MAX_NAMES])}
    return {}


def first_line(e: BaseException) -> str:
    """The gist of an exception in one line (a heading such as "Error(s) in loading ...:" takes its
    first detail along)."""
    if isinstance(e, KeyError) and e.args:  # its str() is the repr of a key that may come from the file
        return f"missing key {short_repr(e.args[0], 80)}"
    lines = [ln.strip() for ln in str(e)[:2000].strip().splitlines() if ln.strip()]
    if not lines:
        return type(e).__name__
    return (f"{lines[0]} {lines[1]}" if lines[0].endswith(":") and len(lines) > 1 else lines[0])[:300]
