"""Progress of a report on stderr: one line per section with the time left, and a bar when shown.

The sections cost very different amounts (a forward per image, fifteen per image for the ablation,
hundreds of perturbed frames per detection for the trust section, a second or so per 300 dpi
figure), so counting images or sections would give an ETA that swings. Each part's work is
estimated in *seconds* up front, from two measurements taken before the run (one forward of the
model, one small figure saved at 300 dpi) and the counts known at that point; parts report their
progress in those estimated seconds, and the ETA is the wall time so far scaled by the estimated
work left over the estimated work done. A part whose count becomes known later (detections for the
trust section) is re-estimated as soon as the first images have been seen.
"""

from __future__ import annotations

import logging
import time

from gam_gui.progress import Progress
from gam_gui.report.text import seconds_text

LOGGER = logging.getLogger("gam_gui.report")
#: seconds between two progress lines within a part when no bar is shown
LINE_EVERY = 20.0


class Plan:
    """Estimated seconds per part, in report order; :meth:`begin`, :meth:`advance`, :meth:`end`."""

    def __init__(self, estimates: dict[str, float], titles: dict[str, str], force: bool | None = None) -> None:
        self.est = {k: max(1e-3, float(v)) for k, v in estimates.items()}
        self.titles = titles
        self.done = dict.fromkeys(estimates, 0.0)
        self.wall: dict[str, float] = {}
        self.t0 = time.perf_counter()
        self._part_t0 = self.t0
        self.current: str | None = None
        self._last_line = self.t0
        self.bar = Progress(total=self._scaled(sum(self.est.values())), desc="report", unit="s(est)", force=force)

    @staticmethod
    def _scaled(v: float) -> int:
        return max(1, int(round(v * 10)))

    @property
    def fraction(self) -> float:
        total = sum(self.est.values())
        return sum(min(self.done[k], self.est[k]) for k in self.est) / total if total else 1.0

    def eta(self) -> float | None:
        """Seconds left, or None before any work is done."""
        f = self.fraction
        if f <= 0:
            return None
        return (time.perf_counter() - self.t0) * (1 - f) / f

    def _refresh(self) -> None:
        done = sum(min(self.done[k], self.est[k]) for k in self.est)
        self.bar.set(self._scaled(done), self._scaled(sum(self.est.values())))

    def begin(self, key: str) -> None:
        self.current = key
        self._last_line = time.perf_counter()
        self._part_t0 = time.perf_counter()
        keys = list(self.est)
        eta = self.eta()
        LOGGER.info("report: [%d/%d] %s ...%s", keys.index(key) + 1, len(keys), self.titles.get(key, key),
                    f" (about {seconds_text(eta)} left)" if eta is not None else "")

    def advance(self, key: str, seconds: float) -> None:
        self.done[key] += seconds
        if self.done[key] > self.est[key]:  # underestimated: the part grows, never runs past 100%
            self.est[key] = self.done[key] * 1.05
        self._refresh()
        now = time.perf_counter()
        if not self.bar.shown and now - self._last_line >= LINE_EVERY:  # no bar: a line now and then
            self._last_line = now
            eta = self.eta()
            LOGGER.info("report: %s %d%% (all: %d%%, about %s left)", self.titles.get(key, key),
                        round(100 * self.done[key] / self.est[key]), round(100 * self.fraction),
                        seconds_text(eta) if eta is not None else "?")

    def revise(self, key: str, estimate: float) -> None:
        """A better estimate of a part's total work (kept at least what it has done)."""
        self.est[key] = max(float(estimate), self.done[key], 1e-3)
        self._refresh()

    def end(self, key: str) -> float:
        """The part is finished: its work counts in full; returns its wall time."""
        wall = time.perf_counter() - self._part_t0
        self.wall[key] = self.wall.get(key, 0.0) + wall
        self.done[key] = self.est[key]
        self._refresh()
        eta = self.eta() or 0.0
        LOGGER.info("report: %s done in %s%s", self.titles.get(key, key), seconds_text(wall),
                    f"; about {seconds_text(eta)} left" if self.fraction < 1 else "")
        return wall

    def close(self) -> None:
        self.bar.close()
