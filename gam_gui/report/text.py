"""Untrusted text made safe to show: class names, paths and messages come from the user's files.

:func:`clean_text` makes control characters visible (``\\x1b`` as the four characters ``\\x1b``),
as well as the Unicode bidirectional overrides that can make a name read backwards; :func:`html_text`
then escapes it for HTML (``&``, ``<``, ``>``, quotes). Nothing from a file reaches the report
without passing through one of them.
"""

from __future__ import annotations

import html
import re

#: C0 and C1 controls except tab and newline, DEL, and the bidi embedding/override/isolate marks
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_text(text: str, limit: int | None = None) -> str:
    """``text`` with control and bidi characters written as ``\\xNN`` / ``\\uNNNN``; cut to ``limit``
    characters (with an ellipsis) when given."""
    s = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100
                     else f"\\u{ord(m.group(0)):04x}", str(text))
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 1)] + "…"
    return s


def html_text(text: object, limit: int | None = None) -> str:
    """``text`` cleaned (:func:`clean_text`) and HTML-escaped, quotes included."""
    return html.escape(clean_text(str(text), limit), quote=True)


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 image``, ``3 images``."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def seconds_text(s: float) -> str:
    """``42 s``, ``3 min 5 s``, ``1 h 2 min``."""
    s = max(0.0, float(s))
    if s < 60:
        return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"
    m, sec = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m} min {sec} s"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"
