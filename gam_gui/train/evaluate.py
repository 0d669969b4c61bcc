"""mAP@0.5 and mAP@0.5:0.95 on the fixed-seed shapes validation set, for the trainer and ``gam-gui eval``.

The metric itself lives in :mod:`gam_gui.metrics` (protocols, scorer, bootstrap) and the dataset
pass in :mod:`gam_gui.evaluation`; this module keeps the shapes set's seeds and the trainer's entry
point (:func:`evaluate`).
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass, field

from torch import nn

from gam_gui.data.shapes import HARD_SEED0, NORMAL, TRAIN_SEED_LIMIT, VAL_SEED0, Difficulty  # noqa: F401 - re-exported
from gam_gui.metrics.protocols import IOU_THRESHOLDS, box_iou  # noqa: F401 - where they were before issue 21
from gam_gui.progress import Progress

LOGGER = logging.getLogger(__name__)



@dataclass
class EvalResult:
    map50: float
    map50_95: float
    per_class_ap50: dict[str, float]
    images: int
    instances: int
    imgsz: int
    seconds: float
    extra: dict = field(default_factory=dict)


def evaluate(model: nn.Module, n_images: int = 500, imgsz: int = 320, conf: float = 0.001, iou: float = 0.6,
             seed0: int | None = None, render_size: int = 320, progress: bool | None = None,
             difficulty: Difficulty = NORMAL) -> EvalResult:
    """mAP of ``model`` on the validation set (or the hard slice), COCO protocol (``progress``: see
    :mod:`gam_gui.progress`)."""
    return evaluate_configs(model, [None], n_images, imgsz, conf, iou, seed0, render_size, progress, difficulty)[0]


def evaluate_configs(model: nn.Module, configs: list, n_images: int = 500, imgsz: int = 320,
                     conf: float = 0.001, iou: float = 0.6, seed0: int | None = None,
                     render_size: int = 320, progress: bool | None = None,
                     difficulty: Difficulty = NORMAL) -> list[EvalResult]:
    """mAP (COCO protocol) of ``model`` under each configuration on the same validation images, each
    image rendered once: ``None`` is the model as trained, anything else a GAM ablation
    (:func:`gam_gui.ablation.ablated`'s ``blocks``). ``seed0`` defaults to the slice's own seeds.
    ``conf``/``iou``: the NMS settings (the COCO protocol's by default). Runs in this process (no
    decoding workers): the trainer calls it between iterations."""
    from gam_gui.datasets import shapes_dataset
    from gam_gui.evaluation.runner import score_dataset
    from gam_gui.metrics.coco import CocoProtocol

    protocol = CocoProtocol()
    protocol.conf, protocol.iou = conf, iou
    t0 = time.time()
    ds = shapes_dataset(n_images, difficulty, render_size, seed0)
    desc = "mAP" if len(configs) == 1 else f"mAP x {len(configs)} configurations"
    with Progress(n_images, desc=desc, unit="img", force=progress) as bar:
        score = score_dataset(model, ds, protocol, imgsz, configs, workers=0,
                              progress=lambda done, total: bar.set(done, total))
    seconds = time.time() - t0
    out = []
    for sc in score.scorers:
        m = sc.metrics()
        out.append(EvalResult(map50=m.map50, map50_95=m.map50_95, per_class_ap50=m.per_class_ap50,
                              images=m.images, instances=m.instances, imgsz=imgsz, seconds=round(seconds, 1)))
    return out


def run(args: argparse.Namespace) -> int:
    """``gam-gui eval`` (:func:`gam_gui.evaluation.eval_data.run_eval`)."""
    from gam_gui.evaluation.eval_data import run_eval

    return run_eval(args)


def main(argv: list[str] | None = None) -> int:
    """``python -m gam_gui.train.evaluate`` = ``gam-gui eval`` (the options live in
    :mod:`gam_gui.train.args`, so that ``--help`` needs no torch)."""
    from gam_gui.train.args import eval_parser

    args = eval_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return run(args)

if __name__ == "__main__":
    raise SystemExit(main())
