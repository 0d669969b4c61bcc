"""The reader thread of a live source (camera, stream, live generator): it keeps only the newest frame."""

from __future__ import annotations

import logging
import threading
import time

from gam_gui.sources import Frame, Source, SourceError

LOGGER = logging.getLogger(__name__)


class Grabber:
    """Reads a live source on a plain thread and keeps only the newest frame (latest-frame-wins).

    A camera's ``read`` blocks until its next frame; a source that does not block (a generator) is
    paced at its ``fps`` (or 120 fps when it has none), so this never spins.
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._latest: Frame | None = None
        self.produced = 0
        self.latest_index = -1
        self.error = ""
        self.ended = False
        self._thread = threading.Thread(target=self._run, name=f"gam-gui grabber ({source.label})", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        fps = self.source.fps
        interval = 1.0 / fps if fps and fps > 0 else 1.0 / 120
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                f = self.source.read()
            except SourceError as e:
                self.error = str(e)
                break
            except Exception as e:  # noqa: BLE001 - a driver fault ends the stream, not the app
                LOGGER.exception("live source failed")
                self.error = f"{self.source.label}: {e}"
                break
            if f is None:
                self.ended = True
                break
            with self._lock:
                self._latest = f
                self.produced += 1
                self.latest_index = f.index
            rest = interval - (time.monotonic() - t0)
            if rest > 0:
                self._stop.wait(rest)

    def take(self) -> Frame | None:
        """The newest frame not taken yet, or None."""
        with self._lock:
            f, self._latest = self._latest, None
            return f

    def stop(self, timeout: float = 6.0) -> bool:
        """Stop and join; False when the read is still blocked after ``timeout`` (a dead stream)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()
