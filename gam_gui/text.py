"""Text helpers for anything printed or written as text from data gam-gui did not make.

A checkpoint's class names and dict keys, a file name, an error about a file: any of them may hold
terminal escape sequences (clear screen, set the window title, colors) or be a shared structure whose
plain ``repr`` never ends. :func:`escape_text` makes a string safe to print or write as one line of
text; :func:`short_repr` describes any value within a character budget. A leaf module (it imports
neither torch nor Qt), so the CLI, the exporters, the models and the loader can all use it.
"""

from __future__ import annotations

import re
import sys
from typing import Any

#: Characters never written raw: C0 controls, DEL, C1 controls (0x9b is a one-byte CSI), lone
#: surrogates (not encodable, so printing them would fail), line/paragraph separators and the bidi
#: embedding/override/isolate marks (they reorder what follows them on screen).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_KEEP_NL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                             "\ud800-\udfff]")


def _escape_one(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def escape_text(s: Any, keep_newlines: bool = False) -> str:
    """``s`` as text with every control character written as an escape (``\\x1b``, ``\\x9b``,
    ``\\u202e``), so printing it cannot move the cursor, retitle the terminal or reorder the line.

    Printable text (any language) is kept as it is; a backslash is kept too (paths). ``keep_newlines``
    keeps ``\\n`` for multi-line text gam-gui composed itself around file-borne parts that were escaped.
    """
    text = s if isinstance(s, str) else str(s)
    return (_UNSAFE_KEEP_NL if keep_newlines else _UNSAFE).sub(_escape_one, text)


def short_repr(x: Any, limit: int = 80) -> str:
    """``repr(x)`` cut to ``limit`` characters, computed with a budget: a file's nested or shared
    structures (a DAG of tuples) would make the plain ``repr`` take exponential time and memory."""
    torch = sys.modules.get("torch")  # a value can only be a tensor once torch is loaded
    out: list[str] = []
    budget = [limit + 1]

    def emit(s: str) -> bool:
        out.append(s[: budget[0]])
        budget[0] -= len(s)
        return budget[0] > 0

    def walk(v: Any, depth: int) -> bool:
        if isinstance(v, (str, bytes)):
            return emit(repr(v[: budget[0] + 2]))
        if isinstance(v, (bool, int, float)) or v is None:
            if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 64:
                return emit(f"<int of {v.bit_length()} bits>")
            return emit(repr(v))
        if torch is not None and isinstance(v, torch.Tensor):
            return emit(f"tensor{tuple(v.shape)}")
        if isinstance(v, (list, tuple, set, frozenset, dict)) and depth < 6:
            o, c = {list: "[]", tuple: "()", dict: "{}"}.get(type(v), "{}")
            if not emit(o):
                return False
            seq = dict.items(v) if isinstance(v, dict) else v
            for i, item in enumerate(seq):
                if i and not emit(", "):
                    return False
                if isinstance(v, dict):
                    if not (walk(item[0], depth + 1) and emit(": ") and walk(item[1], depth + 1)):
                        return False
                elif not walk(item, depth + 1):
                    return False
            return emit(c)
        return emit(f"<{type(v).__name__}>")

    walk(x, 0)
    s = "".join(out)
    return s if len(s) <= limit else s[: max(0, limit - 3)] + "..."
