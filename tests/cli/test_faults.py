"""Faults at run time, and nothing lost.

Sources that die after N frames (a feed that raises, a capture whose read() starts failing, a real
MJPEG stream that goes silent) stop with a SourceError and keep what they delivered; an exception or
out-of-memory inside one frame's analysis is reported in ``summary.skipped`` and the export goes on;
repeated failures, an encoder failure or an interrupt stop the export without leaving a partial file
(no ``*_panels.mp4``/PNG under its final name, no ``.part``); existing files keep their bytes unless
``--overwrite`` is given.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from media_helpers import count_frames

import gam_gui
from gam_gui import cli, video_out
from gam_gui import export as export_mod
from gam_gui import pipeline as pipeline_mod
from gam_gui.analysis import Settings
from gam_gui.checkpoints import CheckpointError
from gam_gui.data.shapes import render_sample
from gam_gui.export import ExportError, export
from gam_gui.sources import CaptureSource, GeneratorSource, SourceError, open_stream

FAST = Settings(method="none", imgsz=64)  # analysis stays cheap: these tests are about the plumbing


def frames(n: int, size: tuple[int, int] = (48, 64)) -> list[np.ndarray]:
    return [render_sample(i, size).image for i in range(n)]


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("v") / "clip.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for img in frames(12):
        w.write(img)
    w.release()
    return path


def leftovers(out: Path) -> list[str]:
    """Temporary files an export must never leave behind."""
    return sorted(p.name for p in out.iterdir() if ".part" in p.name) if out.exists() else []




class FakeCapture:
    """A cv2.VideoCapture stand-in: ``good`` frames, then whatever ``after`` does on every read."""

    def __init__(self, good: int, after: str = "fail") -> None:
        self.good, self.after, self.reads, self.released = good, after, 0, False

    def read(self) -> tuple[bool, np.ndarray | None]:
        self.reads += 1
        if self.reads <= self.good:
            return True, render_sample(self.reads, (48, 64)).image
        if self.after == "raise":
            raise cv2.error("VIDEOIO(V4L2): select() timeout")
        if self.after == "bad_frame":
            return True, np.zeros((48, 64, 2), np.uint8)  # two channels: not an image
        return False, None

    def get(self, prop: int) -> float:
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def isOpened(self) -> bool:  # noqa: N802 - the cv2 name
        return True

    def release(self) -> None:
        self.released = True


# --- sources that fail after N frames ---------------------------------------------------------------------

@pytest.mark.parametrize("after,pattern", [("fail", r"stopped delivering frames$"),
                                           ("raise", r"stopped delivering frames \(last problem: .*timeout"),
                                           ("bad_frame", r"stopped delivering frames \(last problem: .*channel")])
def test_capture_that_stops_after_n_frames(after, pattern):
    cap = FakeCapture(3, after)
    src = CaptureSource(cap, "fake camera", "camera", max_failures=5)
    got = [src.read().index for _ in range(3)]
    assert got == [0, 1, 2]
    t0 = time.monotonic()
    with pytest.raises(SourceError, match=pattern):
        src.read()
    assert time.monotonic() - t0 < 2 and cap.reads == 3 + 5
    src.close()
    assert cap.released


def test_generator_feed_faults_become_source_errors():
    def dies(exc: Exception) -> Iterator[np.ndarray]:
        yield from frames(2)
        raise exc

    src = GeneratorSource(dies(SourceError("camera unplugged")), "cam")
    assert [src.read().index, src.read().index] == [0, 1]
    with pytest.raises(SourceError, match="camera unplugged"):
        src.read()
    src = GeneratorSource(dies(RuntimeError("driver fault")), "cam")
    src.read()
    src.read()
    with pytest.raises(SourceError, match=r"cam: the feed failed after 2 frame\(s\): RuntimeError: driver fault"):
        src.read()
    src = GeneratorSource(iter([frames(1)[0], "not an image"]), "cam")
    src.read()
    with pytest.raises(SourceError, match="frame 1 is not an image"):
        src.read()


@pytest.mark.parametrize("video_mode", [False, True])
def test_export_keeps_what_a_dying_source_delivered(tiny_loaded, tmp_path, video_mode):
    src = CaptureSource(FakeCapture(4), "fake camera", "camera", max_failures=3)
    out = tmp_path / "out"
    summary = export(src, out, tiny_loaded, FAST, video=video_mode)
    assert summary.frames == 4
    assert any("stopped delivering frames" in s for s in summary.skipped)
    records = json.loads((out / "detections.json").read_text())["frames"]
    assert [r["frame"] for r in records] == [0, 1, 2, 3]
    if video_mode:
        mp4 = out / "fake camera_panels.mp4"
        assert mp4.exists() and count_frames(mp4) == 4
    else:
        assert len(list(out.glob("*_panels.png"))) == 4
    assert leftovers(out) == []


def _mjpeg_server(n_frames: int) -> tuple[socket.socket, int]:
    """An HTTP MJPEG stream that sends ``n_frames`` frames, then keeps the connection open in silence."""
    jpg = cv2.imencode(".jpg", render_sample(1, (48, 64)).image)[1].tobytes()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def serve() -> None:
        held = []
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                break
            held.append(conn)
            try:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n")
                for _ in range(n_frames):
                    conn.sendall(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpg)
                                 + jpg + b"\r\n")
            except OSError:
                pass
        for c in held:
            c.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv, srv.getsockname()[1]


def test_real_stream_that_goes_silent_stops_in_bounded_time():
    srv, port = _mjpeg_server(5)
    try:
        t0 = time.monotonic()
        src = open_stream(f"http://127.0.0.1:{port}/cam.mjpg", timeout_ms=2000)
        got = []
        with pytest.raises(SourceError, match="stopped delivering frames"):
            while True:
                got.append(src.read().image.shape)
        src.close()
        assert got == [(48, 64, 3)] * 5
        assert time.monotonic() - t0 < 12
    finally:
        srv.close()


# --- one frame's analysis fails -------------------------------------------------------------------------

def failing_on(bad: dict[int, BaseException], calls: list[int]):
    """analyze_with that raises ``bad[i]`` on the i-th call (0-based) and analyses the others."""
    real = pipeline_mod.analyze_with

    def analyze(model, image, settings):
        i = len(calls)
        calls.append(i)
        if i in bad:
            raise bad[i]
        return real(model, image, settings)

    return analyze


def test_one_failing_frame_is_skipped_and_the_rest_exported(tiny_loaded, tmp_path, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(pipeline_mod, "analyze_with", failing_on({2: ValueError("boom in frame 2")}, calls))
    out = tmp_path / "out"
    summary = export(GeneratorSource(frames(5), "feed", live=False), out, tiny_loaded, FAST)
    assert summary.frames == 4 and len(calls) == 5
    assert summary.skipped == ["feed (frame 2): analysis failed: ValueError: boom in frame 2"]
    meta = json.loads((out / "detections.json").read_text())
    assert [r["frame"] for r in meta["frames"]] == [0, 1, 3, 4] and meta["skipped"] == summary.skipped
    assert sorted(p.name for p in out.glob("*.png")) == [f"feed_f{i:06d}_panels.png" for i in (0, 1, 3, 4)]


@pytest.mark.parametrize("error", [torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 24.00 GiB"),
                                   MemoryError()])
def test_out_of_memory_on_a_huge_frame_is_reported(tiny_loaded, tmp_path, monkeypatch, error):
    calls: list[int] = []
    monkeypatch.setattr(pipeline_mod, "analyze_with", failing_on({1: error}, calls))
    images = frames(3)
    images[1] = np.zeros((1200, 1600, 3), np.uint8)  # "huge"
    summary = export(GeneratorSource(images, "feed", live=False), tmp_path / "out", tiny_loaded, FAST)
    assert summary.frames == 2
    assert summary.skipped == ["feed (frame 1): out of memory analysing a 1600x1200 frame "
                               "(try a smaller --imgsz or --device cpu)"]


def test_cli_reports_out_of_memory_cleanly(tiny_weights, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"img_{i}.png"), render_sample(i, (48, 64)).image)
    calls: list[int] = []
    monkeypatch.setattr(pipeline_mod, "analyze_with", failing_on({1: torch.OutOfMemoryError("out of memory")}, calls))
    base = ["export", "--weights", str(tiny_weights), "--imgsz", "64", "--method", "none", "--device", "cpu"]
    rc = cli.main([*base, "--source", str(folder), "--out", str(tmp_path / "o1")])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith(("skipped", "gam-gui"))]
    assert rc == 0 and err == ["skipped: img_1.png (frame 1): out of memory analysing a 64x48 frame "
                               "(try a smaller --imgsz or --device cpu)"]
    # a single image that runs out of memory: nothing exported, one error line, exit 1
    calls.clear()
    monkeypatch.setattr(pipeline_mod, "analyze_with", failing_on({0: MemoryError()}, calls))
    rc = cli.main([*base, "--source", str(folder / "img_0.png"), "--out", str(tmp_path / "o2")])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 1 and len(err) == 1 and err[0].startswith("gam-gui: error: nothing was exported: img_0.png")
    assert "out of memory" in err[0]
    # out of memory outside the frame loop (loading, say): still one line
    monkeypatch.setattr(export_mod, "export", lambda *a, **k: (_ for _ in ()).throw(MemoryError()))
    rc = cli.main([*base, "--source", str(folder), "--out", str(tmp_path / "o3")])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 1 and err == ["gam-gui: error: out of memory (try a smaller --imgsz, or fewer layers)"]


def test_out_of_memory_while_loading_is_a_checkpoint_error(tiny_weights, monkeypatch):
    def oom(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(torch, "load", oom)
    with pytest.raises(CheckpointError, match="not enough memory"):
        gam_gui.load_model(tiny_weights, device="cpu")


def test_unexpected_exception_in_the_cli_is_one_line(tiny_weights, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("gam_gui.cli._validate", lambda *a: (_ for _ in ()).throw(KeyError("layer")))
    src = tmp_path / "src"
    src.mkdir()
    assert cv2.imwrite(str(src / "a.png"), np.zeros((32, 32, 3), np.uint8))
    rc = cli.main(["export", "--weights", str(tiny_weights), "--source", str(src), "--out", str(tmp_path / "o")])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 1 and len(err) == 1 and err[0].startswith("gam-gui: error: unexpected KeyError: 'layer'")


# --- failed exports leave nothing half-written ----------------------------------------------------------

def test_repeated_analysis_failures_mid_video_discard_the_video(tiny_loaded, video, tmp_path, monkeypatch):
    calls: list[int] = []
    bad = {i: RuntimeError(f"broken at {i}") for i in range(4, 12)}
    monkeypatch.setattr(pipeline_mod, "analyze_with", failing_on(bad, calls))
    out = tmp_path / "out"
    with pytest.raises(ExportError, match=r"stopped after 3 frames in a row failed .*the video was discarded"):
        export(video, out, tiny_loaded, FAST, video=True, max_failures=3)
    assert len(calls) == 7  # 4 good frames, then 3 failures, then it stopped
    assert not out.exists()  # no mp4, no .part, no detections of a discarded video, no folder made for them


def test_repeated_failures_with_pngs_keep_the_written_panels(tiny_loaded, video, tmp_path, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(pipeline_mod, "analyze_with", failing_on({i: ValueError("x") for i in range(3, 12)}, calls))
    out = tmp_path / "out"
    with pytest.raises(ExportError, match=r"the 3 frame\(s\) exported before were kept"):
        export(video, out, tiny_loaded, FAST, max_failures=2)
    assert sorted(p.name for p in out.glob("*.png")) == [f"clip_f{i:06d}_panels.png" for i in range(3)]
    assert [r["frame"] for r in json.loads((out / "detections.json").read_text())["frames"]] == [0, 1, 2]
    assert leftovers(out) == []


def test_interrupt_mid_video_leaves_no_partial_file(tiny_loaded, video, tmp_path, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(pipeline_mod, "analyze_with", failing_on({5: KeyboardInterrupt()}, calls))
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        export(video, out, tiny_loaded, FAST, video=True)
    assert not out.exists()  # nothing written: not even the folder


class FailingWriter:
    """A cv2.VideoWriter that writes real bytes to its file, then fails on frame ``fail_at``."""

    fail_at = 3
    opened = True

    def __init__(self, path: str, *args: object) -> None:
        self.path, self.n = Path(path), 0
        if self.opened:
            self.path.write_bytes(b"\x00\x00\x00\x18ftypmp42")

    def isOpened(self) -> bool:  # noqa: N802 - the cv2 name
        return self.opened

    def write(self, img: np.ndarray) -> None:
        self.n += 1
        if self.n >= self.fail_at:
            raise cv2.error("encoder: disk quota exceeded")
        with self.path.open("ab") as fh:
            fh.write(img.tobytes()[:1000])

    def release(self) -> None:
        pass


@pytest.mark.parametrize("opened", [True, False])
def test_encoder_failure_leaves_no_partial_file(tiny_loaded, video, tmp_path, monkeypatch, opened):
    monkeypatch.setattr(FailingWriter, "opened", opened)
    monkeypatch.setattr(video_out, "_H264", False)  # the OpenCV writer, which FailingWriter stands in for
    monkeypatch.setattr(export_mod.cv2, "VideoWriter", FailingWriter)
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="encoder failed" if opened else "no MP4 encoder available"):
        export(video, out, tiny_loaded, FAST, video=True)
    assert not out.exists()  # nothing written: not even the folder


def test_cli_encoder_failure_is_one_line_and_no_file(tiny_weights, video, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(video_out, "_H264", False)  # the OpenCV writer, which FailingWriter stands in for
    monkeypatch.setattr(export_mod.cv2, "VideoWriter", FailingWriter)
    out = tmp_path / "out"
    rc = cli.main(["export", "--weights", str(tiny_weights), "--source", str(video), "--out", str(out), "--video",
                   "--imgsz", "64", "--method", "none", "--device", "cpu"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("gam-gui")]
    assert rc == 1 and len(err) == 1 and "encoder failed" in err[0]
    assert not out.exists()  # nothing written: not even the folder


# --- never overwrite without --overwrite ----------------------------------------------------------------

def test_cli_never_overwrites_without_the_flag(tiny_weights, video, tmp_path, capsys):
    image = tmp_path / "shot.png"
    cv2.imwrite(str(image), render_sample(2, (48, 64)).image)
    base = ["--weights", str(tiny_weights), "--imgsz", "64", "--method", "none", "--device", "cpu"]
    cases = [  # source, extra args, the file that already exists
        (image, [], "detections.json"),
        (image, [], "shot_panels.png"),
        (video, ["--video"], "clip_panels.mp4"),
        (video, [], "clip_f000000_panels.png"),
    ]
    for i, (source, extra, existing) in enumerate(cases):
        out = tmp_path / f"out{i}"
        out.mkdir()
        sentinel = f"precious {existing}".encode()
        (out / existing).write_bytes(sentinel)
        args = ["export", "--source", str(source), "--out", str(out), *base, *extra]
        rc = cli.main(args)
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("gam-gui")]
        assert rc == 1 and len(err) == 1 and "exists; not overwriting it (use --overwrite)" in err[0], (existing, err)
        assert (out / existing).read_bytes() == sentinel, existing
        assert leftovers(out) == []
        assert cli.main([*args, "--overwrite"]) == 0
        capsys.readouterr()
        assert (out / existing).read_bytes() != sentinel and leftovers(out) == []


def test_same_stem_in_a_folder_does_not_overwrite_within_one_export(tiny_loaded, tmp_path):
    """a.png and a.jpg of one folder used to map to one a_panels.png: the second replaced (with
    overwrite) or aborted on (without) the first."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), render_sample(1, (48, 64)).image)
    cv2.imwrite(str(folder / "a.jpg"), render_sample(2, (48, 64)).image)
    for overwrite in (False, True):
        out = tmp_path / f"out_{overwrite}"
        summary = export(folder, out, tiny_loaded, FAST, overwrite=overwrite)
        assert summary.frames == 2
        assert sorted(p.name for p in out.glob("*.png")) == ["a_panels.png", "a_png_panels.png"]


def test_output_folder_that_is_a_file(tiny_loaded, tmp_path):
    image = tmp_path / "shot.png"
    cv2.imwrite(str(image), render_sample(2, (48, 64)).image)
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should go")
    with pytest.raises(ExportError, match="cannot create the output folder"):
        export(image, blocker, tiny_loaded, FAST)
    assert blocker.read_text() == "a file where the output folder should go"
