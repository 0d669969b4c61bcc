"""The options of ``gam-gui train``, ``gam-gui eval`` and ``gam-gui merge``, next to the code that runs
them (the CLI imports them; nothing here imports the CLI).

Built from :mod:`gam_gui.validate` alone, so ``gam-gui eval --help`` imports no torch.
"""

from __future__ import annotations

import argparse

from gam_gui import validate as V
from gam_gui.ablation_modes import check_ablation

TRAIN_DESCRIPTION = "Train YOLOv5n-GAM on rendered shapes (CPU or CUDA)."
EVAL_DESCRIPTION = ("Evaluate a model on a dataset (--data: a YOLO data.yaml, a COCO json or a folder; default: the "
                    "fixed-seed shapes validation set): mAP@0.5 and mAP@0.5:0.95 by protocol (coco = pycocotools, "
                    "ultralytics = ultralytics val), precision and recall, per-class rows, optionally ablations "
                    "with paired-bootstrap intervals, the pointing game and faithfulness scores; prints JSON.")
MERGE_DESCRIPTION = ("Merge the shard files of eval --shard i/n (or compare --shard) into the result of one run: the "
                     "same JSON, to the last digit, and with --out the same files.")
#: protocols ``--protocol`` accepts (each registered by :mod:`gam_gui.metrics`)
PROTOCOLS = ("coco", "ultralytics", "ultralytics-8.3")
SPLITS = ("val", "test", "train")


def progress_arg(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="show a progress bar on stderr (default: when stderr is a terminal, or "
                         "$GAM_GUI_PROGRESS=1)")


def train_args(ap: argparse.ArgumentParser) -> None:
    count, pos = V.arg(V.check_count), V.arg(V.check_positive)
    ap.add_argument("--cfg", default="yolov5n_GAM", help="model YAML: a name under gam_gui/models/cfg or a path")
    ap.add_argument("--out", default="runs/train", help="run folder: last.pt, best.pt, ema_snapshot.pt")
    ap.add_argument("--iters", type=count, default=4000, help="training iterations (batches)")
    ap.add_argument("--batch", type=count, default=16, help="images per batch")
    ap.add_argument("--imgsz", type=V.arg(V.check_imgsz), default=320,
                    help="training input size, rounded up to the model's stride")
    ap.add_argument("--render-size", type=V.arg(V.check_count, minimum=32), default=320,
                    help="side of the rendered shapes images")
    ap.add_argument("--pool", type=count, default=10000, help="rendered training images kept in memory")
    ap.add_argument("--lr", type=pos, default=2e-3, help="peak learning rate (AdamW)")
    ap.add_argument("--lrf", type=V.arg(V.check_unit), default=0.02,
                    help="final learning rate as a fraction of --lr (cosine decay)")
    ap.add_argument("--wd", type=V.arg(V.check_unit), default=0.01, help="weight decay")
    ap.add_argument("--warmup", type=V.arg(V.check_count, minimum=0), default=300,
                    help="warm-up iterations (linear learning-rate ramp)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (pool and batches)")
    ap.add_argument("--workers", type=count, default=2, help="processes rendering the pool")
    ap.add_argument("--threads", type=V.arg(V.check_count, minimum=0), default=0,
                    help="torch CPU threads (0: torch default)")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    ap.add_argument("--gam-variant", default=None, choices=V.GAM_VARIANTS,
                    help="GAM forward to train (default: seed, the recipe's)")
    ap.add_argument("--log-every", type=count, default=20, help="log a line every N iterations")
    ap.add_argument("--save-every", type=count, default=100, help="write last.pt every N iterations")
    ap.add_argument("--eval-every", type=count, default=500, help="evaluate the EMA model every N iterations")
    ap.add_argument("--eval-images", type=count, default=100, help="validation images per evaluation")
    ap.add_argument("--final-eval-images", type=count, default=500, help="validation images at the end")
    ap.add_argument("--resume", action="store_true", help="continue runs/<out>/last.pt")
    ap.add_argument("--resume-from", default=None, help="continue from a gam-gui weights file (EMA weights, "
                                                        "fresh optimizer)")
    ap.add_argument("--export-resume", default=None, help="also write the EMA snapshot here at each save")
    progress_arg(ap)


def shard_arg(text: str) -> tuple[int, int]:
    """``i/n`` (0 <= i < n) -> (i, n)."""
    try:
        i, n = (int(v) for v in str(text).split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected i/n, e.g. 0/4, got {text!r}") from None
    if n < 1 or not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"shard {text!r}: need 0 <= i < n")
    return i, n


def data_args(ap: argparse.ArgumentParser, images_help: str, device: bool = True) -> None:
    """The dataset options of eval and compare (``device``: add ``--device``, unless the parser has it)."""
    ap.add_argument("--data", default=None, metavar="D",
                    help="dataset: a YOLO data.yaml, a COCO instances json (its images beside it) or a folder of "
                         "images with a labels/ sibling (default: the generated shapes validation set)")
    ap.add_argument("--split", choices=SPLITS, default="val", help="--data: which split (default: val)")
    ap.add_argument("--images", type=V.arg(V.check_count), default=None, help=images_help)
    ap.add_argument("--protocol", choices=PROTOCOLS, default="coco",
                    help="how mAP is computed: coco (pycocotools' COCOeval) or ultralytics (ultralytics val: "
                         "rectangular batches, multi-label NMS, conf 0.001, iou 0.7; ultralytics-8.3: its 8.3 rules)")
    ap.add_argument("--batch", type=V.arg(V.check_count), default=None,
                    help="images per forward pass (default: 16 on CPU, 32 on CUDA)")
    ap.add_argument("--workers", type=V.arg(V.check_count, minimum=0), default=None,
                    help="processes decoding images (default: one per spare core, at most 4; 0: none)")
    if device:
        ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    ap.add_argument("--shard", type=shard_arg, default=None, metavar="i/n",
                    help="score only the i-th of n equal parts of the images and write a shard file to --out "
                         "(combine the parts with gam-gui merge)")
    ap.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                    help="fan the shards out over a Ray cluster (ADDRESS, or a local instance when omitted; "
                         "needs pip install gam-gui[cluster]); --shard n/N is not needed")
    ap.add_argument("--ray-shards", type=V.arg(V.check_count), default=None,
                    help="--ray: number of shards (default: the cluster's CPUs, at most the images)")
    ap.add_argument("--resamples", type=V.arg(V.check_count), default=1000,
                    help="paired bootstrap resamples over images for the 95%% intervals (default 1000)")
    ap.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")


#: The most points a faithfulness curve may have (``--steps 3000`` used 5.9 GB for no better curve);
#: equals :data:`gam_gui.faithfulness.MAX_STEPS`, kept here so that ``--help`` imports no torch.
MAX_FAITHFULNESS_STEPS = 128


def faithfulness_steps(text: str) -> int:
    """``--steps``: an integer from 2 to :data:`MAX_FAITHFULNESS_STEPS` (argparse names the option)."""
    n = V.arg(V.check_count, minimum=2)(text)
    if n > MAX_FAITHFULNESS_STEPS:
        raise argparse.ArgumentTypeError(f"at most {MAX_FAITHFULNESS_STEPS} points per curve, got {n}")
    return n


def eval_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--weights", "-w", default=None, help="checkpoint (default: the shipped model)")
    data_args(ap, "score only the first N images in path order (default: all; 500 for the shapes set)")
    ap.add_argument("--imgsz", type=V.arg(V.check_imgsz), default=None,
                    help="inference size, rounded up to the model's stride (default: the model's own, else 320)")
    ap.add_argument("--out", "-o", default=None,
                    help="write predictions.json (COCO results), images.json, metrics.json, pr_curve.png and "
                         "confusion_matrix.png here (with --shard: the shard file)")
    ap.add_argument("--dpi", type=V.arg(V.check_count), default=150, help="--out figures: dots per inch (300 for a "
                    "paper)")
    ap.add_argument("--pointing", action="store_true",
                    help="also run the pointing game (Grad-CAM, HiResCAM, LayerCAM, or --methods): one forward "
                         "per image for every method and one batched backward per method, about 0.7 s per image "
                         "on one CPU thread at 384 px for the three default methods")
    ap.add_argument("--faithfulness", action="store_true",
                    help="also score each CAM method's per-object maps: pointing, energy in box, deletion and "
                         "insertion AUC with 95%% intervals, beside a random and a box map (a table on stderr); "
                         "costs a batched forward of up to 2 x --steps x --tie-orders images per detection and map, "
                         "about 20 s per detection on one CPU thread at 320 px with the defaults")
    ap.add_argument("--methods", nargs="+", type=V.arg(V.check_method), default=None,
                    help="CAM methods for --pointing and --faithfulness (default: gradcam hirescam layercam, "
                         "plus eigencam for --faithfulness)")
    ap.add_argument("--steps", type=faithfulness_steps, default=16,
                    help=f"--faithfulness: points per deletion/insertion curve (2 to {MAX_FAITHFULNESS_STEPS})")
    ap.add_argument("--baseline", choices=("blur", "mean", "road"), default="blur",
                    help="--faithfulness: what removed pixels become (a blurred frame, its mean colour, or road: "
                         "imputed from the kept neighbours at low resolution, so the hole keeps no shape)")
    ap.add_argument("--tie-orders", type=V.arg(V.check_count), default=4,
                    help="--faithfulness: random orders of a map's tied pixels averaged per curve (default 4, "
                         "seeded); a map with ties costs up to this many times more, one without ties no more")
    ap.add_argument("--feather", type=V.arg(V.check_count, minimum=0), default=0,
                    help="--faithfulness: soften the removal masks by a Gaussian of this many input pixels "
                         "(default 0: hard masks)")
    ap.add_argument("--sanity", action="store_true",
                    help="--faithfulness: also the randomisation check (weights re-initialised from the head "
                         "down to the attention blocks, on a copy): per method the rank correlation of trained and "
                         "randomised maps; > 0.5 is flagged 'insensitive to the model'. Adds about 4 maps' "
                         "forward and backward per image (small against the curves)")
    ap.add_argument("--ablate", action="append", default=[], metavar="LAYER:MODE[,LAYER:MODE]",
                    type=ablation_list,
                    help="also score the model with these attention blocks ablated (repeatable: one result per "
                         "option; a comma joins blocks ablated together), e.g. --ablate 18:off "
                         "--ablate 22:spatial-only,26:off")
    ap.add_argument("--ablate-each", action="store_true",
                    help="also score every attention block in every one of its ablation modes, one block at a "
                         "time, and print a table")
    ap.add_argument("--hard", action="store_true",
                    help="use the held-out hard slice (small, crowded, occluded, low-contrast objects) "
                         "instead of the validation set")
    progress_arg(ap)


def merge_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("shards", nargs="+", metavar="SHARD", help="shard files written by --shard i/n")
    ap.add_argument("--out", "-o", default=None, help="write the run's files here, as a single run's --out would")
    ap.add_argument("--dpi", type=V.arg(V.check_count), default=150, help="--out figures: dots per inch")


def ablation_list(text: str) -> list[str]:
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("expected LAYER:MODE, e.g. 18:off")
    return [V.arg(check_ablation)(p) for p in parts]


def train_parser() -> argparse.ArgumentParser:
    """``gam-gui train``'s own parser (``python -m gam_gui.train.trainer`` uses it too)."""
    ap = argparse.ArgumentParser(prog="gam-gui train", description=TRAIN_DESCRIPTION)
    train_args(ap)
    return ap


def eval_parser() -> argparse.ArgumentParser:
    """``gam-gui eval``'s own parser (``python -m gam_gui.train.evaluate`` uses it too)."""
    ap = argparse.ArgumentParser(prog="gam-gui eval", description=EVAL_DESCRIPTION)
    eval_args(ap)
    return ap
