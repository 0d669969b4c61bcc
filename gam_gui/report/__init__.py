"""``gam-gui report``: one self-contained HTML page (plus LaTeX/CSV tables and 300 dpi figures) that
answers what a GAM user needs at the end: what the attention blocks do on their data, whether the
model beats its baseline, where it fails and which heatmaps can be trusted (issue 22).

Modules: :mod:`~gam_gui.report.options` (the CLI options, torch-free), :mod:`~gam_gui.report.command`
(the run), :mod:`~gam_gui.report.collect` (the one pass over the data), :mod:`~gam_gui.report.block_stats`
and :mod:`~gam_gui.report.attention_section` (section 4, every attention block), :mod:`~gam_gui.report.gam_stats`
(GAM's per-class detail), :mod:`~gam_gui.report.failures`, :mod:`~gam_gui.report.sections`,
:mod:`~gam_gui.report.repro`, :mod:`~gam_gui.report.tables` (CSV, booktabs LaTeX, HTML), :mod:`~gam_gui.report.figures`
(matplotlib), :mod:`~gam_gui.report.html` (the page), :mod:`~gam_gui.report.plan` (progress and ETA).
Importing this package imports nothing heavy.
"""
