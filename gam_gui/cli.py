"""``gam-gui``: the window (default), ``gam-gui export`` (headless panels), ``gam-gui layers``,
``gam-gui train`` and ``gam-gui eval``.

Errors the user can fix (a bad file, a refused checkpoint) print one line and exit non-zero; no
traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

LOGGER = logging.getLogger("gam_gui")
EXIT_USAGE, EXIT_INPUT = 2, 1


def _settings_args(ap: argparse.ArgumentParser) -> None:
    from gam_gui.explain.cams import METHODS
    from gam_gui.render import COLORMAPS

    ap.add_argument("--weights", "-w", default=None, help="checkpoint: gam-gui, YOLOv5 or YOLOv7 best.pt "
                    "(default: the shipped YOLOv5n-GAM shapes model)")
    ap.add_argument("--method", "-m", default="gradcam", help=f"CAM method: {', '.join(METHODS)}")
    ap.add_argument("--layers", "-l", type=int, nargs="+", default=None,
                    help="layer indices for the CAM, averaged (default: the GAM blocks)")
    ap.add_argument("--target", "-t", default="all", help="all, class, box, a detection index, or cls:<id>")
    ap.add_argument("--conf", type=float, default=0.25, help="confidence threshold")
    ap.add_argument("--iou", type=float, default=0.45, help="NMS IoU threshold")
    ap.add_argument("--imgsz", type=int, default=None, help="inference size (default: the model's, else 640)")
    ap.add_argument("--reduction", choices=["mean", "max"], default="mean", help="GAM maps over channels")
    ap.add_argument("--gam-layer", type=int, default=None, help="GAM block shown in the panels (default: first)")
    ap.add_argument("--colormap", default="jet", choices=sorted(COLORMAPS))
    ap.add_argument("--alpha", type=float, default=0.5, help="heatmap overlay weight")
    ap.add_argument("--renorm-boxes", action="store_true", help="renormalise the CAM inside each box")
    ap.add_argument("--gam-variant", default=None, help="force the GAM forward: seed, paper, paper-shuffle")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="gam-gui",
        description="See what the GAM attention in a YOLO-GAM detector does: detections, Grad-CAM and GAM "
                    "channel/spatial maps side by side. Without a command, opens the window.",
    )
    ap.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING, ERROR")
    sub = ap.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the window (the default)")
    _gui_args(gui)

    ex = sub.add_parser("export", help="write side-by-side panels and detections for an image, folder or video")
    ex.add_argument("--source", "-s", required=True, help="image, folder, video file, camera:N or stream URL")
    ex.add_argument("--out", "-o", required=True, help="output folder")
    _settings_args(ex)
    ex.add_argument("--video", action="store_true", help="for a video: one MP4 of the panels instead of PNGs")
    ex.add_argument("--every", type=int, default=1, help="export every N-th frame of a video")
    ex.add_argument("--max-frames", type=int, default=None, help="stop after this many exported frames")
    ex.add_argument("--layout", choices=["row", "grid"], default="row", help="panels side by side or 2x2")
    ex.add_argument("--overwrite", action="store_true", help="replace existing output files")

    lay = sub.add_parser("layers", help="list a model's layers (index, type, output shape, GAM blocks)")
    lay.add_argument("--weights", "-w", default=None)
    lay.add_argument("--imgsz", type=int, default=320)

    sub.add_parser("train", help="train the default model (see gam-gui train --help)", add_help=False)
    sub.add_parser("eval", help="evaluate a model on the shapes validation set", add_help=False)
    return ap


def _gui_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("path", nargs="?", default=None, help="image, folder or video to open")
    ap.add_argument("--weights", "-w", default=None, help="checkpoint to load instead of the default model")
    ap.add_argument("--camera", type=int, default=None, help="open camera N")
    ap.add_argument("--device", default=None, help="cpu or cuda")
    ap.add_argument("--threads", type=int, default=None,
                    help="analysis threads (default: $GAM_GUI_THREADS, else one CPU fewer than available, "
                         "which keeps the window responsive)")


def _load(weights: str | None, device: str | None, gam_variant: str | None = None):
    from gam_gui.checkpoints import load_model

    return load_model(weights, device=device, gam_variant=gam_variant)


def cmd_export(args: argparse.Namespace) -> int:
    from gam_gui.analysis import Settings
    from gam_gui.export import export

    model = _load(args.weights, args.device, args.gam_variant)
    imgsz = args.imgsz or int(getattr(model, "meta", {}).get("imgsz", 640) or 640)
    s = Settings(method=args.method, layers=tuple(args.layers) if args.layers else None, target=args.target,
                 conf=args.conf, iou=args.iou, imgsz=imgsz, reduction=args.reduction,
                 renorm_boxes=args.renorm_boxes, colormap=args.colormap, alpha=args.alpha, gam_layer=args.gam_layer)
    _validate(model, s)
    bar = _progress_bar()
    try:
        summary = export(args.source, args.out, model, s, video=args.video, every=args.every,
                         overwrite=args.overwrite, layout=args.layout, max_frames=args.max_frames, progress=bar)
    finally:
        bar.close()
    if not summary.frames and not summary.cancelled:
        # nothing to show for it: one error line (the first reason), like any other bad input
        why = summary.skipped[0] if summary.skipped else "the source delivered no frames"
        more = f" (and {len(summary.skipped) - 1} more)" if len(summary.skipped) > 1 else ""
        print(f"gam-gui: error: nothing was exported: {why}{more}", file=sys.stderr)
        return EXIT_INPUT
    for msg in summary.skipped:
        print(f"skipped: {msg}", file=sys.stderr)
    print(f"wrote {summary.frames} frame(s) to {summary.out_dir}")
    return 0 if summary.frames else EXIT_INPUT


def _validate(model, s) -> None:
    """Fail before any work for settings that cannot work on this model."""
    from gam_gui.analysis import resolve_layers
    from gam_gui.explain.cams import TargetSpec, canonical_method
    from gam_gui.render import colorize

    canonical_method(s.method)
    TargetSpec.parse(s.target)
    resolve_layers(model, s.layers)
    colorize(__import__("numpy").zeros((1, 1), "float32"), s.colormap)


class _progress_bar:  # noqa: N801 - used like a function
    """tqdm progress on stderr (tqdm comes with grad-cam), shown from the first frame on: an export
    that fails before any frame prints its one error line and nothing else."""

    def __init__(self) -> None:
        self.bar = None

    def __call__(self, done: int, total: int | None) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(unit="frame", file=sys.stderr)
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_layers(args: argparse.Namespace) -> int:
    from gam_gui.analysis import list_layers

    model = _load(args.weights, "cpu")
    names = getattr(model, "names", {})
    print(f"classes ({len(names)}): {', '.join(names.values())}")
    for info in list_layers(model, args.imgsz):
        print(info.label())
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from gam_gui.ui.app import run

    return run(path=args.path, weights=args.weights, camera=args.camera, device=args.device,
               threads=args.threads)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "train":
        from gam_gui.train.trainer import main as train_main

        return train_main(argv[1:])
    if argv and argv[0] == "eval":
        from gam_gui.train.evaluate import main as eval_main

        return eval_main(argv[1:])
    commands = {"gui", "export", "layers", "train", "eval"}
    if not argv or (argv[0] not in commands and argv[0] not in ("-h", "--help") and not argv[0].startswith("--log")):
        argv = ["gui", *argv]
    ap = build_parser()
    args = ap.parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        format="%(levelname)s %(name)s: %(message)s")
    from gam_gui.checkpoints import CheckpointError
    from gam_gui.export import ExportError
    from gam_gui.images import ImageError
    from gam_gui.models.yolo import ModelConfigError
    from gam_gui.sources import SourceError

    handlers = {"export": cmd_export, "layers": cmd_layers, "gui": cmd_gui}
    if args.command is None:
        args = ap.parse_args(["gui"])
    try:
        return handlers[args.command](args)
    except (CheckpointError, ExportError, ImageError, SourceError, ModelConfigError, ValueError) as e:
        print(f"gam-gui: error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except MemoryError:
        print("gam-gui: error: out of memory (try a smaller --imgsz, or fewer layers)", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("gam-gui: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - a bug or an unforeseen input: one line, the traceback on request
        LOGGER.debug("unexpected failure", exc_info=True)
        print(f"gam-gui: error: unexpected {type(e).__name__}: {_first_line(e)} "
              "(run with --log-level DEBUG for the traceback)", file=sys.stderr)
        return EXIT_INPUT


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0][:300] if str(e).strip() else "no details"


if __name__ == "__main__":
    raise SystemExit(main())
