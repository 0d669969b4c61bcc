"""One progress bar for every long command-line job (export, eval, train), on tqdm.

Bars go to stderr, so stdout stays clean for what a script reads (``eval``'s JSON, export's
summary line). They are shown when stderr is a terminal; a job piped into a file or run by a test
stays silent unless asked: ``force=True`` (the commands' ``--progress``), ``force=False``
(``--no-progress``), or ``GAM_GUI_PROGRESS=1`` / ``0`` in the environment when no flag is given.
While a bar is open, log records are written through tqdm so that they do not tear the bar.

tqdm is imported only when a bar is shown: it comes with grad-cam, but ``gam-gui --help`` should
not pay for it.
"""

from __future__ import annotations

import contextlib
import os
import sys
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
        self.bar: Any = None
        self._redirect: contextlib.ExitStack | None = None

    def _open(self) -> Any:
        """The bar, made on the first step: a job that fails before any step prints only its error."""
        if self.bar is None and self.shown:
            from tqdm import tqdm
            from tqdm.contrib.logging import logging_redirect_tqdm

            self.bar = tqdm(total=self.total, desc=self.desc, unit=self.unit, file=sys.stderr, dynamic_ncols=True)
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
        self.bar.update(steps)

    def set(self, done: int, total: int | None = None) -> None:
        """Absolute progress: ``done`` of ``total`` (``total`` changes the bar's end when given)."""
        if self.bar is None:
            self.total = total or self.total
        if self._open() is None:
            return
        if total and self.bar.total != total:
            self.bar.total = total
        if done >= self.bar.n:
            self.bar.update(done - self.bar.n)  # keeps tqdm's rate and ETA right
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

