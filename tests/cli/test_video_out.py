"""The one MP4 writer and the safe-file helpers (gam_gui.video_out), without a model.

H.264 (yuv420p, even size) when PyAV's libx264 is there, checked by decoding the file; OpenCV's mp4v
with a logged notice when it is not; an encoder failure leaves no file; temporary files are created
exclusively (a link planted at the temporary name is skipped, never followed); a link at the final
name is an existing file, replaced itself (never written through) with ``overwrite``.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from media_helpers import count_frames

from gam_gui import video_out
from gam_gui.video_out import ExportError, VideoRecorder, atomic_write_bytes

av = pytest.importorskip("av")


def frames(n: int, w: int = 101, h: int = 75) -> list[np.ndarray]:
    out = []
    for i in range(n):
        img = np.full((h, w, 3), 40 + 10 * i, np.uint8)
        cv2.circle(img, (5 + 9 * i, h // 2), 12, (0, 0, 255), -1)
        out.append(img)
    return out


def probe(path: Path) -> tuple[str, str, int, int, int]:
    """(codec, pixel format, width, height, decoded frames) of the first video stream."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        return s.codec_context.name, s.codec_context.pix_fmt, s.width, s.height, n




def test_h264_yuv420p_with_odd_frame_sizes_padded(tmp_path):
    if not video_out.h264_available():
        pytest.skip("this PyAV build has no libx264")
    path = tmp_path / "panels.mp4"
    rec = VideoRecorder(path, 15)
    assert rec.codec == "h264"
    for img in frames(7):
        rec.write(img)
    rec.write(np.zeros((40, 60, 3), np.uint8))  # another size: resized to the first one
    assert rec.close()
    assert probe(path) == ("h264", "yuv420p", 102, 76, 8)
    assert count_frames(path) == 8  # OpenCV (the app's own reader) plays it too
    assert sorted(os.listdir(tmp_path)) == ["panels.mp4"]
    assert (path.stat().st_mode & 0o777) == 0o666 & ~video_out._UMASK  # not mkstemp's 0600


def test_fallback_to_mp4v_with_a_notice_when_pyav_is_missing(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(video_out, "_H264", None)
    monkeypatch.setitem(sys.modules, "av", None)  # "import av" raises ImportError
    with caplog.at_level(logging.WARNING, logger="gam_gui.video_out"):
        assert not video_out.h264_available()
    assert any("no H.264 encoder" in r.message and "mp4v" in r.message for r in caplog.records)
    path = tmp_path / "panels.mp4"
    rec = VideoRecorder(path, 10)
    assert rec.codec == "mp4v"
    for img in frames(5):
        rec.write(img)
    assert rec.close()
    monkeypatch.undo()
    codec, _, w, h, n = probe(path)
    assert (codec, w, h, n) == ("mpeg4", 102, 76, 5)


def test_encoder_failure_mid_file_leaves_nothing(tmp_path, monkeypatch):
    if not video_out.h264_available():
        pytest.skip("this PyAV build has no libx264")
    calls = {"n": 0}
    real = av.VideoFrame.from_ndarray

    def failing(img, format):  # noqa: A002 - PyAV's keyword
        calls["n"] += 1
        if calls["n"] == 3:
            raise av.error.OSError(28, "No space left on device")
        return real(img, format=format)

    monkeypatch.setattr(av.VideoFrame, "from_ndarray", failing)
    rec = VideoRecorder(tmp_path / "x.mp4", 10)
    with pytest.raises(ExportError, match="encoder failed"):
        for img in frames(5):
            rec.write(img)
    assert rec.close(keep=False) is False
    assert os.listdir(tmp_path) == []


def test_a_link_at_the_final_name_is_an_existing_file(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "precious.txt"
    target.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    for name, link_to in (("a.json", target), ("b.csv", outside / "does_not_exist")):
        link = out / name
        link.symlink_to(link_to)
        with pytest.raises(ExportError, match="exists; not overwriting it"):
            atomic_write_bytes(link, b"new")
        with pytest.raises(ExportError, match="exists; not overwriting it"):
            VideoRecorder(out / name, 10)
        atomic_write_bytes(link, b"new", overwrite=True)  # replaces the link itself
        assert not link.is_symlink() and link.read_bytes() == b"new"
    assert target.read_bytes() == b"precious"
    assert sorted(os.listdir(outside)) == ["precious.txt"]  # the dangling link's target was never created
    assert [n for n in os.listdir(out) if ".part" in n] == []


def test_video_over_a_linked_final_name_replaces_the_link(tmp_path):
    target = tmp_path / "elsewhere.mp4"
    target.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "v.mp4").symlink_to(target)
    rec = VideoRecorder(out / "v.mp4", 10, overwrite=True)
    for img in frames(3):
        rec.write(img)
    assert rec.close()
    assert not (out / "v.mp4").is_symlink() and count_frames(out / "v.mp4") == 3
    assert target.read_bytes() == b"precious"


def test_links_planted_at_temporary_names_are_never_followed(tmp_path, monkeypatch):
    """Force the random name generator to propose a name where a link already is: the exclusive
    create refuses it and takes the next name; the link's target is untouched."""
    target = tmp_path / "victim"
    target.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    planted = []
    for name in ("a.json", "b.png", "c.mp4"):
        stem = Path(name)
        link = out / f".{name}.planted.part{stem.suffix}"
        link.symlink_to(target)
        dangling = out / f".{name}.dangling.part{stem.suffix}"
        dangling.symlink_to(tmp_path / "would_be_created")
        planted += [link, dangling]
    names = iter(["planted", "dangling", "fresh1", "planted", "dangling", "fresh2", "planted", "dangling", "fresh3"])
    monkeypatch.setattr(tempfile, "_get_candidate_names", lambda: names)
    atomic_write_bytes(out / "a.json", b"{}")
    atomic_write_bytes(out / "b.png", b"png")
    rec = VideoRecorder(out / "c.mp4", 10)
    assert rec.tmp.name == ".c.mp4.fresh3.part.mp4" and not rec.tmp.is_symlink()
    for img in frames(2):
        rec.write(img)
    assert rec.close()
    assert target.read_bytes() == b"precious" and not (tmp_path / "would_be_created").exists()
    assert (out / "a.json").read_bytes() == b"{}" and (out / "b.png").read_bytes() == b"png"
    assert all(p.is_symlink() for p in planted)  # stale names are left alone, not reused or tripped over
    assert not any(p.is_symlink() for p in (out / "a.json", out / "b.png", out / "c.mp4"))


def test_long_final_names_still_fit(tmp_path):
    name = "x" * 250 + ".png"
    atomic_write_bytes(tmp_path / name, b"data")
    assert (tmp_path / name).read_bytes() == b"data"
