"""Help > How to read the panels: one page inside the app saying what each panel and colour means.

The page is rich text in a :class:`QTextBrowser`, built from translated paragraphs so that it follows
the window's language; the README's reading guide (with a figure and measured numbers) is linked.
"""

from __future__ import annotations

import html
from pathlib import Path

from PyQt5.QtCore import QUrl
from PyQt5.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

import gam_gui

#: The README section the page links to (its heading's anchor as GitHub and most viewers make it).
README = Path(gam_gui.__file__).resolve().parent.parent / "README.md"
README_ANCHOR = "how-to-read-the-panels"


class HelpDialog(QDialog):
    """A non-modal page: what the panels, colours, GAM variants and CAM methods mean."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("How to read the panels"))
        self.setObjectName("panel_help")
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(self.html())
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.browser)
        lay.addWidget(buttons)
        self.resize(720, 640)

    def readme_url(self) -> str:
        return QUrl.fromLocalFile(str(README)).toString() + "#" + README_ANCHOR

    def html(self) -> str:
        """The page, in the window's language."""
        sections = [
            ("<h2>{0}</h2>", self.tr("How to read the panels")),
            ("<p>{0}</p>", self.tr("Every heatmap has a colour bar below the picture (never over it): the colours "
                             "from one end of the scale to the other with the end values under them, white "
                             "ticks where this frame's smallest and largest values fall, and what is drawn, "
                             "e.g. <i>spatial gate, mean over 64 ch: this frame 0.34 ... 0.6</i>. The CAM is "
                             "shown relative to its peak on the frame (1 = the strongest evidence); its raw "
                             "peak is in the caption's tooltip. Hover a panel's caption for one line on what "
                             "it shows.")),
            ("<h3>{0}</h3>", self.tr("Panels")),
            ("<p>{0}</p>", self.tr("<b>Detections</b>: boxes with class and score. Click a box to explain that "
                             "object; the thick box is the CAM's target.")),
            ("<p>{0}</p>", self.tr("<b>CAM</b>: where the chosen method finds evidence for the target (the colour "
                             "map of the Colormap control: its top colour is the most evidence on this frame, "
                             "not an absolute level).")),
            ("<p>{0}</p>", self.tr("<b>GAM channel</b>: the channel gate c(x) of one GAM block, reduced over channels "
                             "per pixel (Channel reduction: mean or max). <b>GAM spatial</b>: the spatial gate "
                             "s(x*c), in [0, 1]. A gate is what the block multiplies by, not what it did: "
                             "choose a gain under <i>GAM panels</i> for that.")),
            ("<p>{0}</p>", self.tr("<b>Gain</b> (GAM panels: gain, channel-branch gain, spatial-branch gain): log2 of "
                             "the feature energy after / before the block, per pixel (norm over channels). "
                             "Blue-white-red, white = 0 = unchanged, red = made stronger, blue = weaker; +1 is "
                             "twice the energy, -1 half. Block gain = channel-branch gain + spatial-branch "
                             "gain.")),
            ("<p>{0}</p>", self.tr("<b>Channel chart</b>: the mean channel gate of each channel over the pixels. "
                             "Orange: the three largest, white: the channel drilled into. Click a bar to see "
                             "that channel's feature map before and after the block in the GAM channel panel; "
                             "click it again to go back.")),
            ("<p>{0}</p>", self.tr("<b>Other attention blocks</b> (CBAM, SE, ECA, CoordAtt, SimAM, EMA, "
                             "TripletAttention, ...): choose one under <i>Attention block</i>. The two attention "
                             "panels then show its gates, titled with kind, gate and layer and with the gate's "
                             "range in the caption; <i>Gate</i> picks the first panel's gate, the second shows "
                             "the next one (EMA and TripletAttention have three). A gate without positions (SE, "
                             "ECA and CBAM's channel gates) is drawn as one bar per channel, not as a map; a "
                             "block with one gate shows its gain beside it. A gate that barely varies on the "
                             "frame is drawn on 1 % of its range, and its caption says so. The channel chart "
                             "shows the block's channel gate, or says why it has none.")),
            ("<h3>{0}</h3>", self.tr("Colours")),
            ("<p>{0}</p>", self.tr("Quantities that can be negative (the seed variant's channel gate, gains, "
                             "feature maps) use blue-white-red with 0 always white, so a sign never changes "
                             "colour between frames or between mean and max. Quantities in [0, 1] use the "
                             "chosen colour map. <i>Colour scale: per frame</i> stretches each frame's range; "
                             "<i>fixed over the video</i> holds the widest range seen since the source was "
                             "opened, so a colour means the same value on every frame.")),
            ("<h3>{0}</h3>", self.tr("GAM variants")),
            ("<p>{0}</p>", self.tr("<b>seed</b> (classes GAM, GAMAttention; the shipped model): the channel branch is "
                             "an MLP without sigmoid, so its gate is unbounded and signed; a negative gate "
                             "flips a feature's sign. <b>paper</b> (GAM_Attention): sigmoid on both branches, "
                             "both gates in [0, 1], so the block can only keep or weaken features. The variant "
                             "is in the GAM channel panel's caption.")),
            ("<h3>{0}</h3>", self.tr("Which CAM method")),
            ("<p>{0}</p>", self.tr("<b>auto</b> (default): Grad-CAM when the target is all detections or a class, "
                             "HiResCAM when it is one object. <b>Grad-CAM</b> is class-level: it averages each "
                             "channel's gradient over the map, so a map for one object lights every similar "
                             "object. <b>HiResCAM</b> and <b>LayerCAM</b> keep the gradient's position and "
                             "point at the object itself: use them for a clicked box. <b>EigenCAM</b> does not "
                             "depend on the target at all.")),
            ("<h3>{0}</h3>", self.tr("Ablation: what does an attention block change?")),
            ("<p>{0}</p>", self.tr("In the <b>Ablation</b> group at the bottom of the Controls dock, choose a mode "
                             "for an attention block (<i>off</i>: the block returns its input; <i>channel only</i>, "
                             "<i>spatial only</i>: one gate skipped; <i>drop top channels</i>; <i>mean "
                             "gate</i>). Each kind offers its own modes: CoordAtt <i>height only</i> and "
                             "<i>width only</i>, SE <i>off</i> and <i>drop top channels</i>. <i>Compare with "
                             "ablation</i> turns on by itself; <i>All blocks on</i> goes back.")),
            ("<p>{0}</p>", self.tr("How to read it: the Detections panel shows the trained model's boxes matched "
                             "with the ablated model's: <b>kept</b> boxes with their score change (trained "
                             "-&gt; ablated), <b>lost</b> boxes dashed red, <b>new</b> boxes green; the status "
                             "bar sums it up. <i>Maps of</i> chooses whether the CAM and GAM panels show the "
                             "trained or the ablated model; each panel's title says which. When the CAM's "
                             "target has no box under the ablation, the window says the target is lost "
                             "instead of explaining a box that is gone.")),
            ("<h3>{0}</h3>", self.tr("Compare two models")),
            ("<p>{0}</p>", self.tr("<b>View &gt; Compare with...</b> (Ctrl+Shift+B) runs a second checkpoint (B) on "
                             "the same frames; it opens at the shipped model without GAM. Six panels: the "
                             "detections of A and of B, the boxes matched (kept: B's box with A -&gt; B score; "
                             "red dashed: A only; green: B only), then CAM A, CAM B and CAM A - CAM B "
                             "(red: A's map stronger, blue: B's, white: equal). The status bar sums the "
                             "match table up. <b>View &gt; Stop comparing</b> goes back; the ablation view is "
                             "off meanwhile.")),
            ("<h3>{0}</h3>", self.tr("Faithfulness: can this map be trusted?")),
            ("<p>{0}</p>", self.tr("<b>View &gt; Faithfulness</b> opens a dock. Click a box (or leave the target "
                             "on all detections: the strongest one is used), then <b>Measure</b>. The frame's "
                             "pixels are removed (deletion) or revealed (insertion) in the order of the map, "
                             "and the detection's score is plotted against the fraction of pixels.")),
            ("<p>{0}</p>", self.tr("How to read it: a faithful map has a LOW deletion AUC (the score falls as soon "
                             "as the top pixels go) and a HIGH insertion AUC (it rises as soon as they come "
                             "back), and beats the faint random-map and box-map curves; <i>energy in box</i> "
                             "is the share of the map inside the detection's box and <i>pointing</i> says "
                             "whether its peak is in the box. <b>Sanity check</b> randomises the weights: a "
                             "map that stays the same does not depend on what the model learnt.")),
            ("<p>{0}</p>", self.tr("More, with a figure and measured numbers: the README's section "
                             "<a href=\"{0}\">How to read the panels</a>.")),
        ]
        out = []
        for tag, text in sections:
            if "{0}" in text:  # the install folder is a path on disk: escaped, never markup (issue 26.6)
                text = text.format(html.escape(self.readme_url(), quote=True))
            out.append(tag.format(text))
        return "\n".join(out)
