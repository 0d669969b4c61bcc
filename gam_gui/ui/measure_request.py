"""What the Faithfulness dock asks the analysis worker to measure, and how a cancelled one ends.

Its own module so that the worker (which runs it) and the dock (which asks) share it without
importing each other.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

#: The window measures one random order of tied pixels unless asked for more: on the shipped model
#: at 640 px one order took 10 s and four took 29 s for the same detection; over 169 detections one
#: order moved an AUC by a median of 0.002, one HiResCAM detection in ten by 0.04-0.06 (the dock's
#: tooltip says to raise it; ``eval --faithfulness`` keeps 4). See docs/faithfulness.md.
WINDOW_TIE_ORDERS = 1


@dataclass(frozen=True)
class MeasureRequest:
    """One press of *Measure*: points per curve, the fill of removed pixels, random orders of ties,
    and its own cancel token: *Cancel* sets it from the GUI thread, the worker reads it between
    batches (a token per request, so a cancel can never be lost or reach the next measurement)."""

    steps: int
    baseline: str
    tie_orders: int = WINDOW_TIE_ORDERS
    cancel: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)


class MeasureCancelledError(Exception):
    """The user pressed *Cancel*; ``done`` perturbed frames had been scored."""

    def __init__(self, done: int) -> None:
        super().__init__(f"measurement cancelled after {done} perturbed frames")
        self.done = done
