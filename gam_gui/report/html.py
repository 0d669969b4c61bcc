"""One self-contained ``report.html``: inline CSS, figures as PNG ``data:`` URIs, no script, no link
to anything outside the file, so it opens offline and can be mailed.

Sections are lists of HTML fragments made only by the helpers here, each of which escapes what it
is given (:func:`gam_gui.report.text.html_text`); a fragment is never built from a raw string that
came from a file.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from gam_gui.report.tables import Table
from gam_gui.report.text import html_text

CSS = """
*{box-sizing:border-box}
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#1b1f24;background:#fff;margin:0;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:18px 28px 40px}
h1{font-size:1.7em;margin:.3em 0 .1em}
h2{font-size:1.3em;border-bottom:2px solid #d0d7de;padding-bottom:.2em;margin-top:1.8em}
h3{font-size:1.05em;margin:1.2em 0 .3em}
p{margin:.45em 0}
.sub{color:#57606a;margin:0 0 .8em}
.key{font-size:1.08em;background:#f3f6f9;border-left:4px solid #0969da;padding:8px 12px;margin:.6em 0}
.warn{background:#fff8e6;border-left:4px solid #bf8700;padding:6px 12px}
.note{color:#57606a;font-size:.92em}
nav ol{columns:2;margin:.3em 0;padding-left:1.4em}
nav a,a{color:#0969da}
.tw{max-width:100%;overflow-x:auto;margin:.5em 0 1em}
table{border-collapse:collapse;font-size:.86em;width:auto;max-width:100%}
caption{caption-side:top;text-align:left;color:#57606a;font-size:.95em;padding-bottom:4px}
th,td{padding:3px 9px;border-bottom:1px solid #e4e8ec;vertical-align:top}
thead th{border-top:2px solid #1b1f24;border-bottom:1px solid #1b1f24;background:#f6f8fa}
tbody tr:last-child td{border-bottom:2px solid #1b1f24}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t,th.t{text-align:left;white-space:nowrap}
td.w,th.w{white-space:normal;overflow-wrap:anywhere;min-width:8em}
th{white-space:normal}
tr.ref td{font-weight:bold}
tr.rule td{border-bottom:1px solid #1b1f24}
figure{margin:.8em 0 1.4em}
figure img{max-width:100%;height:auto;border:1px solid #e4e8ec}
figcaption{color:#57606a;font-size:.9em;margin-top:4px}
ul{margin:.3em 0 .6em}
code{background:#f3f4f6;padding:1px 4px;border-radius:3px;font-size:.9em;overflow-wrap:anywhere}
pre{background:#f3f4f6;padding:8px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85em}
"""


@dataclass
class Figure:
    """A figure: ``png`` (the screen-resolution copy embedded in the page), the file name of the
    300 dpi copy under ``R/figures/``, alt text and a caption."""

    name: str
    png: bytes
    alt: str
    caption: str = ""
    dpi: int = 300

    def to_html(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        cap = (f"<figcaption>{html_text(self.caption)} <span class=\"note\">({self.dpi} dpi: figures/"
               f"{html_text(self.name)}.png)</span></figcaption>")
        return f'<figure><img alt="{html_text(self.alt)}" src="data:image/png;base64,{data}">{cap}</figure>'


@dataclass
class Section:
    """One numbered section: a title and its fragments, in order."""

    key: str
    title: str
    parts: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def para(self, text: str, css: str = "") -> None:
        cls = f' class="{css}"' if css else ""
        self.parts.append(f"<p{cls}>{html_text(text)}</p>")

    def heading(self, text: str) -> None:
        self.parts.append(f"<h3>{html_text(text)}</h3>")

    def bullets(self, items: list[str]) -> None:
        self.parts.append("<ul>" + "".join(f"<li>{html_text(i)}</li>" for i in items) + "</ul>")

    def code(self, text: str) -> None:
        self.parts.append(f"<pre>{html_text(text)}</pre>")

    def table(self, t: Table) -> None:
        self.parts.append(f"<h3>{html_text(t.title)}</h3>" + t.to_html())

    def figure(self, f: Figure | None) -> None:
        if f is not None:
            self.parts.append(f.to_html())


def document(title: str, subtitle: str, sections: list[Section]) -> str:
    """The whole page: a title, a table of contents and the sections, numbered in order."""
    toc = "".join(f'<li><a href="#{html_text(s.key)}">{html_text(s.title)}</a></li>' for s in sections)
    body = []
    for n, s in enumerate(sections, 1):
        body.append(f'<section id="{html_text(s.key)}"><h2>{n}. {html_text(s.title)}</h2>{"".join(s.parts)}'
                    "</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            # nothing may load or run: no network, no script, only this page's own styles and data: images
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">"
            f"<title>{html_text(title)}</title><style>{CSS}</style></head><body><main>"
            f"<h1>{html_text(title)}</h1><p class=\"sub\">{html_text(subtitle)}</p>"
            f"<nav><ol>{toc}</ol></nav>{''.join(body)}</main></body></html>\n")
