"""Start-up time of the command line: each ``--help`` and an export with a wrong path, in fresh processes.

Every command runs ``--repeat`` times (default 5) through the installed ``gam-gui`` script next to this
Python (else ``python -m gam_gui.cli``), timed from process
start to exit; the table gives median, min and max seconds. Target: under 1 s for every ``--help``
and for the wrong path (it must be reported before torch and the model load).

    python benchmarks/bench_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS: list[tuple[str, list[str], int]] = [
    ("gam-gui --help", ["--help"], 0),
    ("gam-gui export --help", ["export", "--help"], 0),
    ("gam-gui layers --help", ["layers", "--help"], 0),
    ("gam-gui train --help", ["train", "--help"], 0),
    ("gam-gui eval --help", ["eval", "--help"], 0),
    ("gam-gui gui --help", ["gui", "--help"], 0),
    ("gam-gui export --source <missing>", ["export", "--source", "/nonexistent/clip.mp4", "--out", "/tmp/x"], 1),
    ("gam-gui export --conf 2 (usage error)", ["export", "--source", "x", "--out", "y", "--conf", "2"], 2),
]


SCRIPT = Path(sys.executable).with_name("gam-gui")
LAUNCH = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "gam_gui.cli"]


def time_once(args: list[str], expect: int) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([*LAUNCH, *args], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != expect:
        raise SystemExit(f"{args}: exit {r.returncode}, expected {expect}: {r.stderr.strip()[-300:]}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="fresh processes per command")
    args = ap.parse_args()
    time_once(["--help"], 0)  # warms the file cache; not counted
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = time.perf_counter() - t0
    print(f"python -c pass: {bare:.3f} s (interpreter start, for reference); running {' '.join(LAUNCH)}")
    print(f"{'command':<42} {'median':>7} {'min':>7} {'max':>7}")
    for name, argv, expect in COMMANDS:
        times = [time_once(argv, expect) for _ in range(args.repeat)]
        print(f"{name:<42} {statistics.median(times):7.3f} {min(times):7.3f} {max(times):7.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
