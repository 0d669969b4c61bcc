"""Faithfulness of a CAM for one detection, and the checks that say how far the scores themselves go.

* :mod:`~gam_gui.faithfulness.core`: deletion and insertion curves (random tie orders, feathered
  masks, ``blur`` / ``mean`` / ``road`` fills), energy in box, pointing, the ``random`` and ``box``
  reference maps;
* :mod:`~gam_gui.faithfulness.impute`: the ROAD-style low-resolution linear imputation;
* :mod:`~gam_gui.faithfulness.maps`: the per-detection maps of several methods from one forward;
* :mod:`~gam_gui.faithfulness.summary`: means over detections, 95 % bootstrap intervals, flags;
* :mod:`~gam_gui.faithfulness.sanity`: the model-parameter randomisation check (Adebayo et al. 2018).
"""

from gam_gui.faithfulness.core import (
    BASELINES,
    DEFAULT_STEPS,
    DEFAULT_TIE_ORDERS,
    FLAG_BOX,
    FLAG_RANDOM,
    MAX_STEPS,
    MAX_TIE_ORDERS,
    REFERENCES,
    TRACK_IOU,
    FaithfulnessScore,
    TrackedScore,
    auc,
    baseline_fill,
    box_pixels,
    energy_in_box,
    measure,
    measure_maps,
    pixel_ranks,
    pointing,
    reference_flags,
    reference_maps,
    step_masks,
    tied_fraction,
)

__all__ = [
    "BASELINES", "DEFAULT_STEPS", "DEFAULT_TIE_ORDERS", "FLAG_BOX", "FLAG_RANDOM", "MAX_STEPS", "MAX_TIE_ORDERS",
    "REFERENCES", "TRACK_IOU", "FaithfulnessScore", "TrackedScore", "auc", "baseline_fill", "box_pixels",
    "energy_in_box", "measure", "measure_maps", "pixel_ranks", "pointing", "reference_flags", "reference_maps",
    "step_masks", "tied_fraction",
]
