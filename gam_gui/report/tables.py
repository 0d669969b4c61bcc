"""The report's tables, written three ways from one object: CSV (for a spreadsheet or a script),
booktabs LaTeX (a ``table`` float ready to ``\\input`` in a paper) and an HTML ``<table>``.

A :class:`Table` holds typed cells (numbers stay numbers until they are written), so each format
rounds and escapes in its own way: CSV keeps full precision, LaTeX and HTML show the column's
format. Every string that came from a file or a dataset (class names, paths) is escaped for the
format it goes into: see :func:`latex_escape`, :func:`csv_cell` and :mod:`gam_gui.report.html`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gam_gui.report.text import clean_text, html_text

Cell = Any  # str | int | float | None | tuple[float, float] (an interval)

_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
                  "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX_SPECIAL))


#: the report's own non-ASCII symbols, as pdfLaTeX typesets them without extra packages
_LATEX_SYMBOLS = {"Δ": r"$\Delta$", "↓": r"$\downarrow$", "↑": r"$\uparrow$", "±": r"$\pm$", "—": "---",
                  "−": "$-$", "–": "--", "≥": r"$\geq$", "≤": r"$\leq$", "×": r"$\times$", "…": r"\ldots{}"}


def latex_escape(text: str) -> str:
    """``text`` as LaTeX prints it literally: special characters escaped, control characters made
    visible (:func:`gam_gui.report.text.clean_text`), so a class name cannot run a macro; the
    report's own symbols (Δ, ±, −, ...) become math that pdfLaTeX knows."""
    s = _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group(0)], clean_text(str(text)))
    return "".join(_LATEX_SYMBOLS.get(ch, ch) for ch in s)


def csv_cell(value: Cell) -> str:
    """One CSV cell: numbers at full precision, ``""`` for a missing value, intervals as ``lo;hi``.
    A text cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) gets a
    leading apostrophe: class names come from user files."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, tuple) and len(value) == 2:
        return f"{csv_cell(value[0])};{csv_cell(value[1])}"
    text = clean_text(str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@dataclass
class Column:
    """A column: its header, the format of its numbers (``"{:.3f}"``, ``"{:+.3f}"``, ``"{:d}"``) and
    whether it holds text (left-aligned) or numbers (right-aligned)."""

    header: str
    fmt: str = "{:.3f}"
    text: bool = False
    #: a long text column (paths, sentences, hashes) that may wrap; other text columns never do
    wrap: bool = False

    @property
    def css(self) -> str:
        return ("t w" if self.wrap else "t") if self.text else "n"


@dataclass
class Table:
    """A titled table with a caption; ``name`` is the file stem under ``R/tables/``."""

    name: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    caption: str = ""
    #: row indices drawn in bold (e.g. the reference row) and rows after which a rule is drawn
    bold_rows: set[int] = field(default_factory=set)
    rules_after: set[int] = field(default_factory=set)

    def add(self, *cells: Cell) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"table {self.name}: {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(list(cells))

    def formatted(self, r: int, c: int) -> str:
        """The cell as shown in LaTeX and HTML (before escaping); an em dash for a missing value."""
        return format_cell(self.rows[r][c], self.columns[c])

    # -- CSV ---------------------------------------------------------------------------------------
    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([csv_cell(c.header) for c in self.columns])
        for row in self.rows:
            w.writerow([csv_cell(v) for v in row])
        return buf.getvalue()

    # -- LaTeX -------------------------------------------------------------------------------------
    def to_latex(self) -> str:
        """A booktabs ``table`` float: ``\\usepackage{booktabs}`` in the preamble, then ``\\input``."""
        spec = "".join("l" if c.text else "r" for c in self.columns)
        lines = ["% written by gam-gui report; needs \\usepackage{booktabs}", "\\begin{table}[t]", "\\centering",
                 "\\small", f"\\caption{{{latex_escape(self.caption or self.title)}}}",
                 f"\\label{{tab:{latex_escape(self.name).replace(chr(92), '')}}}",
                 f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
                 " & ".join(latex_escape(c.header) for c in self.columns) + " \\\\", "\\midrule"]
        for r in range(len(self.rows)):
            cells = [latex_escape(self.formatted(r, c)) for c in range(len(self.columns))]
            if r in self.bold_rows:
                cells = [f"\\textbf{{{x}}}" for x in cells]
            lines.append(" & ".join(cells) + " \\\\")
            if r in self.rules_after and r != len(self.rows) - 1:
                lines.append("\\midrule")
        lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
        return "\n".join(lines)

    # -- HTML --------------------------------------------------------------------------------------
    def to_html(self) -> str:
        head = "".join(f'<th class="{c.css}">{html_text(c.header)}</th>' for c in self.columns)
        body = []
        for r in range(len(self.rows)):
            cls = []
            if r in self.bold_rows:
                cls.append("ref")
            if r in self.rules_after:
                cls.append("rule")
            attr = f' class="{" ".join(cls)}"' if cls else ""
            tds = "".join(f'<td class="{c.css}">{html_text(self.formatted(r, i))}</td>'
                          for i, c in enumerate(self.columns))
            body.append(f"<tr{attr}>{tds}</tr>")
        cap = f"<caption>{html_text(self.caption)}</caption>" if self.caption else ""
        return (f'<div class="tw"><table>{cap}<thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(body)}</tbody></table></div>')

    def write(self, folder: Path) -> list[Path]:
        """``folder/<name>.csv`` and ``folder/<name>.tex``; returns both paths."""
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for ext, text in (("csv", self.to_csv()), ("tex", self.to_latex())):
            p = folder / f"{self.name}.{ext}"
            p.write_text(text, encoding="utf-8")
            out.append(p)
        return out


def format_cell(value: Cell, column: Column) -> str:
    """A cell as text: an interval ``[lo, hi]`` in the column's format, a number in it, text as is."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, tuple) and len(value) == 2:
        lo, hi = value
        if lo is None or hi is None:
            return "—"
        return f"[{bound_text(lo, column.fmt)}, {bound_text(hi, column.fmt)}]".replace("-", "−")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and not column.text:
        try:
            return column.fmt.format(value).replace("-", "−")
        except (ValueError, TypeError):
            return str(value)
    return str(value)


def bound_text(v: float, fmt: str) -> str:
    """An interval's bound in ``fmt``, with more decimals when ``fmt`` would print a bound that is not 0
    as ``+0.000``: a reader checks "does the interval exclude 0?" against the printed ends."""
    text = fmt.format(v)
    m = re.fullmatch(r"\{:(\+?)\.(\d)f\}", fmt)
    if v and m and not text.strip("+-0.") and math.isfinite(v):
        for digits in range(int(m.group(2)) + 1, 8):
            text = f"{{:{m.group(1)}.{digits}f}}".format(v)
            if text.strip("+-0."):
                break
    return text


def interval_text(lo: float | None, hi: float | None, fmt: str = "{:+.3f}") -> str:
    """``[−0.012, +0.004]`` (or an em dash when unknown), for sentences."""
    return format_cell((lo, hi), Column("", fmt))


def table_from_rows(name: str, title: str, headers: Sequence[tuple[str, str, bool]], rows: Sequence[Sequence[Cell]],
                    caption: str = "") -> Table:
    """A table from ``(header, fmt, is_text)`` triples and rows."""
    t = Table(name, title, [Column(h, f, x) for h, f, x in headers], caption=caption)
    for r in rows:
        t.add(*r)
    return t
