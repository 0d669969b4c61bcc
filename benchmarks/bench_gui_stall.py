"""Does the GUI event loop stall while a video plays with CAM on?

Opens the real main window (offscreen), loads the model, opens the video with Grad-CAM on every
frame, loops it, and runs a 10 ms ``Qt.PreciseTimer`` on the GUI thread: each timeout records how
late it fired. A long analysis, a long paint or the GIL held by the worker shows up as lateness.

Two phases in the same run: ``idle`` (window open, paused) gives the floor of the machine's own
scheduling noise (on a shared machine the OS delays a nice-19 process too); ``playing`` is the
measurement. Prints p50/p99/max lateness per phase, frames painted, the worker's analysed and
dropped frames and its frame rate.

Run: ``QT_QPA_PLATFORM=offscreen nice -n 19 .venv/bin/python benchmarks/bench_gui_stall.py --seconds 25``
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--weights", default=None, help="checkpoint (default: $GAM_GUI_WEIGHTS or the shipped model)")
    p.add_argument("--video", default=str(ROOT / "resources" / "sample.mp4"))
    p.add_argument("--method", default="gradcam")
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--seconds", type=float, default=25.0, help="playing phase")
    p.add_argument("--idle-seconds", type=float, default=5.0)
    p.add_argument("--interval-ms", type=int, default=10)
    p.add_argument("--threads", type=int, default=None,
                   help="analysis threads passed to the window (default: the app's own choice, one CPU fewer "
                        "than available); 0: leave torch's default (all cores), the set-up before the app chose")
    args = p.parse_args(argv)

    import torch

    # 0: torch's own default (one thread per core), i.e. no thread policy at all
    threads = torch.get_num_threads() if args.threads == 0 else args.threads
    from PyQt5.QtCore import QEventLoop, QSettings, Qt, QTimer

    from gam_gui.ui.app import application
    from gam_gui.ui.main_window import start_window

    app = application()
    tmp = tempfile.mkdtemp(prefix="gam-gui-bench-")
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, tmp)
    qs = QSettings(str(Path(tmp) / "gam-gui.ini"), QSettings.IniFormat)
    for k, v in {"controls/method": args.method, "controls/imgsz": args.imgsz, "controls/cam_every": 1,
                 "controls/conf": 0.25, "playback/loop": True, "controls/device": "cpu"}.items():
        qs.setValue(k, v)
    qs.sync()

    def pump(seconds: float, until=lambda: False) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not until():
            app.processEvents(QEventLoop.AllEvents, 20)
            time.sleep(0.002)

    win = start_window(path=args.video, weights=args.weights, qsettings=qs, threads=threads)
    pump(120, lambda: win.last is not None and win.last.result is not None)
    if win.last is None or win.last.result is None:
        print("the window did not show an analysed frame within 120 s", file=sys.stderr)
        win.close()
        return 1
    assert win.last.settings.method == args.method, win.last.settings
    # Opening a model resets the size to the one it was trained at (unless the saved size was chosen
    # for that model): set the size asked for, and wait for a frame analysed at it.
    if win.last.settings.imgsz != args.imgsz:
        win.controls.set_imgsz(args.imgsz)
        pump(120, lambda: win.last is not None and win.last.settings.imgsz == args.imgsz
             and win.last.result is not None)
    if win.last.settings.imgsz != args.imgsz:
        print(f"the window did not analyse at imgsz {args.imgsz} (got {win.last.settings.imgsz})", file=sys.stderr)
        win.close()
        return 1
    win.pause()  # a video plays as soon as it opens: the idle probe needs it paused
    pump(5, lambda: not win.playing)

    def probe(seconds: float) -> np.ndarray:
        late: list[float] = []
        last = [time.perf_counter()]
        interval = args.interval_ms / 1000

        def tick() -> None:
            now = time.perf_counter()
            late.append(now - last[0] - interval)
            last[0] = now

        timer = QTimer()
        timer.setTimerType(Qt.PreciseTimer)
        timer.timeout.connect(tick)
        last[0] = time.perf_counter()
        timer.start(args.interval_ms)
        QTimer.singleShot(int(seconds * 1000), app.quit)
        app.exec_()
        timer.stop()
        return np.maximum(np.array(late[1:]), 0) * 1000

    idle = probe(args.idle_seconds)
    painted0 = win.frames_painted
    win.play()
    pump(10, lambda: win.playing)
    start_fr = win.last
    playing = probe(args.seconds)
    painted = win.frames_painted - painted0
    fr = win.last
    win.pause()
    pump(2)
    win.close()

    print(f"# gam-gui GUI stall probe  {datetime.datetime.now().isoformat(timespec='seconds')}  "
          f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} torch threads={torch.get_num_threads()}")
    print(f"# video {Path(args.video).name}  method {args.method}  imgsz {args.imgsz}  timer {args.interval_ms} ms")
    print(f"{'phase':<8} {'ticks':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'>20ms':>6}")
    for name, late in (("idle", idle), ("playing", playing)):
        print(f"{name:<8} {len(late):6d} {np.percentile(late, 50):7.2f} {np.percentile(late, 99):7.2f} "
              f"{late.max():7.2f} {(late > 20).sum():6d}")
    analysed = fr.analyzed - (start_fr.analyzed if start_fr is not None else 0)
    dropped = fr.dropped - (start_fr.dropped if start_fr is not None else 0)
    print(f"playing {args.seconds:.0f} s: {painted} frames painted, {analysed} analysed, {dropped} dropped "
          f"(worker {fr.fps:.1f} fps; last analysis {fr.result.timings.get('total', 0):.0f} ms at imgsz "
          f"{fr.settings.imgsz})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
