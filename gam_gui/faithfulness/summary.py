"""Faithfulness over many detections: means, 95 % bootstrap intervals, the reference flags.

An interval is a percentile bootstrap over detections (each resample draws the detections with
replacement and takes the mean), so it says how far the mean could move with another draw of
detections from the same images. A method with no detection gives ``None`` (strict JSON ``null``)
and a note instead of a ``NaN``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from gam_gui.faithfulness.core import FaithfulnessScore, reference_flags

COLUMNS = ("pointing", "energy_in_box", "deletion_auc", "insertion_auc")
INTERVAL_COLUMNS = ("deletion_auc", "insertion_auc")
RESAMPLES = 1000


def bootstrap_ci(values: Sequence[float], resamples: int = RESAMPLES, seed: int = 0,
                 level: float = 0.95) -> list[float] | None:
    """``[lo, hi]`` of the mean of ``values`` (percentile bootstrap), None without values."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    idx = np.random.default_rng(seed).integers(0, len(v), (int(resamples), len(v)))
    means = v[idx].mean(1)
    a = (1 - level) / 2
    lo, hi = np.quantile(means, [a, 1 - a])
    return [round(float(min(lo, v.mean())), 4), round(float(max(hi, v.mean())), 4)]


def value(score: FaithfulnessScore | Mapping, key: str) -> float:
    """One number of a score object or of its per-detection row (a dict)."""
    return float(score[key] if isinstance(score, Mapping) else getattr(score, key))


def summary_row(scores: Sequence[FaithfulnessScore | Mapping], seed: int = 0) -> dict:
    """One method's row from its per-detection scores (objects or dict rows): the means of
    :data:`COLUMNS`, ``ci95`` of the AUCs, the mean ``tied_fraction`` and the number of detections;
    ``None`` values and a note without detections."""
    if not scores:
        return {**dict.fromkeys(COLUMNS), "ci95": dict.fromkeys(INTERVAL_COLUMNS), "tied_fraction": None,
                "detections": 0, "note": "no detection to score"}
    cols = {c: [value(s, c) for s in scores] for c in COLUMNS}
    row: dict = {c: round(float(np.mean(v)), 4) for c, v in cols.items()}
    row["ci95"] = {c: bootstrap_ci(cols[c], seed=seed) for c in INTERVAL_COLUMNS}
    row["tied_fraction"] = round(float(np.mean([value(s, "tied_fraction") for s in scores])), 4)
    row["detections"] = len(scores)
    return row


def flag_rows(rows: Mapping[str, dict], references: Sequence[str] = ("random", "box")) -> None:
    """Add ``flags`` to every non-reference row: what its mean AUCs fail against the references'."""
    refs = {r: (rows[r]["deletion_auc"], rows[r]["insertion_auc"]) for r in references
            if r in rows and rows[r].get("deletion_auc") is not None}
    for name, row in rows.items():
        if name in references:
            continue
        if row.get("deletion_auc") is None:
            row["flags"] = []
            continue
        row["flags"] = reference_flags(row["deletion_auc"], row["insertion_auc"], refs)


def table(res: Mapping) -> str:
    """A markdown table of a faithfulness result: one row per method, then the two references,
    with the AUCs' intervals and the flags."""
    lines = ["| method | pointing | energy in box | deletion AUC (lower is better) [95% CI] | insertion AUC "
             "(higher is better) [95% CI] | tied | flags |", "|---|---|---|---|---|---|---|"]

    def num(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    def ci(v: list[float] | None) -> str:
        return "" if not v else f" [{v[0]:.3f}, {v[1]:.3f}]"

    for method, r in res["methods"].items():
        c = r.get("ci95") or {}
        lines.append(f"| {method} | {num(r['pointing'])} | {num(r['energy_in_box'])} | {num(r['deletion_auc'])}"
                     f"{ci(c.get('deletion_auc'))} | {num(r['insertion_auc'])}{ci(c.get('insertion_auc'))} | "
                     f"{num(r.get('tied_fraction'))} | {'; '.join(r.get('flags') or []) or r.get('note', '')} |")
    return "\n".join(lines)


def sanity_table(sanity: Mapping[str, dict]) -> str:
    """A markdown table of the randomisation check: per method the rank correlation of the trained
    and the randomised map at each stage of the cascade, the last with its interval and flag."""
    if not sanity:
        return ""
    stages = [c["randomized"] for c in next(iter(sanity.values()))["cascade"]]
    lines = ["| method | " + " | ".join(f"rank corr, {s} random" for s in stages) + " | flags |",
             "|---|" + "---|" * (len(stages) + 1)]
    for m, r in sanity.items():
        cells = []
        for c in r["cascade"]:
            v, ci = c["rank_corr"], c.get("ci95")
            cells.append("n/a" if v is None else f"{v:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""))
        lines.append(f"| {m} | " + " | ".join(cells) + f" | {'; '.join(r.get('flags') or [])} |")
    return "\n".join(lines)


def report(res: Mapping) -> str:
    """What ``eval --faithfulness`` prints on stderr: the table, the advice, the sanity table."""
    parts = [table(res)]
    if res.get("advice"):
        parts.append(f"advice: {res['advice']}")
    if res.get("sanity"):
        parts.append(sanity_table(res["sanity"]))
    return "\n".join(parts)
