"""Section 7: what it takes to reproduce the report — the exact command, the versions, the SHA-256 of
each input file, the date and the wall time of each section."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from importlib import metadata
from pathlib import Path

from gam_gui import __version__
from gam_gui.report.html import Section
from gam_gui.report.tables import Column, Table
from gam_gui.report.text import seconds_text


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """gam-gui, torch, torchvision, grad-cam and ultralytics (when installed) versions, read from
    the installed packages' metadata (ultralytics is never imported)."""
    out = {"gam-gui": __version__}
    for pkg in ("torch", "torchvision", "grad-cam", "numpy", "matplotlib", "ultralytics"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def input_files(weights: list[tuple[str, str]], data: str) -> list[tuple[str, str, str]]:
    """(role, path, sha256) of each checkpoint and of the dataset file (the data.yaml or COCO json;
    a folder's data.yaml when it has one)."""
    rows = [(role, path, sha256(path)) for role, path in weights]
    p = Path(data)
    if p.is_dir() and (p / "data.yaml").is_file():
        p = p / "data.yaml"
    if p.is_file():
        rows.append(("data", str(p), sha256(p)))
    else:
        rows.append(("data", str(p), "a folder without data.yaml: no single file to hash"))
    return rows


def section(command: str, files: list[tuple[str, str, str]], timings: list[tuple[str, float]], started: dt.datetime,
            total: float) -> tuple[Section, Table]:
    s = Section("reproducibility", "Reproducibility")
    s.para("The exact command:")
    s.code(command)
    v = versions()
    s.para("Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".")
    t = Table("inputs", "Input files", [Column("role", text=True), Column("file", text=True, wrap=True),
                                        Column("SHA-256", text=True, wrap=True)])
    for role, path, digest in files:
        t.add(role, path, digest)
    s.table(t)
    w = Table("timings", "Wall time per section", [Column("section", text=True), Column("seconds", "{:.1f}")],
              caption=f"Started {started.isoformat(timespec='seconds')}; total {seconds_text(total)} (model "
                      "loading included). Sections 1, 3 and 4 include their share of the pass over the data.")
    for name, sec in timings:
        w.add(name, sec)
    s.table(w)
    return s, w
