"""Bad media: empty, truncated, odd and huge images, broken videos, mixed folders, missing paths, cameras
that do not exist and streams that do not answer. Each bad input gives one clear SourceError/ImageError
(bounded in time, never a hang); odd-but-valid images decode to uint8 BGR and run through detect; the
CLI skips bad files of a folder and exits 1 with one ``gam-gui: error:`` line for a bad single source.
"""

from __future__ import annotations

import os
import re
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

import gam_gui
from gam_gui import cli
from gam_gui.data.shapes import render_sample
from gam_gui.images import ImageError, decode_image, read_image
from gam_gui.inference import letterbox
from gam_gui.sources import FolderSource, SourceError, VideoSource, open_camera, open_source


def png_claiming(w: int, h: int) -> bytes:
    """A tiny PNG whose header claims ``w`` x ``h`` pixels (its data is a stub)."""
    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 6, 0, 0, 0)  # 16-bit RGBA: 8 bytes a pixel once decoded
    idat = zlib.compress(bytes(1000))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def write_video(path: Path, n: int = 24, size: tuple[int, int] = (64, 96)) -> Path:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (size[1], size[0]))
    assert w.isOpened(), "no mp4v encoder in this OpenCV build"
    for i in range(n):
        w.write(render_sample(i, size).image)
    w.release()
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """Every bad or odd input, written once."""
    d = tmp_path_factory.mktemp("media")
    img = render_sample(5, (90, 120)).image
    jpg = cv2.imencode(".jpg", img)[1].tobytes()
    png = cv2.imencode(".png", img)[1].tobytes()
    files = {
        "empty.png": b"",
        "truncated.jpg": jpg[: len(jpg) // 2],
        "truncated.png": png[: len(png) // 2],
        "header_only.jpg": jpg[:200],
        "huge_claim.png": png_claiming(40000, 40000),
        "over_limit.png": png_claiming(12000, 9000),  # 108 MP: just over MAX_PIXELS
        "text.png": b"this is not an image\n" * 10,
        "text.mp4": b"this is not a video either\n" * 10,
        "garbage.xyz": os.urandom(300),
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    good = {"gray.png": cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), "rgba.png": cv2.cvtColor(img, cv2.COLOR_BGR2BGRA),
            "one.png": img[:1, :1], "deep16.png": img.astype(np.uint16) * 257,
            "float.tiff": img.astype(np.float32) / 255.0}
    for name, arr in good.items():
        assert cv2.imwrite(str(d / name), arr)
    (d / "png_named.jpg").write_bytes(png)  # the content decides, not the suffix
    video = write_video(d / "good.mp4")
    data = bytearray(video.read_bytes())
    rng = np.random.default_rng(7)
    mid = len(data) // 3
    data[mid:mid + len(data) // 4] = rng.integers(0, 256, len(data) // 4, dtype=np.uint8).tobytes()
    (d / "corrupt_middle.mp4").write_bytes(bytes(data))
    (d / "head_only.mp4").write_bytes(video.read_bytes()[:120])
    os.mkfifo(d / "fifo.png")  # reading it would block forever
    (d / "loop.png").symlink_to(d / "loop.png")
    return {p.name: p for p in d.iterdir()}


#: bad single image files -> what the ImageError must say
BAD_IMAGES = {
    "empty.png": r"empty file \(0 bytes\)",
    "truncated.jpg": r"not a readable image \(corrupt, truncated",
    "truncated.png": r"not a readable image \(corrupt, truncated",
    "header_only.jpg": r"not a readable image",
    "huge_claim.png": r"40000x40000 is too large \(max 100 MP\)",
    "over_limit.png": r"12000x9000 is too large",
    "text.png": r"not a readable image",
    "fifo.png": r"empty file",
    "loop.png": r"no such file",
}


@pytest.mark.parametrize("name", list(BAD_IMAGES))
def test_bad_image_files_give_clear_image_errors(media, name):
    t0 = time.monotonic()
    with pytest.raises(ImageError, match=BAD_IMAGES[name]) as ei:
        read_image(media[name])
    assert time.monotonic() - t0 < 5  # refused from the header, never decoded into gigabytes
    assert name in str(ei.value)
    with pytest.raises(SourceError, match=BAD_IMAGES[name]):  # the same through a source
        open_source(media[name])


def test_huge_claims_are_refused_from_the_header_before_decoding():
    """The refusal is decode_image's own (header) message, so OpenCV never allocated the pixels."""
    for w, h in [(40000, 40000), (12000, 9000), (65535, 65535)]:
        with pytest.raises(ImageError, match=f"{w}x{h} is too large"):
            decode_image(png_claiming(w, h), "claim")


@pytest.mark.parametrize("name,check", [
    ("gray.png", lambda a: np.array_equal(a[..., 0], a[..., 1]) and np.array_equal(a[..., 1], a[..., 2])),
    ("rgba.png", lambda a: a.shape[2] == 3),
    ("one.png", lambda a: a.shape == (1, 1, 3)),
    ("deep16.png", lambda a: abs(int(a.astype(int).max()) - 255) <= 1),
    ("float.tiff", lambda a: a.max() > 200),
    ("png_named.jpg", lambda a: a.shape == (90, 120, 3)),
])
def test_odd_but_valid_images_decode_and_detect(media, tiny_loaded, name, check):
    img = read_image(media[name])
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and img.flags.c_contiguous
    assert check(img)
    dets = gam_gui.detect(tiny_loaded, img, conf=0.001, imgsz=64)
    assert all(0 <= d.xyxy[0] <= d.xyxy[2] <= img.shape[1] and 0 <= d.xyxy[1] <= d.xyxy[3] <= img.shape[0]
               for d in dets)


def test_64_megapixel_image_reads_letterboxes_and_detects(tmp_path, tiny_loaded):
    """8000x8000 is under MAX_PIXELS (100 MP): allowed, and detect on it stays within seconds."""
    big = np.zeros((8000, 8000), np.uint8)
    big[1000:3000, 2000:5000] = 255
    path = tmp_path / "big.png"
    assert cv2.imwrite(str(path), big, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    del big
    t0 = time.monotonic()
    img = read_image(path)
    assert img.shape == (8000, 8000, 3) and img.dtype == np.uint8
    boxed, lb = letterbox(img, 320, 32)
    assert boxed.shape == (320, 320, 3) and lb.gain == pytest.approx(0.04)
    dets = gam_gui.detect(tiny_loaded, img, conf=0.001, imgsz=320)
    assert all(d.xyxy[2] <= 8000 and d.xyxy[3] <= 8000 for d in dets)
    assert time.monotonic() - t0 < 60


def test_video_with_corrupt_middle_plays_to_the_end(media):
    """Damaged frames are skipped (and reported), not an error; the frames after the damage still come."""
    with VideoSource(media["corrupt_middle.mp4"]) as src:
        frames = list(src)
        assert frames and all(f.image.dtype == np.uint8 and f.image.shape == (64, 96, 3) for f in frames)
        indices = [f.index for f in frames]
        assert indices == sorted(set(indices)) and indices[-1] >= 12  # it got past the damaged third
        assert all("undecodable" in e for e in src.errors)


@pytest.mark.parametrize("name,pattern", [
    ("text.mp4", r"not a readable video"),
    ("head_only.mp4", r"not a readable video|no frame could be decoded"),
    ("garbage.xyz", r"neither an image nor a video"),
])
def test_broken_video_files_give_source_errors(media, name, pattern):
    with pytest.raises(SourceError, match=pattern) as ei:
        open_source(media[name])
    assert name in str(ei.value)


def test_missing_paths_and_unusable_names():
    with pytest.raises(SourceError, match="no such file or folder"):
        open_source("/nonexistent/clip.mp4")
    with pytest.raises(SourceError, match="not a usable path|no such file"):
        open_source("bad\x00name.png")
    with pytest.raises(SourceError, match="not a usable path|no such file"):
        open_source("x" * 5000 + ".png")
    with pytest.raises(ImageError, match="no such file"):
        read_image("/nonexistent.png")


def test_camera_that_does_not_exist():
    t0 = time.monotonic()
    for spec in (57, "camera:57"):
        with pytest.raises(SourceError, match="camera 57: no such camera"):
            open_source(spec)
    with pytest.raises(SourceError, match="no such device"):
        open_camera("/dev/video57")
    assert time.monotonic() - t0 < 5


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    conns: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conns.append(srv.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield srv.getsockname()[1]
    srv.close()
    for c in conns:
        c.close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_streams_that_do_not_answer_fail_in_bounded_time(silent_server):
    urls = [f"http://127.0.0.1:{closed_port()}/video", "rtsp://127.0.0.1:9/none",
            f"http://127.0.0.1:{silent_server}/video.mjpg", f"rtsp://127.0.0.1:{silent_server}/live"]
    for url in urls:
        t0 = time.monotonic()
        with pytest.raises(SourceError, match="did not answer|cannot be"):
            open_source(url)
        assert time.monotonic() - t0 < 12, url


def test_mixed_folder_keeps_the_good_files(media, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("gray.png", "one.png", "empty.png", "truncated.jpg", "text.png"):
        (folder / name).write_bytes(media[name].read_bytes())
    (folder / "notes.txt").write_text("not listed")
    (folder / "sub.png").mkdir()  # a folder with an image's name
    os.mkfifo(folder / "pipe.jpg")
    src = FolderSource(folder)
    names = [f.name for f in src]
    assert names == ["gray.png", "one.png"]
    # the pipe and the folder are not files: never listed, never opened
    assert len(src.errors) == 3 and all(re.search(r"(empty|truncated|text)\.\w+: ", e) for e in src.errors)
    with pytest.raises(SourceError, match="empty file"):
        src.read_at(src.files.index(folder / "empty.png"))
    empty = tmp_path / "no_images"
    empty.mkdir()
    with pytest.raises(SourceError, match="no images in this folder"):
        open_source(empty)


def run_cli(args: list[str], capsys) -> tuple[int, list[str], str]:
    rc = cli.main(args)
    out = capsys.readouterr()
    return rc, [ln for ln in out.err.splitlines() if ln.strip()], out.out


#: bad single sources for the CLI -> a fragment of the message
CLI_BAD = {
    "empty.png": "empty file",
    "truncated.png": "not a readable image",
    "huge_claim.png": "too large",
    "text.mp4": "not a readable video",
    "head_only.mp4": "not a readable video|no frame could be decoded",
    "garbage.xyz": "neither an image nor a video",
    "fifo.png": "empty file",
    "/nonexistent/clip.mp4": "no such file or folder",
    "camera:57": "no such camera",
    "rtsp://127.0.0.1:9/none": "did not answer",
}


@pytest.mark.parametrize("name", list(CLI_BAD))
def test_cli_bad_single_source_exits_1_with_one_line(media, tiny_weights, tmp_path, capsys, name):
    source = str(media[name]) if name in media else name
    out = tmp_path / "out"
    rc, err, stdout = run_cli(["export", "--weights", str(tiny_weights), "--source", source, "--out", str(out),
                               "--imgsz", "64", "--device", "cpu"], capsys)
    assert rc == 1 and len(err) == 1 and err[0].startswith("gam-gui: error: "), err
    assert re.search(CLI_BAD[name], err[0]) and "Traceback" not in err[0]
    assert stdout == "" and not out.exists()


def test_cli_silent_stream_exits_1_in_bounded_time(tiny_weights, tmp_path, capsys, silent_server):
    t0 = time.monotonic()
    rc, err, _ = run_cli(["export", "--weights", str(tiny_weights), "--source", f"http://127.0.0.1:{silent_server}/v",
                          "--out", str(tmp_path / "out"), "--device", "cpu"], capsys)
    assert rc == 1 and len(err) == 1 and "did not answer" in err[0]
    assert time.monotonic() - t0 < 15


def test_cli_folder_mode_skips_bad_files(media, tiny_weights, tmp_path, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("one.png", "gray.png", "empty.png", "truncated.jpg"):
        (folder / name).write_bytes(media[name].read_bytes())
    out = tmp_path / "out"
    rc, err, stdout = run_cli(["export", "--weights", str(tiny_weights), "--source", str(folder), "--out", str(out),
                               "--imgsz", "64", "--method", "none", "--device", "cpu"], capsys)
    assert rc == 0, err
    assert sorted(p.name for p in out.glob("*.png")) == ["gray_panels.png", "one_panels.png"]
    skipped = [ln for ln in err if ln.startswith("skipped: ")]
    assert len(skipped) == 2 and any("empty.png" in s for s in skipped) and any("truncated.jpg" in s for s in skipped)
    assert "wrote 2 frame(s)" in stdout and not any("Traceback" in ln for ln in err)


def test_cli_folder_of_only_bad_files_exits_1(media, tiny_weights, tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    for name in ("empty.png", "truncated.jpg", "text.png"):
        (folder / name).write_bytes(media[name].read_bytes())
    rc, err, _ = run_cli(["export", "--weights", str(tiny_weights), "--source", str(folder), "--out",
                          str(tmp_path / "out"), "--imgsz", "64", "--device", "cpu"], capsys)
    assert rc == 1 and len(err) == 1, err
    assert re.match(r"gam-gui: error: nothing was exported: .*empty\.png.*\(and 2 more\)", err[0])


def test_cli_video_with_corrupt_middle_exports(media, tiny_weights, tmp_path, capsys):
    rc, err, stdout = run_cli(["export", "--weights", str(tiny_weights), "--source", str(media["corrupt_middle.mp4"]),
                               "--out", str(tmp_path / "out"), "--imgsz", "64", "--method", "none", "--every", "4",
                               "--device", "cpu"], capsys)
    assert rc == 0, err
    assert re.search(r"wrote [1-9]\d* frame\(s\)", stdout)
    assert not any("Traceback" in ln for ln in err)
