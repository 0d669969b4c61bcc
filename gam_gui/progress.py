"""One progress bar for every long command-line job (export, eval, train), on tqdm.

Bars go to stderr, so stdout stays clean for what a script reads (``eval``'s JSON, export's
summary line). They are shown when stderr is a terminal; a job piped into a file or run by a test
stays silent unless asked: ``force=True`` (the commands' ``--progress``), ``force=False``
(``--no-progress``), or ``GAM_GUI_PROGRESS=1`` / ``0`` in the environment when no flag is given.
While a bar is open, log records are written through tqdm so that they do not tear the bar.

tqdm is imported only when a bar is shown: it comes with grad-cam, but ``gam-gui --help`` should
not pay for it.

The time left is a moving average over items (:class:`Eta`), not tqdm's default, which weighs the
last few updates most: on a job whose items differ in cost (the pointing game's images hold 1 to 12
objects) that ETA swung from 1 to 15 minutes.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import sys
import time
from types import TracebackType
from typing import Any

ENV = "GAM_GUI_PROGRESS"


def enabled(force: bool | None = None) -> bool:
    """Whether bars are shown: the flag when given, else the environment, else "stderr is a terminal"."""
    if force is not None:
        return bool(force)
    env = os.environ.get(ENV, "").strip().lower()
    if env in ("1", "true", "yes", "on"):
        return True
    if env in ("0", "false", "no", "off"):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


class Eta:
    """Time left from the mean time per item over the last ``max(window, done / 2)`` items, with
    ``window`` ``max(10, total / 10)`` by default: once a tenth of a job is done the estimate
    averages over at least that tenth, later over the last half of the items (so it still follows a
    job that slows down), and a single slow or fast item moves it little. ``now``: a clock for tests."""

    def __init__(self, total: int | None = None, window: int | None = None) -> None:
        self.total = total
        self.window = window or max(10, (total or 0) // 10)
        self.marks: list[tuple[int, float]] = []
        self.n = 0

    def start(self, now: float | None = None) -> None:
        self.marks.clear()
        self.marks.append((self.n, time.perf_counter() if now is None else now))

    def step(self, n: int = 1, now: float | None = None) -> None:
        """``n`` more items are done."""
        t = time.perf_counter() if now is None else now
        if not self.marks:
            self.marks.append((self.n, t))
        self.n += n
        self.marks.append((self.n, t))

    def rate(self) -> float | None:
        """Items per second over the window; None before the first item."""
        if len(self.marks) < 2:
            return None
        n1, t1 = self.marks[-1]
        first = n1 - max(self.window, n1 // 2)  # the oldest item in the window
        n0, t0 = self.marks[min(bisect.bisect_left(self.marks, first, key=lambda m: m[0]), len(self.marks) - 2)]
        return (n1 - n0) / (t1 - t0) if t1 > t0 and n1 > n0 else None

    def remaining(self) -> float | None:
        """Seconds left (None when the total or the rate is unknown)."""
        r = self.rate()
        if r is None or not self.total:
            return None
        return max(0, self.total - self.n) / r


def _bar_class() -> Any:
    """tqdm whose rate (and so its time left) comes from an :class:`Eta` (tqdm imported here)."""
    from tqdm import tqdm

    class Bar(tqdm):
        eta: Eta | None = None

        @property
        def format_dict(self) -> dict:
            d = super().format_dict
            r = self.eta.rate() if self.eta is not None else None
            if r:
                d["rate"] = r
            return d

    return Bar


class Progress:
    """A bar over ``total`` steps (``None``: unknown), or nothing at all when not :func:`enabled`.

    Use as a context manager; :meth:`update` adds steps, :meth:`set` jumps to an absolute count
    (what a ``callback(done, total)`` reports), :meth:`finish` fills the bar to its end for a job that
    completed (the last steps may never be reported: frames skipped by ``--every``).
    """

    def __init__(self, total: int | None = None, desc: str = "", unit: str = "it",
                 force: bool | None = None) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.shown = enabled(force)
        self.eta = Eta(total)
        self.eta.start()  # the job starts now: the first item's time counts
        self.bar: Any = None
        self._redirect: contextlib.ExitStack | None = None

    def _open(self) -> Any:
        """The bar, made on the first step: a job that fails before any step prints only its error."""
        if self.bar is None and self.shown:
            from tqdm.contrib.logging import logging_redirect_tqdm

            self.bar = _bar_class()(total=self.total, desc=self.desc, unit=self.unit, file=sys.stderr,
                                    dynamic_ncols=True)
            self.bar.eta = self.eta
            self._redirect = contextlib.ExitStack()
            self._redirect.enter_context(logging_redirect_tqdm())
        return self.bar

    @property
    def n(self) -> int:
        return int(self.bar.n) if self.bar is not None else 0

    def update(self, steps: int = 1, **postfix: Any) -> None:
        if self._open() is None:
            return
        if postfix:
            self.bar.set_postfix(postfix, refresh=False)
        self.eta.step(steps)
        self.bar.update(steps)

    def set(self, done: int, total: int | None = None) -> None:
        """Absolute progress: ``done`` of ``total`` (``total`` changes the bar's end when given)."""
        if self.bar is None:
            self.total = self.eta.total = total or self.total
        if self._open() is None:
            return
        if total and self.bar.total != total:
            self.bar.total = total
            self.eta.total = total
        if done >= self.bar.n:
            self.eta.step(done - int(self.bar.n))
            self.bar.update(done - self.bar.n)
        else:
            self.bar.n = done
            self.bar.refresh()

    def finish(self) -> None:
        """The job completed: end at N/N (N the known total, or the count reached when larger or unknown)."""
        if self._open() is None:
            return
        end = max(int(self.bar.n), int(self.bar.total or 0))
        self.bar.total = end
        self.bar.n = end
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self._redirect is not None:
            self._redirect.close()
            self._redirect = None

    def __call__(self, done: int, total: int | None = None) -> None:
        """``callback(done, total)`` form, as :func:`gam_gui.export.export` reports progress."""
        self.set(done, total)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

