"""Section 4, "What the attention blocks do" (issue 27): every attention block of the registry, not
only GAM. Numbers from :class:`gam_gui.report.block_stats.BlockStats`; GAM blocks keep their own
per-class table, bars and typical maps (:func:`gam_gui.report.sections.gam_content`) below.

The reading in words is generated here from the numbers and their intervals, so it cannot disagree
with the tables: a gate counts as "higher inside" only when its mean inside the boxes, less the 95%
half-width over boxes, is still above its mean outside.
"""

from __future__ import annotations

import math

from gam_gui.report import figures as F
from gam_gui.report.block_stats import GAIN, ChannelRow, MapRow
from gam_gui.report.gam_stats import GamRow
from gam_gui.report.html import Section
from gam_gui.report.sections import Context, gam_content
from gam_gui.report.tables import Column, Table
from gam_gui.report.text import plural


def _f(v: float | None, fmt: str = "{:.3f}") -> str:
    return "—" if v is None or not math.isfinite(float(v)) else fmt.format(v).replace("-", "−")


def _who(r: MapRow | ChannelRow) -> str:
    return f"layer {r.block.index} ({r.block.kind})"


def _side(r: MapRow) -> int:
    """+1 when clearly higher inside (beyond the 95% half-width), −1 when clearly lower, 0 otherwise."""
    hw = r.inside_hw if math.isfinite(r.inside_hw) else 0.0
    if not (math.isfinite(r.inside) and math.isfinite(r.outside)):
        return 0
    return 1 if r.inside - hw > r.outside else -1 if r.inside + hw < r.outside else 0


def attention_reading(maps: list[MapRow], channels: list[ChannelRow]) -> str:
    """A few sentences from the numbers: how many gates (and gains) are clearly higher or lower inside
    the objects, the largest contrast of each, and how spread the channel-only gates are."""
    parts = []
    gates, gains = [r for r in maps if r.gate.name != GAIN], [r for r in maps if r.gate.name == GAIN]
    for (one, what), rows in ((("gate with positions", "gates with positions"), gates),
                              (("block gain", "block gains"), gains)):
        if not rows:
            continue
        up = [r for r in rows if _side(r) > 0]
        down = [r for r in rows if _side(r) < 0]
        gain = what == "block gains"

        def width(r: MapRow, gain: bool = gain) -> float:
            return 1.0 if gain or r.gate.middle is None else (r.gate.high - r.gate.low) or 1.0
        best = max(rows, key=lambda r: r.difference / width(r) if math.isfinite(r.difference) else -math.inf)
        unit = " bits" if gain else f" (range {best.gate.range_text})"
        name = "gain" if gain else f"'{best.gate.name}' gate"
        parts.append(f"Of {plural(len(rows), one, what)}, {len(up)} {'is' if len(up) == 1 else 'are'} higher "
                     f"inside the objects than outside by more than the 95% interval of the inside mean, and "
                     f"{len(down)} lower. Largest "
                     f"inside − outside: the {name} of {_who(best)}, {_f(best.inside)} inside vs "
                     f"{_f(best.outside)} outside{unit}.")
    for r in channels:
        if r.branches is not None:
            parts.append(f"{_who(r)} mixes its kernel branches with mean weights "
                         f"{', '.join(_f(v, '{:.2f}') for v in r.branches)}.")
        elif r.below_middle is not None:
            parts.append(f"The {r.gate.name} gate of {_who(r)} keeps its {r.channels} channels between "
                         f"{_f(r.minimum, '{:.2f}')} and {_f(r.maximum, '{:.2f}')} (median {_f(r.median, '{:.2f}')}); "
                         f"{r.below_middle:.0%} are damped below {_f(r.gate.middle, '{:g}')}.")
    return " ".join(parts)


def _gate_notes(maps: list[MapRow], channels: list[ChannelRow]) -> list[str]:
    """One line per distinct (kind, gate): what the gate is and its range, for a reader new to the block."""
    seen: dict[tuple[str, str], str] = {}
    for r in sorted([*maps, *channels], key=lambda r: r.block.index):
        if r.gate.name == GAIN:
            continue
        seen.setdefault((r.block.kind, r.gate.name), f"{r.block.kind} '{r.gate.name}' ({r.gate.kind}, range "
                                                     f"{r.gate.range_text}): {r.gate.meaning}.")
    return list(seen.values())


def attention_blocks(ctx: Context, maps: list[MapRow], channels: list[ChannelRow], n_images: int,
                     fig: F.MplFigure | None, fig_image: str, gam_rows: list[GamRow],
                     gam_grid: F.MplFigure | None) -> Section:
    """The section: the reading, the gate-and-gain table, the channel-only table, the gates' meanings,
    the side-by-side figure, then GAM's own detail."""
    s = Section("gam", "What the attention blocks do")
    if not maps and not channels:
        s.para("The model has no attention blocks, or no image had a ground-truth box.", "note")
        return s
    blocks = sorted({r.block.index for r in [*maps, *channels]})
    s.para(f"Every attention block of the model ({plural(len(blocks), 'block')}), over the ground-truth boxes of "
           f"{plural(n_images, 'image')}. A gate is what the block multiplies its features by; each gate's map is "
           "its mean over channels at the block's own feature resolution. For each gate that varies over positions, "
           "its mean inside the objects' boxes (each object counts once) against its mean over the background "
           "(every cell outside all boxes); the same for the block gain, log2 of the feature energy out / in "
           "(bits: 0 = passed on unchanged, +1 = doubled, −1 = halved). A block that attends to the objects has a "
           "higher gate and gain inside than outside. A gate that weighs whole channels (SE, ECA, CBAM's channel "
           "gate) has no inside or outside: its spread over the channels is shown instead.")
    s.para(attention_reading(maps, channels), "key")
    if maps:
        t = ctx.keep(Table("attention_maps", "Attention gates and gains inside vs outside the objects",
                       [Column("layer", "{:d}"), Column("block", text=True), Column("map", text=True),
                        Column("range", text=True), Column("boxes", "{:d}"), Column("inside"),
                        Column("± (95%)", "{:.3f}"), Column("outside"), Column("inside − outside", "{:+.3f}")],
                       caption="Inside: mean over the objects' boxes; ± is a normal-approximation 95% half-width over "
                               "boxes; outside: mean over the images' background cells. Gates in their declared "
                               "range; gain in bits (log2 of the feature energy out / in)."))
        last = None
        for r in maps:
            if last is not None and r.block.index != last:
                t.rules_after.add(len(t.rows) - 1)
            last = r.block.index
            what = "gain (bits)" if r.gate.name == GAIN else f"{r.gate.name} gate"
            t.add(r.block.index, r.block.short, what,
                  "bits" if r.gate.name == GAIN else r.gate.range_text, r.boxes, r.inside, r.inside_hw, r.outside,
                  r.difference)
        s.table(t)
    if channels:
        t = ctx.keep(Table("attention_channels", "Gates without positions: spread of the channel weights",
                       [Column("layer", "{:d}"), Column("block", text=True), Column("gate", text=True),
                        Column("range", text=True), Column("images", "{:d}"), Column("channels", "{:d}"),
                        Column("below middle", "{:.0%}"), Column("min"), Column("median"), Column("max"),
                        Column("branch weights", text=True)],
                       caption="The gate's weight per channel, averaged over the images; 'below middle': the share "
                               "of channels under the middle of the declared range (damped more than kept); branch "
                               "weights: SK's mean weight of each kernel branch."))
        for r in channels:
            t.add(r.block.index, r.block.short, r.gate.name, r.gate.range_text,
                  r.images, r.channels, r.below_middle, r.minimum, r.median, r.maximum,
                  ", ".join(f"{v:.2f}" for v in r.branches) if r.branches else "—")
        s.table(t)
    s.heading("What each gate is")
    s.bullets(_gate_notes(maps, channels))
    if fig is not None:
        s.figure(ctx.save(fig, "attention_maps", "every attention block's gates on one image",
                          f"Every block's gates on one typical image ({fig_image}; object/background contrast nearest "
                          "the median), one row per block: the image with its ground truth (green), then each gate "
                          "over the frame (yellow = most kept, dark = most damped; its colour bar spans this "
                          "map's own min to max, in the gate's units, with the gate's full range written below; "
                          "'nearly flat': the map spans under 1% of that range) and the block gain (red: energy "
                          "added, blue: removed, white: unchanged; a gain map all below 0 is drawn in blues only, "
                          "and its colour bar says so). Dashed boxes: the ground truth again. A gate without "
                          "positions is drawn as its channel weights, largest first, with the range's middle "
                          "dashed."))
    if gam_rows:
        s.heading("GAM blocks: per class")
        gam_content(ctx, s, gam_rows, gam_grid, n_images)
    return s


def attention_json(maps: list[MapRow], channels: list[ChannelRow], n_images: int, fig_image: str | None) -> dict:
    """The section's numbers for ``report.json`` (strict: NaN becomes null in the writer)."""
    return {"images": n_images, "figure_image": fig_image,
            "maps": [{"layer": r.block.index, "name": r.block.name, "kind": r.block.kind, "variant": r.block.variant,
                      "map": r.gate.name, "gate_kind": r.gate.kind, "range": [r.gate.low, r.gate.high],
                      "boxes": r.boxes, "inside": r.inside, "inside_half_width": r.inside_hw, "outside": r.outside,
                      "per_class": {c: {"boxes": n, "inside": v} for c, (n, v) in r.per_class.items()}}
                     for r in maps],
            "channels": [{"layer": r.block.index, "name": r.block.name, "kind": r.block.kind,
                          "variant": r.block.variant, "gate": r.gate.name, "range": [r.gate.low, r.gate.high],
                          "images": r.images, "channels": r.channels, "below_middle": r.below_middle,
                          "min": r.minimum, "median": r.median, "max": r.maximum, "branches": r.branches}
                         for r in channels]}
