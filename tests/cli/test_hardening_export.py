"""Exports never write through links, and media limits hold whatever the input (issue 17, parts 6 and 7).

Written from the mechanisms: links at final names (PNG/JSON/CSV/MP4; dangling or not), a real SIGTERM
to an exporting process, a sparse multi-gigabyte image in a folder, size claims in headers that
OpenCV's own limit would not catch once ``cv2`` was imported first, video frame sizes, file names that
are not UTF-8, images too thin to letterbox, an empty or self-referencing output folder, progress
that ends at N/N.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gam_gui import sources
from gam_gui.analysis import Settings
from gam_gui.data.shapes import render_sample
from gam_gui.export import ExportError, check_out_dir, escape_name, export, unescape_name
from gam_gui.images import ImageError, check_analysable, decode_image, read_image
from gam_gui.sources import SourceError, VideoSource

FAST = Settings(method="none", imgsz=64)


def image(seed: int = 1, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    return render_sample(seed, size).image


def folder_of(tmp_path: Path, names: list[str | bytes]) -> Path:
    d = tmp_path / "imgs"
    d.mkdir()
    for i, n in enumerate(names):
        p = os.path.join(os.fsencode(d), n if isinstance(n, bytes) else n.encode())
        ok, buf = cv2.imencode(".png", image(i + 1))
        with open(p, "wb") as fh:
            fh.write(buf.tobytes())
    return d


def parts(out: Path) -> list[str]:
    return sorted(n for n in os.listdir(out) if ".part" in n) if out.exists() else []


# --- links ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("final", ["a_panels.png", "detections.json", "detections.csv"])
def test_links_at_final_names_are_existing_files(tiny_loaded, tmp_path, final):
    src = folder_of(tmp_path, ["a.png"])
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_bytes(b"precious")
    for target in (outside / "keep", outside / "dangling"):
        out = tmp_path / f"out_{target.name}"
        out.mkdir()
        (out / final).symlink_to(target)
        with pytest.raises(ExportError, match="exists; not overwriting it"):
            export(src, out, tiny_loaded, FAST)
        summary = export(src, out, tiny_loaded, FAST, overwrite=True)
        assert summary.frames == 1
        assert not (out / final).is_symlink() and (out / final).stat().st_size > 0
        assert parts(out) == []
    assert (outside / "keep").read_bytes() == b"precious"
    assert sorted(os.listdir(outside)) == ["keep"]


def test_links_at_the_old_temporary_names_are_ignored(tiny_loaded, video_file, tmp_path):
    """Temporary names are random and created exclusively: links at the names exports used to use
    (``.NAME.part``) are neither followed nor removed."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    planted = [".detections.json.part", ".detections.csv.part", ".clip_panels.part.mp4",
               ".clip_f000000_panels.png.part"]
    for n in planted:
        (out / n).symlink_to(victim)
    export(video_file, out, tiny_loaded, FAST, video=True)
    export(video_file, out, tiny_loaded, FAST, max_frames=1, overwrite=True)
    assert victim.read_bytes() == b"precious"
    assert sorted(parts(out)) == sorted(planted) and all((out / n).is_symlink() for n in planted)
    for n in ("clip_panels.mp4", "clip_f000000_panels.png", "detections.json", "detections.csv"):
        assert (out / n).is_file() and not (out / n).is_symlink(), n


@pytest.fixture(scope="module")
def video_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("v") / "clip.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for i in range(6):
        w.write(image(i))
    w.release()
    return path


def test_exported_video_is_h264(tiny_loaded, video_file, tmp_path):
    from gam_gui import video_out

    av = pytest.importorskip("av")
    if not video_out.h264_available():
        pytest.skip("no libx264 in this PyAV")
    progress: list[tuple[int, int | None]] = []
    summary = export(video_file, tmp_path / "o", tiny_loaded, FAST, video=True, every=2,
                     progress=lambda d, t: progress.append((d, t)))
    with av.open(str(tmp_path / "o" / "clip_panels.mp4")) as c:
        s = c.streams.video[0]
        assert (s.codec_context.name, s.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert sum(1 for _ in c.decode(s)) == summary.frames == 3
    assert progress[-1] == (6, 6) and summary.seconds > 0


SIGTERM_SCRIPT = textwrap.dedent("""
    import itertools, sys
    from gam_gui.analysis import Settings
    from gam_gui.checkpoints import load_model
    from gam_gui.data.shapes import render_sample
    from gam_gui.export import export
    from gam_gui.sources import GeneratorSource
    frame = render_sample(1, (48, 64)).image
    src = GeneratorSource((frame for _ in itertools.count()), "feed", live=False, fps=10)
    export(src, sys.argv[2], load_model(sys.argv[1], device="cpu"), Settings(method="none", imgsz=64), video=True)
""")


def test_sigterm_mid_export_removes_temporary_files_and_exits_143(tiny_weights, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", SIGTERM_SCRIPT, str(tiny_weights), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while not parts(out) or os.path.getsize(out / parts(out)[0]) < 2000:  # mid-video
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the export never started writing"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 143
    # no .part, no half video, no detections of a video that was not finished, and no folder it made for them
    assert not out.exists()


# --- media limits -------------------------------------------------------------------------------------

def test_sparse_huge_image_in_a_folder_is_skipped_from_its_size(tiny_loaded, tmp_path):
    src = folder_of(tmp_path, ["a.png", "c.png"])
    with open(src / "b.jpg", "wb") as fh:
        fh.truncate(8 * 2**30)  # 8 GiB that cost nothing on disk
    t0 = time.monotonic()
    summary = export(src, tmp_path / "out", tiny_loaded, FAST)
    assert time.monotonic() - t0 < 120
    assert summary.frames == 2
    assert len(summary.skipped) == 1 and "b.jpg: the file is too large for an image" in summary.skipped[0]
    meta = json.loads((tmp_path / "out" / "detections.json").read_text())
    assert [f["name"] for f in meta["frames"]] == ["a.png", "c.png"] and meta["skipped"] == summary.skipped
    assert (tmp_path / "out" / "detections.csv").exists()


def tiff_claiming(w: int, h: int, big: bool = False, endian: str = "<") -> bytes:
    """A tiny TIFF (or BigTIFF) whose first IFD, placed after 100 KB of filler, claims w x h."""
    mark = b"II" if endian == "<" else b"MM"
    filler = bytes(100_000)
    if big:
        off = 16 + len(filler)
        head = mark + struct.pack(endian + "HHHQ", 43, 8, 0, off)
        ifd = struct.pack(endian + "Q", 2) + struct.pack(endian + "HHQQ", 256, 16, 1, w) \
            + struct.pack(endian + "HHQQ", 257, 16, 1, h) + struct.pack(endian + "Q", 0)
    else:
        off = 8 + len(filler)
        head = mark + struct.pack(endian + "HI", 42, off)
        ifd = struct.pack(endian + "H", 2) + struct.pack(endian + "HHII", 256, 4, 1, w) \
            + struct.pack(endian + "HHIHH", 257, 3, 1, min(h, 65535), 0) \
            + struct.pack(endian + "I", 0)
    return head + filler + ifd


def jpeg_claiming(w: int, h: int) -> bytes:
    """A JPEG whose frame header comes after 3 x 60 KB of APP segments and claims w x h."""
    ok, buf = cv2.imencode(".jpg", image())
    data = buf.tobytes()
    i = data.index(b"\xff\xc0")
    data = data[:i + 5] + struct.pack(">HH", h, w) + data[i + 9:]
    app = b"".join(b"\xff\xe5" + struct.pack(">H", 60_002) + bytes(60_000) for _ in range(3))
    return data[:2] + app + data[2:]


CLAIMS = {
    "tiff": tiff_claiming(20000, 60000),
    "tiff_be": tiff_claiming(20000, 60000, endian=">"),
    "bigtiff": tiff_claiming(30000, 30000, big=True),
    "jpeg_late_sof": jpeg_claiming(30000, 30000),
    "pgm": b"P5\n# comment\n40000 40000\n255\n" + bytes(100),
    "pfm": b"PF\n20000 20000\n-1.0\n" + bytes(100),
    "sunras": struct.pack(">IIIIIIII", 0x59A66A95, 20000, 20000, 24, 0, 1, 0, 0) + bytes(100),
    "hdr": b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 20000 +X 20000\n" + bytes(100),
    "jp2_codestream": b"\xff\x4f\xff\x51" + struct.pack(">HHIIII", 41, 0, 20000, 20000, 0, 0) + bytes(100),
}


@pytest.mark.parametrize("name", list(CLAIMS))
def test_size_claims_are_refused_from_the_header_whatever_the_import_order(name):
    """cv2 is imported long before this test (OpenCV's limit is its 1 G pixel default here): the refusal
    must come from gam-gui's own header check, before a decoder allocates anything."""
    with pytest.raises(ImageError, match=r"\d+x\d+ is too large \(max 100 MP\)"):
        decode_image(CLAIMS[name], name)


def test_opencv_limit_does_not_depend_on_import_order(tmp_path):
    """In a fresh process that imports cv2 first, a TIFF claiming 1.2 G pixels is still refused."""
    p = tmp_path / "claim.tif"
    p.write_bytes(tiff_claiming(20000, 60000))
    code = ("import cv2, sys\nfrom gam_gui.images import read_image, ImageError\n"
            "try:\n    read_image(sys.argv[1])\nexcept ImageError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=120)
    assert "20000x60000 is too large" in out.stdout, out.stderr[-2000:]


def test_unknown_formats_are_not_handed_to_the_decoder():
    with pytest.raises(ImageError, match="not a readable image"):
        decode_image(b"\x00\x01garbage" * 50, "garbage")


def test_real_images_of_every_parsed_format_still_decode(tmp_path):
    img = image(3, (30, 41))
    for ext in (".png", ".jpg", ".bmp", ".tif", ".webp", ".ppm", ".pam", ".ras", ".hdr", ".pfm", ".avif", ".gif"):
        arr = img.astype(np.float32) / 255 if ext in (".hdr", ".pfm") else img
        p = tmp_path / f"x{ext}"
        if not cv2.imwrite(str(p), arr):
            continue
        got = read_image(p)
        assert got.shape[:2] == (30, 41), ext


def test_video_frame_size_is_checked_before_decoding(tmp_path, monkeypatch, video_file):
    monkeypatch.setattr(sources, "MAX_PIXELS", 64 * 48 - 1)
    reads = []

    real = cv2.VideoCapture

    class Counting:  # a wrapper, not a subclass of the extension type
        def __init__(self, *a: object) -> None:
            self._cap = real(*a)

        def read(self, *a: object):
            reads.append(1)
            return self._cap.read(*a)

        def __getattr__(self, name: str):
            return getattr(self._cap, name)

    monkeypatch.setattr(sources.cv2, "VideoCapture", Counting)
    with pytest.raises(SourceError, match=r"64x48 frames are too large"):
        VideoSource(video_file)
    assert reads == []


def test_non_utf8_and_backslash_names_round_trip(tiny_loaded, tmp_path):
    raw = [b"caf\xe9.png", b"back\\slash.png", "中文.png".encode()]
    src = folder_of(tmp_path, raw)
    out = tmp_path / "out"
    summary = export(src, out, tiny_loaded, FAST)
    assert summary.frames == 3
    meta = json.loads((out / "detections.json").read_bytes().decode("utf-8"))
    names = {os.fsencode(unescape_name(f["name"])) for f in meta["frames"]}
    assert names == set(raw)
    assert {f["name"] for f in meta["frames"]} == {"caf\\xe9.png", "back\\\\slash.png", "中文.png"}
    rows = list(csv.reader((out / "detections.csv").read_bytes().decode("utf-8").splitlines()))
    assert rows[0][1] == "name" and all(os.fsencode(unescape_name(r[1])) in raw for r in rows[1:])
    assert (out / os.fsdecode(b"caf\xe9_panels.png")).exists()


@given(st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b and b"\0" not in b))
def test_escape_name_round_trips_any_posix_name(raw):
    text = escape_name(os.fsdecode(raw))
    text.encode("utf-8")  # always valid UTF-8
    assert os.fsencode(unescape_name(text)) == raw


def test_too_thin_images_are_image_errors_and_nothing_is_written(tiny_loaded, tmp_path):
    with pytest.raises(ImageError, match=r"1x10000 image is too thin to analyse at 64 px"):
        check_analysable(np.zeros((10000, 1, 3), np.uint8), 64, "thin")
    check_analysable(np.zeros((1000, 16, 3), np.uint8), 64, "ok")  # 1 px after the letterbox: fine
    p = tmp_path / "thin.png"
    cv2.imwrite(str(p), np.full((10000, 1, 3), 128, np.uint8))
    summary = export(p, tmp_path / "out", tiny_loaded, FAST)
    assert summary.frames == 0 and len(summary.skipped) == 1
    assert summary.skipped[0].startswith(f"{p.name}: a 1x10000 image is too thin")
    assert not (tmp_path / "out").exists()  # no detections.json/.csv describing nothing, no empty folder


def test_output_folder_empty_or_the_source_itself_is_refused(tiny_loaded, tmp_path):
    src = folder_of(tmp_path, ["a.png"])
    for bad in ("", "  "):
        with pytest.raises(ValueError, match="output folder name is empty"):
            export(src, bad, tiny_loaded, FAST)
    alias = tmp_path / "alias"
    alias.symlink_to(src)
    for same in (src, alias, src / ".", tmp_path / "imgs" / ".." / "imgs"):
        with pytest.raises(ValueError, match="is the source folder"):
            export(src, same, tiny_loaded, FAST, overwrite=True)
    assert sorted(os.listdir(src)) == ["a.png"]
    assert check_out_dir(src / "out", src) == src / "out"  # a sub-folder is not read (no recursion)


def test_progress_ends_at_n_of_n_when_the_last_file_is_bad(tiny_loaded, tmp_path):
    src = folder_of(tmp_path, ["a.png", "b.png"])
    (src / "z.png").write_bytes(b"not an image")
    calls: list[tuple[int, int | None]] = []
    summary = export(src, tmp_path / "out", tiny_loaded, FAST, progress=lambda d, t: calls.append((d, t)))
    assert summary.frames == 2 and calls[-1] == (3, 3) and summary.seconds > 0
    assert json.loads((tmp_path / "out" / "detections.json").read_text())["seconds"] > 0
