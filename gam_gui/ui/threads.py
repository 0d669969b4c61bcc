"""How many threads the window's analysis may use (torch's and OpenCV's pools), set once at start."""

from __future__ import annotations

import logging
import os

import cv2

from gam_gui.validate import usable_cpus

LOGGER = logging.getLogger(__name__)
#: Environment variable that sets the analysis threads of the window (``gam-gui --threads`` wins).
THREADS_ENV = "GAM_GUI_THREADS"


def configure_analysis_threads(threads: int | None = None) -> int:
    """Set torch's and OpenCV's thread pools for the window's analysis and return the count.

    Default: one CPU fewer than the process may use, so the GUI thread always has a core. With all
    cores busy in the model, the OS has to park the GUI thread behind OpenMP workers that spin at
    every barrier: on 2 cores the event loop then stalled 24-25 ms at the 99th percentile while a
    video played with Grad-CAM on, against 14 ms with one analysis thread
    (``benchmarks/bench_gui_stall.py``), which also played more frames per second.
    ``threads`` (``gam-gui --threads``, capped at the CPUs by its caller) or ``$GAM_GUI_THREADS`` override it; a set
    ``OMP_NUM_THREADS`` is respected when neither is given. Process-wide: call it on the GUI thread
    before the worker starts (torch's worker threads read the count when they first run).
    """
    import torch

    if threads is None:
        env = os.environ.get(THREADS_ENV, "").strip()
        if env:
            try:
                threads = int(env)
            except ValueError:
                LOGGER.warning("%s=%r is not a number; using the default", THREADS_ENV, env)
        if threads is None and os.environ.get("OMP_NUM_THREADS"):
            return torch.get_num_threads()
    if threads is None or threads < 1:
        threads = max(1, usable_cpus() - 1)
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    LOGGER.info("analysis threads: %d", threads)
    return threads
