"""The captions of the attention panels of every kind of block (``gam_gui.render_attention``), marked for
Qt's translation tools under the context "render" (as ``panels.RENDER_STRINGS`` marks ``gam_gui.render``'s):
the window shows them translated, exported figures stay English."""

from __future__ import annotations

from PyQt5.QtCore import QT_TRANSLATE_NOOP

ATTENTION_STRINGS = (
    QT_TRANSLATE_NOOP("render", "{kind} {gate} gate (layer {layer})"),
    QT_TRANSLATE_NOOP("render", "{kind} block gain (layer {layer})"),
    QT_TRANSLATE_NOOP("render", "{reduction} over {channels} ch; gate range {range}"),
    QT_TRANSLATE_NOOP("render", "one value per pixel; gate range {range}"),
    QT_TRANSLATE_NOOP("render", "{subtitle}; nearly constant here: the colours span 1 % of its range"),
    QT_TRANSLATE_NOOP("render", "one weight per channel ({channels} ch), no positions: one bar per channel; gate "
                                "range {range}"),
    QT_TRANSLATE_NOOP("render", "weight of each branch per channel ({channels} ch, {branches} branches), no "
                                "positions"),
    QT_TRANSLATE_NOOP("render", "log2 ||out|| / ||in|| per pixel"),
    QT_TRANSLATE_NOOP("render", "the block's output has another shape than its input: no gain"),
    QT_TRANSLATE_NOOP("render", "unbounded"),
    QT_TRANSLATE_NOOP("render", "A gate of the shown attention block over the frame, reduced over channels per "
                                "pixel (the colour bar: its values on this frame). What it means:"),
    QT_TRANSLATE_NOOP("render", "A gate without positions: one weight per channel, drawn as bars (x: channel, "
                                "height and colour: the weight on the colour bar). It scales a whole channel "
                                "everywhere, so it has no heatmap; the channel chart shows the same weights. What "
                                "it means:"),
    QT_TRANSLATE_NOOP("render", "What the whole block did: log2 ||out|| / ||in|| per pixel, norms over channels; "
                                "red: features made stronger, blue: weaker, white: unchanged (gain 1)."),
)
#: Gate names a caption or a colour bar names (``{gate}``), besides "channel" and "spatial".
GATE_WORDS = (QT_TRANSLATE_NOOP("render", "height"), QT_TRANSLATE_NOOP("render", "width"),
              QT_TRANSLATE_NOOP("render", "energy"))
