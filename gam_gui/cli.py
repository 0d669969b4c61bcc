"""``gam-gui``: the window (default), ``gam-gui export`` (headless panels), ``gam-gui layers``,
``gam-gui train`` and ``gam-gui eval``.

Usage errors (a value out of range, a layer the model does not have) print argparse's usage and one
error line and exit 2; errors in the input (a missing or bad file, a refused checkpoint) print one
line and exit 1; no traceback either way.

This module imports nothing heavy at the top: every parser, ``--help`` included, is built from
:mod:`gam_gui.validate` alone, and torch, OpenCV and Qt load only in the command that runs. Paths
are checked before a model loads, so a typo is reported at once rather than after the model.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import Any

from gam_gui import __version__
from gam_gui import validate as V
from gam_gui.ablation_modes import check_ablation
from gam_gui.text import escape_text
from gam_gui.train.args import (
    EVAL_DESCRIPTION,
    MERGE_DESCRIPTION,
    TRAIN_DESCRIPTION,
    data_args,
    eval_args,
    eval_parser,  # noqa: F401 - re-exported: the parsers as they were reached before issue 24
    merge_args,
    train_args,
    train_parser,  # noqa: F401
)

LOGGER = logging.getLogger("gam_gui")
EXIT_USAGE, EXIT_INPUT = 2, 1
COMMANDS = ("gui", "export", "ablate", "compare", "layers", "train", "eval", "export-dataset", "merge", "report")
LANGUAGES = ("en", "zh_CN")


def _progress_arg(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="show a progress bar on stderr (default: when stderr is a terminal, or "
                         "$GAM_GUI_PROGRESS=1)")


def _settings_args(ap: argparse.ArgumentParser, weights: bool = True) -> None:
    if weights:
        ap.add_argument("--weights", "-w", default=None, help="checkpoint: gam-gui, YOLOv5 or YOLOv7 best.pt "
                        "(default: the shipped YOLOv5n-GAM shapes model)")
    ap.add_argument("--method", "-m", default="auto", type=V.arg(V.check_method),
                    help=f"CAM method: {', '.join(V.METHOD_NAMES)} (auto: Grad-CAM for several detections, "
                         "HiResCAM for one object)")
    ap.add_argument("--layers", "-l", type=int, nargs="+", default=None,
                    help="layer indices for the CAM, averaged (default: the GAM blocks, else the layers "
                         "feeding Detect)")
    ap.add_argument("--target", "-t", default="all", type=V.arg(V.check_target),
                    help="all, class, box, a detection index, or cls:<id>")
    ap.add_argument("--conf", type=V.arg(V.check_unit), default=0.25, help="confidence threshold, in [0, 1]")
    ap.add_argument("--iou", type=V.arg(V.check_unit), default=0.45, help="NMS IoU threshold, in [0, 1]")
    ap.add_argument("--imgsz", type=V.arg(V.check_imgsz), default=None,
                    help="inference size, rounded up to the model's stride (default: the model's, else 640)")
    ap.add_argument("--reduction", choices=["mean", "max"], default="mean", help="GAM maps over channels")
    ap.add_argument("--gam-layer", type=int, default=None,
                    help="the attention block (any kind, by layer index; see `layers`) the two attention panels "
                         "show (default: the first)")
    ap.add_argument("--gate", type=V.arg(V.check_gate), default=None,
                    help="the gate of that block the first attention panel shows (e.g. spatial, height, "
                         "branch-cw; default: its first); the second shows the next gate or the block's gain")
    ap.add_argument("--colormap", default="jet", choices=V.COLORMAP_NAMES, help="heatmap colours")
    ap.add_argument("--alpha", type=V.arg(V.check_unit), default=0.5, help="heatmap overlay weight, in [0, 1]")
    ap.add_argument("--scale", default="per-frame", choices=V.SCALES,
                    help="heatmap colour range: each frame's own, or fixed (held over a video's frames)")
    ap.add_argument("--gam-view", default="gates", choices=V.GAM_VIEWS,
                    help="GAM panels: gates, or beside a gate the log2 energy gain of the block (gain) or of "
                         "one branch (channel-gain, spatial-gain)")
    ap.add_argument("--renorm-boxes", action="store_true", help="renormalise the CAM inside each box")
    ap.add_argument("--gam-variant", default=None, choices=V.GAM_VARIANTS, help="force the GAM forward")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")


def _gui_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("path", nargs="?", default=None, help="image, folder or video to open")
    ap.add_argument("--weights", "-w", default=None, help="checkpoint to load instead of the default model")
    ap.add_argument("--camera", type=V.arg(V.check_count, minimum=0), default=None, help="open camera N")
    ap.add_argument("--device", default=None, help="cpu or cuda")
    ap.add_argument("--threads", type=V.arg(V.check_threads), default=None,
                    help="analysis threads, capped at the CPUs (default: $GAM_GUI_THREADS, else one CPU fewer "
                         f"than available, which keeps the window responsive; at most {V.MAX_THREADS})")
    ap.add_argument("--lang", choices=LANGUAGES, default=None,
                    help="interface language (default: the one chosen in View > Language, else the system's)")
    ap.add_argument("--data", default=None,
                    help="a dataset (YOLO data.yaml, COCO json or folder) to open in the Dataset dock")


def _io_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--source", "-s", required=True, help="image, folder, video file, camera:N or stream URL")
    ap.add_argument("--out", "-o", required=True, help="output folder")


def _run_args(ap: argparse.ArgumentParser, what: str) -> None:
    """Options shared by export, ablate and compare after the settings."""
    ap.add_argument("--video", action="store_true", help=f"for a video: one MP4 of the {what} instead of PNGs")
    ap.add_argument("--every", type=V.arg(V.check_count), default=1, help="use every N-th frame of a video")
    ap.add_argument("--max-frames", type=V.arg(V.check_count), default=None,
                    help="stop after this many exported frames")
    ap.add_argument("--overwrite", action="store_true", help="replace existing output files")
    _progress_arg(ap)


class _Version(argparse.Action):
    """``--version``: the package, torch and Qt versions and the device analysis would use (imports
    torch, which only this option pays for)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the version of gam-gui, torch and Qt and the device, then exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(version_line())
        parser.exit()


def version_line() -> str:
    import torch

    try:
        from PyQt5.QtCore import QT_VERSION_STR

        qt = f"Qt {QT_VERSION_STR}"
    except ImportError:
        qt = "Qt not installed"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return f"gam-gui {__version__} (torch {torch.__version__.split('+')[0]}, {qt}, device {device})"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="gam-gui",
        description="See what the GAM attention in a YOLO-GAM detector does: detections, Grad-CAM and GAM "
                    "channel/spatial maps side by side. Without a command, opens the window.",
    )
    ap.add_argument("--version", action=_Version)
    ap.add_argument("--log-level", default=None, type=str.upper,
                    choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                    help="logging detail (default: WARNING; INFO for train and eval)")
    sub = ap.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")

    gui = sub.add_parser("gui", help="open the window (the default)", description="Open the window.")
    _gui_args(gui)

    ex = sub.add_parser("export", help="write side-by-side panels and detections for an image, folder or video",
                        description="Write side-by-side panels (detections, CAM, GAM channel, GAM spatial) and "
                                    "detections.json/.csv for an image, a folder, a video or a stream.")
    _io_args(ex)
    _settings_args(ex)
    ex.add_argument("--layout", choices=["row", "grid"], default="row", help="panels side by side or 2x2")
    _run_args(ex, "panels")

    ab = sub.add_parser("ablate",
                        help="switch attention blocks off (or keep one gate) and show what the detections lose",
                        description="Run each frame as trained and with the given attention blocks ablated; write the "
                                    "panels with the ablation overlay (kept: score change, lost: dashed red, "
                                    "new: green) and ablation.json/.csv (one row per matched box). Modes are each "
                                    "block's own (gam-gui layers lists them): on, off, <gate>-only (channel-only, "
                                    "spatial-only, height-only, ...), drop-top-k where the block has a channel "
                                    "gate (drop-top-16: k = 16; k = 8 by default), mean-gate.")
    _io_args(ab)
    ab.add_argument("--blocks", "-b", required=True, nargs="+", type=V.arg(check_ablation), metavar="LAYER:MODE",
                    help="attention blocks and modes, e.g. 22:off 26:spatial-only")
    _settings_args(ab)
    ab.add_argument("--layout", choices=["row", "grid"], default="row", help="panels side by side or 2x2")
    _run_args(ab, "panels")

    cp = sub.add_parser("compare", help="two models on the same frames: detections, CAMs and their difference",
                        description="Run two models on the same frames with the same settings; write a 3x2 "
                                    "figure per frame (detections A | detections B | matched boxes, CAM A | "
                                    "CAM B | CAM A - CAM B) and compare.json/.csv.")
    cp.add_argument("--source", "-s", default=None, help="image, folder, video file, camera:N or stream URL "
                    "(or --data for a dataset)")
    cp.add_argument("--out", "-o", default=None, help="output folder (required with --source)")
    cp.add_argument("--a", dest="weights", default=None,
                    help="model A (default: the shipped YOLOv5n-GAM shapes model)")
    cp.add_argument("--b", dest="weights_b", required=True, help="model B, e.g. weights/yolov5n_shapes.pt")
    _settings_args(cp, weights=False)
    cp.add_argument("--layout", choices=["row", "grid"], default="grid", help="figures in one row or 3x2")
    _run_args(cp, "figures")
    data_args(cp, "--data: score only the first N images in path order (default: all)", device=False)
    cp.add_argument("--figures", type=V.arg(V.check_count, minimum=0), default=8,
                    help="--data: panels for the first N objects found by one model and missed by the other")
    cp.add_argument("--found-conf", type=V.arg(V.check_unit), default=0.25,
                    help="--data: an object counts as found when the detection matched to it (IoU 0.5) scores at "
                         "least this")

    lay = sub.add_parser("layers", help="list a model's layers (index, type, output shape, attention blocks)",
                         description="List a model's layers: index, type, output shape; attention blocks (kind, "
                                     "variant, ablation modes) and the layers suggested for CAM marked.")
    lay.add_argument("--weights", "-w", default=None, help="checkpoint (default: the shipped model)")
    lay.add_argument("--imgsz", type=V.arg(V.check_imgsz), default=None,
                     help="input size for the shapes (default: the model's own, else 640)")

    tr = sub.add_parser("train", help="train the default model (see gam-gui train --help)",
                        description=TRAIN_DESCRIPTION)
    train_args(tr)
    ev = sub.add_parser("eval", help="evaluate a model on a dataset (--data) or the shapes validation set",
                        description=EVAL_DESCRIPTION)
    eval_args(ev)
    mg = sub.add_parser("merge", help="combine eval/compare shard files into one run's result",
                        description=MERGE_DESCRIPTION)
    merge_args(mg)
    xd = sub.add_parser("export-dataset", help="write the shapes validation set as a YOLO-layout dataset",
                        description="Write the first N images of the shapes validation set (the images eval scores "
                                    "without --data) as a YOLO-layout dataset: OUT/data.yaml, OUT/images/val/*.png, "
                                    "OUT/labels/val/*.txt. PNG and exact labels: eval --data OUT/data.yaml reads "
                                    "back the same pixels and boxes.")
    xd.add_argument("--out", "-o", required=True, help="output folder")
    xd.add_argument("--images", type=V.arg(V.check_count), default=500, help="images to write (default 500)")
    xd.add_argument("--hard", action="store_true", help="the held-out hard slice instead of the validation set")
    xd.add_argument("--render-size", type=V.arg(V.check_count, minimum=32), default=320,
                    help="side of the rendered images (eval's is 320)")
    xd.add_argument("--overwrite", action="store_true", help="replace an existing OUT/data.yaml")
    _progress_arg(xd)
    from gam_gui.report.options import DESCRIPTION as REPORT_DESCRIPTION
    from gam_gui.report.options import add_arguments as report_args

    rp = sub.add_parser("report", help="one self-contained HTML report (+ LaTeX/CSV tables, figures) on a dataset",
                        description=REPORT_DESCRIPTION)
    report_args(rp)
    for p in sub.choices.values():
        p.set_defaults(_parser=p)
    # attention-block plugins (issue 27): the user's own code, before or after the command
    plugin_help = "a Python file registering attention blocks (see CONTRIBUTING.md); repeatable"
    ap.add_argument("--plugin", dest="plugins", action="append", default=[], metavar="FILE", help=plugin_help)
    for parser in sub.choices.values():
        parser.add_argument("--plugin", dest="plugins", action="append", default=argparse.SUPPRESS, metavar="FILE",
                            help=plugin_help)
    return ap


def _usage_error(args: argparse.Namespace, message: str) -> int:
    """argparse's usage error (usage line, ``gam-gui export: error: ...``), for values that are only
    known to be wrong once the model is loaded; returns exit code 2 instead of raising SystemExit."""
    p: argparse.ArgumentParser = args._parser
    p.print_usage(sys.stderr)
    print(f"{p.prog}: error: {escape_text(message)}", file=sys.stderr)
    return EXIT_USAGE


def _check_paths(args: argparse.Namespace) -> None:
    """Missing files are reported before a model (and torch) is loaded."""
    for key in ("weights", "weights_b"):
        if getattr(args, key, None):
            V.check_file(getattr(args, key), "checkpoint")
    if getattr(args, "source", None) is not None:
        V.check_source(args.source)
    if getattr(args, "path", None) is not None:
        V.check_source(args.path)
    data = getattr(args, "data", None)
    if isinstance(data, str) and not os.path.exists(data):
        raise FileNotFoundError(f"--data {data}: no such file or folder")


def _load(weights: str | None, device: str | None, gam_variant: str | None = None):
    from gam_gui.checkpoints import load_model

    return load_model(weights, device=device, gam_variant=gam_variant)


def _model_imgsz(model: Any, imgsz: int | None, fallback: int) -> int:
    """The size asked for, else the model's own (stored in the checkpoint), rounded up to its stride."""
    from gam_gui.inference import model_stride

    size = imgsz or int(getattr(model, "meta", {}).get("imgsz", fallback) or fallback)
    size = V.round_imgsz(size, model_stride(model), "--imgsz")
    if imgsz:  # the loader checked the file's own size; a size asked for is checked once here
        from gam_gui.checkpoints import estimate_work

        estimate_work(model, size, "--imgsz")
    return size


def cmd_export(args: argparse.Namespace) -> int:
    model = _load(args.weights, args.device, args.gam_variant)
    return _export_with(args, model)


def cmd_ablate(args: argparse.Namespace) -> int:
    from gam_gui.ablation import resolve_blocks

    model = _load(args.weights, args.device, args.gam_variant)
    try:
        blocks = resolve_blocks(model, args.blocks)
    except ValueError as e:
        raise V.UsageError("--blocks", str(e)) from None
    return _export_with(args, model, ablation={k: m.label for k, m in blocks.items()})


def cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gam_gui.checkpoints import default_weights_path
    from gam_gui.pipeline import ModelB

    if args.data is not None:  # a dataset: scores, intervals and the objects one model finds and the other misses
        from gam_gui.evaluation.compare_data import run as compare_data

        return compare_data(args)
    if args.source is None or args.out is None:
        raise V.UsageError("--source", "give --source and --out (frames), or --data (a dataset)")
    model = _load(args.weights, args.device, args.gam_variant)
    model_b = _load(args.weights_b, args.device, args.gam_variant)
    name_a = Path(args.weights or default_weights_path()).stem
    return _export_with(args, model, model_b=ModelB(model_b, Path(args.weights_b).stem), name_a=name_a)


def _export_with(args: argparse.Namespace, model: Any, **view: Any) -> int:
    """export, ablate and compare: the same settings, frame loop, progress and messages; ``view``:
    the ablation or the comparison model (:class:`gam_gui.pipeline.ViewState`)."""
    from gam_gui.analysis import Settings
    from gam_gui.export import escape_name, export
    from gam_gui.pipeline import ViewState
    from gam_gui.progress import Progress

    t0 = args.started  # the whole command: imports and model loading included
    s = Settings(method=args.method, layers=tuple(args.layers) if args.layers else None, target=args.target,
                 conf=args.conf, iou=args.iou, imgsz=_model_imgsz(model, args.imgsz, 640),
                 reduction=args.reduction, renorm_boxes=args.renorm_boxes, colormap=args.colormap,
                 alpha=args.alpha, gam_layer=args.gam_layer, scale=args.scale, gam_view=args.gam_view,
                 gate=args.gate)
    _validate(model, s)
    limit = args.max_frames * args.every if args.max_frames else None  # source frames that will be read

    with Progress(desc=args.command, unit="frame", force=args.progress) as bar:
        def report(done: int, total: int | None) -> None:
            bar.set(done, min(total, limit) if total and limit else total or limit)

        summary = export(args.source, args.out, model, video=args.video, every=args.every,
                         overwrite=args.overwrite, layout=args.layout, max_frames=args.max_frames, progress=report,
                         view=ViewState(s, **view), opened=getattr(args, "opened", None))
        if summary.frames and not summary.cancelled:
            bar.finish()  # the last frames may not be reported (skipped by --every): end at N/N
    if not summary.frames and not summary.cancelled:
        # nothing to show for it: one error line (the first reason), like any other bad input
        why = summary.skipped[0] if summary.skipped else "the source delivered no frames"
        more = f" (and {len(summary.skipped) - 1} more)" if len(summary.skipped) > 1 else ""
        print(f"gam-gui: error: nothing was exported: {escape_text(why)}{more}", file=sys.stderr)
        return EXIT_INPUT
    for msg in summary.skipped:
        print(f"skipped: {escape_text(msg)}", file=sys.stderr)
    print(f"wrote {summary.frames} frame(s) to {escape_name(summary.out_dir)} in {time.perf_counter() - t0:.1f} s")
    return 0 if summary.frames else EXIT_INPUT


def _validate(model: Any, s: Any) -> None:
    """Fail before any work for settings that cannot work on this model (:class:`validate.UsageError`:
    exit 2, like argparse's own errors)."""
    import torch

    from gam_gui.analysis import resolve_layers
    from gam_gui.explain.blocks import block_indices, block_word

    try:
        resolve_layers(model, s.layers, "--layers")
    except ValueError as e:
        raise V.UsageError("--layers", str(e)) from None
    try:
        V.check_gam_layer(s.gam_layer, block_indices(model), "--gam-layer", block_word(model))
    except ValueError as e:
        raise V.UsageError("--gam-layer", str(e)) from None
    gate = getattr(s, "gate", None)
    if gate is not None:  # the window falls back to the block's first gate; a command says what is wrong
        from gam_gui.models import attention

        found = [f for f in attention.find_blocks(model) if f.index >= 0]
        shown = next((f for f in found if f.index == s.gam_layer), found[0] if found else None)
        names = [g.name for g in shown.entry.gates] if shown is not None else []
        if gate not in names:
            where = (f"the {shown.entry.kind} block at layer {shown.index} has: {', '.join(names)}"
                     if shown is not None else "the model has no attention blocks")
            raise V.UsageError("--gate", f"--gate {gate} is not a gate of the block shown; {where}")
    head = model.model[-1] if isinstance(getattr(model, "model", None), torch.nn.Sequential) else None
    try:  # a class the model does not have would fail every frame
        V.check_target(s.target, "--target", nc=getattr(head, "nc", None))
    except ValueError as e:
        raise V.UsageError("--target", str(e)) from None


def cmd_layers(args: argparse.Namespace) -> int:
    from gam_gui.analysis import list_layers

    model = _load(args.weights, "cpu")
    imgsz = _model_imgsz(model, args.imgsz, 640)
    names = getattr(model, "names", {})
    # class names and layer names come from the file: control characters escaped, the list budgeted
    shown, used = [], 0
    for v in names.values():
        if used > 4000:
            shown.append(f"... and {len(names) - len(shown)} more")
            break
        shown.append(escape_text(v))
        used += len(shown[-1]) + 2
    print(f"classes ({len(names)}): {', '.join(shown)}")
    if getattr(model, "variant_reason", ""):
        print(f"GAM forward: {escape_text(model.variant_reason)}")
    print(f"output shapes at {imgsz}x{imgsz}:")
    for info in list_layers(model, imgsz):
        print(escape_text(info.label()))
    from gam_gui.models import attention

    found = [f for f in attention.find_blocks(model) if f.index >= 0]
    if found:  # what `ablate --blocks LAYER:MODE` and `eval --ablate` accept for each block
        print("ablation modes (LAYER:MODE; drop-top-k takes a number, e.g. drop-top-16):")
        for f in found:
            print(f"{f.index:>2}  {f.entry.kind:<16} {', '.join(f.entry.modes)}")
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    import os

    threads = args.threads
    env = os.environ.get("GAM_GUI_THREADS", "").strip()
    if threads is None and env:  # the variable follows the option's rule: a usage error, not a crash
        try:
            threads = V.check_threads(env, "GAM_GUI_THREADS")
        except ValueError as e:
            raise V.UsageError("GAM_GUI_THREADS", str(e)) from None
    if threads is not None:
        threads = V.cap_threads(threads)

    from gam_gui.ui.app import run

    return run(path=args.path, weights=args.weights, camera=args.camera, device=args.device,
               threads=threads, lang=args.lang, data=args.data)


def cmd_train(args: argparse.Namespace) -> int:
    from gam_gui.train.trainer import train

    best = train(args)
    LOGGER.info("done: %s", best)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from gam_gui.train.evaluate import run

    return run(args)


def cmd_merge(args: argparse.Namespace) -> int:
    from gam_gui.evaluation.merge import run_merge

    return run_merge(args)


def cmd_report(args: argparse.Namespace) -> int:
    import os

    for path in (args.weights, args.baseline):
        if path:
            V.check_file(path, "checkpoint")
    if not os.path.exists(args.data):
        print(f"gam-gui: error: --data {args.data}: no such file or folder", file=sys.stderr)
        return EXIT_INPUT
    if args.log_level is None:  # one line per section with its ETA, whatever the other loggers show
        logging.getLogger("gam_gui.report").setLevel(logging.INFO)
    from gam_gui.report.command import run

    return run(args)


def cmd_export_dataset(args: argparse.Namespace) -> int:
    from gam_gui.datasets import export_shapes

    path = export_shapes(args.out, args.images, hard=args.hard, render_size=args.render_size,
                         overwrite=args.overwrite, progress=args.progress)
    print(f"wrote {args.images} image(s) and {path}")
    return 0


def _with_default_command(argv: list[str]) -> list[str]:
    """``gam-gui [options] [path]`` means ``gam-gui [options] gui [path]``: insert ``gui`` after
    the leading top-level options unless a command (or help/version) is there."""
    i = 0
    while i < len(argv) and argv[i].startswith(("--log-level", "--plugin")):
        i += 1 if "=" in argv[i] else 2
    rest = argv[i:]
    if rest and (rest[0] in COMMANDS or rest[0] in ("-h", "--help", "--version")):
        return argv
    return [*argv[:i], "gui", *rest]


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    argv = _with_default_command(list(sys.argv[1:] if argv is None else argv))
    ap = build_parser()
    args = ap.parse_args(argv)
    args.started = started
    level = args.log_level or ("INFO" if args.command in ("train", "eval") else "WARNING")
    fmt = "%(asctime)s %(message)s" if args.command == "train" else "%(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=getattr(logging, level), format=fmt, datefmt="%H:%M:%S")
    try:
        _check_paths(args)
    except FileNotFoundError as e:
        print(f"gam-gui: error: {escape_text(e)}", file=sys.stderr)
        return EXIT_INPUT
    if getattr(args, "source", None) is not None:
        from gam_gui.sources import SourceError, open_source

        try:  # the media is read (headers, size, a first decode) before torch and the model load
            args.opened = open_source(args.source)
        except SourceError as e:
            print(f"gam-gui: error: {escape_text(e)}", file=sys.stderr)
            return EXIT_INPUT
        from gam_gui.export import check_out_dir

        try:  # an empty --out, or the source folder itself: before the model
            check_out_dir(args.out, args.opened)
        except ValueError as e:
            args.opened.close()
            return _usage_error(args, str(e))
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from gam_gui.checkpoints import CheckpointError
    from gam_gui.export import ExportError
    from gam_gui.images import ImageError
    from gam_gui.models.yolov5 import ModelConfigError
    from gam_gui.sources import SourceError

    handlers = {"export": cmd_export, "ablate": cmd_ablate, "compare": cmd_compare, "layers": cmd_layers,
                "gui": cmd_gui, "train": cmd_train, "eval": cmd_eval}
    handlers["export-dataset"] = cmd_export_dataset
    handlers["merge"] = cmd_merge
    handlers["report"] = cmd_report
    try:
        _load_plugins(args)
        return handlers[args.command](args)
    except V.UsageError as e:
        return _usage_error(args, str(e))
    except (CheckpointError, ExportError, ImageError, SourceError, ModelConfigError, ValueError) as e:
        print(f"gam-gui: error: {_first_line(e)}", file=sys.stderr)
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


def _load_plugins(args: argparse.Namespace) -> None:
    """Register the attention blocks of ``--plugin`` files and installed ``gam_gui.blocks`` entry
    points before any model is loaded (a plugin that fails is a one-line error, exit 1)."""
    from gam_gui import plugins

    plugins.load_entry_points()
    for path in dict.fromkeys(getattr(args, "plugins", None) or []):
        plugins.load_plugin(path)


def _first_line(e: BaseException) -> str:
    """The first line of an error, control characters escaped (it may quote a file's names)."""
    return escape_text(str(e).strip().splitlines()[0][:300]) if str(e).strip() else "no details"


if __name__ == "__main__":
    raise SystemExit(main())
