"""``gam-gui report``'s options: defined once, for the parser (built by :mod:`gam_gui.cli` without
importing torch) and for the exact command the report prints in its reproducibility section."""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass
from typing import Any

from gam_gui import validate as V

DESCRIPTION = ("Write one self-contained report.html (plus LaTeX/CSV tables and 300 dpi figures) on a dataset: "
               "summary, per-class scores, the GAM ablation with intervals, what the GAM blocks do inside vs "
               "outside the objects, the worst failures explained, which heatmap to trust, and how to reproduce it.")
PROTOCOLS = ("coco", "ultralytics")
SPLITS = ("val", "test", "train")
FILLS = ("blur", "mean", "road")


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    dest: str
    kw: dict[str, Any]


def _options() -> list[Option]:
    count, count0 = V.arg(V.check_count), V.arg(V.check_count, minimum=0)
    return [
        Option(("--data", "-d"), "data", {"required": True,
                                          "help": "the dataset: a data.yaml, a COCO .json or a folder of images "
                                                  "with a labels/ sibling"}),
        Option(("--split",), "split", {"choices": SPLITS, "default": "val", "help": "which split (default: val)"}),
        Option(("--weights", "-w"), "weights", {"default": None,
                                                "help": "model A: a checkpoint (default: the shipped YOLOv5n-GAM)"}),
        Option(("--baseline", "-b"), "baseline", {"default": None,
                                                  "help": "model B to compare with (e.g. the detector without GAM)"}),
        Option(("--out", "-o"), "out", {"required": True, "help": "output folder: report.html, tables/, figures/"}),
        Option(("--images",), "images", {"type": count, "default": None,
                                         "help": "use only the split's first N images (a quick look)"}),
        Option(("--protocol",), "protocol", {"choices": PROTOCOLS, "default": "coco",
                                             "help": "mAP: coco (pycocotools) or ultralytics (ultralytics val)"}),
        Option(("--imgsz",), "imgsz", {"type": V.arg(V.check_imgsz), "default": None,
                                       "help": "inference size (default: the model's own, else 640)"}),
        Option(("--conf",), "conf", {"type": V.arg(V.check_unit), "default": 0.25,
                                     "help": "score from which a detection is shown and counted, in [0, 1]"}),
        Option(("--no-ablation",), "no_ablation", {"action": "store_true",
                                                   "help": "skip the ablation (each GAM block x mode)"}),
        Option(("--failures",), "failures", {"type": count0, "default": 6,
                                             "help": "worst misses and false alarms shown (each; 0: none)"}),
        Option(("--typical",), "typical", {"type": count0, "default": 3,
                                           "help": "images in the grid of typical GAM maps (0: none)"}),
        Option(("--faithfulness-images",), "faithfulness_images",
               {"type": count0, "default": 50, "help": "images for the trust section (0: skip it)"}),
        Option(("--faithfulness-detections",), "faithfulness_detections",
               {"type": count0, "default": 3,
                "help": "detections measured per image in the trust section, most confident first (0: all)"}),
        Option(("--methods",), "methods", {"nargs": "+", "type": V.arg(V.check_method), "default": None,
                                           "help": "CAM methods for the trust section (default: gradcam hirescam "
                                                   "layercam eigencam)"}),
        Option(("--steps",), "steps", {"type": V.arg(V.check_count, minimum=2), "default": 16,
                                       "help": "points per deletion/insertion curve"}),
        Option(("--tie-orders",), "tie_orders", {"type": count, "default": 4,
                                                 "help": "random orders of tied pixels averaged per curve"}),
        Option(("--fill",), "fill", {"choices": FILLS, "default": "blur",
                                     "help": "what removed pixels become in the faithfulness curves"}),
        Option(("--resamples",), "resamples", {"type": V.arg(V.check_count, minimum=10), "default": 1000,
                                               "help": "paired-bootstrap resamples for every interval"}),
        Option(("--seed",), "seed", {"type": int, "default": 0, "help": "seed of the bootstrap and the random maps"}),
        Option(("--batch",), "batch", {"type": count, "default": None,
                                       "help": "images per batch when scoring (default: 16 on CPU, 32 on CUDA)"}),
        Option(("--workers",), "workers", {"type": count0, "default": None,
                                           "help": "processes decoding images (default: one per spare core, <= 4)"}),
        Option(("--dpi",), "dpi", {"type": V.arg(V.check_count, minimum=50), "default": 300,
                                   "help": "resolution of figures/*.png (the page embeds 100 dpi copies)"}),
        Option(("--device",), "device", {"default": None, "help": "cpu or cuda (default: cuda when available)"}),
    ]


OPTIONS = _options()


def add_arguments(ap: argparse.ArgumentParser) -> None:
    for o in OPTIONS:
        ap.add_argument(*o.flags, dest=o.dest, **o.kw)
    ap.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="show a progress bar on stderr (default: when stderr is a terminal); the one line per "
                         "section with its ETA is always written")


def command_line(args: argparse.Namespace) -> str:
    """``gam-gui report ...`` rebuilt from the parsed options (each one that differs from its
    default), quoted for a POSIX shell: the command that reruns this report."""
    parts = ["gam-gui", "report"]
    for o in OPTIONS:
        value = getattr(args, o.dest, None)
        if value is None or value == o.kw.get("default", None if o.kw.get("action") != "store_true" else False):
            continue
        flag = o.flags[0]
        if o.kw.get("action") == "store_true":
            parts.append(flag)
        elif isinstance(value, (list, tuple)):
            parts += [flag, *map(str, value)]
        else:
            parts += [flag, str(value)]
    return shlex.join(parts)
