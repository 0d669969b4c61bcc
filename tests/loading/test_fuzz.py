"""Fuzzing the two loaders that read untrusted bytes: images and checkpoints.

Random bytes, bytes behind real format signatures, mutated valid files and random odd-but-valid
images go in; what comes out is either a valid result (uint8 HxWx3 BGR / a DetectionModel in eval
mode) or the loader's own error (ImageError / CheckpointError). Any other exception type is a bug.

The image decoder runs with MAX_PIXELS lowered to 4 MP here, so a mutated header that claims a large
(but allowed) size costs megabytes, not gigabytes, while the error paths stay the same.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gam_gui
from gam_gui import images
from gam_gui.checkpoints import CheckpointError, save_model
from gam_gui.images import ImageError, decode_image, to_bgr
from gam_gui.models.yolov5 import DetectionModel

FUZZ = settings(max_examples=300, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FUZZ_CKPT = FUZZ

#: A small model with the same blocks as the real one (Conv, C3, GAM, Detect): loads in ~50 ms.
TINY = {"nc": 2, "depth_multiple": 0.33, "width_multiple": 0.125, "anchors": [[10, 13, 16, 30, 33, 23]],
        "backbone": [[-1, 1, "Conv", [64, 3, 2]], [-1, 1, "Conv", [128, 3, 2]], [-1, 1, "C3", [128]],
                     [-1, 1, "Conv", [128, 3, 2]], [-1, 1, "GAM", [128]]],
        "head": [[[4], 1, "Detect", ["nc", "anchors"]]]}


@pytest.fixture(scope="module", autouse=True)
def small_pixel_limit():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(images, "MAX_PIXELS", 4_000_000)
        yield


def check_image(out: np.ndarray, shape: tuple[int, int] | None = None) -> None:
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert out.flags.c_contiguous and out.shape[0] >= 1 and out.shape[1] >= 1
    if shape is not None:
        assert out.shape[:2] == shape


def decode_or_image_error(data: bytes) -> None:
    try:
        out = decode_image(data, "fuzz")
    except ImageError as e:
        assert str(e).startswith("fuzz: ")
        return
    check_image(out)


# --- images: bytes ----------------------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=2048))
def test_decode_random_bytes(data):
    decode_or_image_error(data)


SIGNATURES = [b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xc0",
              b"GIF89a", b"BM", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"RIFF\x00\x00\x00\x00WEBPVP8L",
              b"RIFF\x00\x00\x00\x00WEBPVP8X", b"II*\x00", b"MM\x00*", b"P6\n", b"\x00\x00\x00\x0cjP  "]


@FUZZ
@given(st.sampled_from(SIGNATURES), st.binary(max_size=2048))
def test_decode_bytes_behind_real_signatures(magic, data):
    decode_or_image_error(magic + data)


def encoded(seed: int, ext: str) -> bytes:
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


# TIFF is left out of the mutations: its size fields are not read by image_size(), and a mutated one
# may claim up to OpenCV's own limit (when cv2 was imported before gam_gui.images set it lower)
MUTABLE = [".png", ".jpg", ".bmp", ".webp"]


@st.composite
def mutated_image(draw) -> bytes:
    data = bytearray(encoded(draw(st.integers(0, 2**16)), draw(st.sampled_from(MUTABLE))))
    how = draw(st.sampled_from(["flip", "truncate", "insert", "header"]))
    if how == "truncate":
        return bytes(data[:draw(st.integers(0, len(data) - 1))])
    if how == "insert":
        at = draw(st.integers(0, len(data)))
        return bytes(data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:])
    limit = min(len(data), 64) if how == "header" else len(data)  # "header": where the sizes live
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, limit - 1))] ^= draw(st.integers(1, 255))
    return bytes(data)


@FUZZ
@given(mutated_image())
def test_decode_mutated_valid_images(data):
    decode_or_image_error(data)


# --- images: odd but valid ------------------------------------------------------------------------------

@st.composite
def odd_image(draw) -> tuple[np.ndarray, str]:
    """A random image and a format that can store it: 1/3/4 channels, 8 or 16 bits or float."""
    h, w = draw(st.integers(1, 300)), draw(st.integers(1, 300))
    c = draw(st.sampled_from([1, 3, 4]))
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.float32]))
    ext = {np.uint8: draw(st.sampled_from([".png", ".bmp", ".tiff", ".jpg", ".webp"])),
           np.uint16: draw(st.sampled_from([".png", ".tiff"])), np.float32: ".tiff"}[dtype]
    if (ext == ".jpg" and c == 4) or (ext == ".webp" and c == 1):  # what those formats cannot store
        c = 3
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shape = (h, w) if c == 1 and draw(st.booleans()) else (h, w, c)
    if dtype is np.float32:
        img = rng.random(shape, dtype=np.float32) * draw(st.sampled_from([1.0, 255.0]))
    else:
        img = rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)
    return img, ext


@FUZZ
@given(odd_image())
def test_decode_odd_valid_images(case):
    img, ext = case
    ok, buf = cv2.imencode(ext, img)
    assert ok
    check_image(decode_image(buf.tobytes(), "odd"), img.shape[:2])


@st.composite
def any_array(draw) -> np.ndarray:
    """Random arrays of any layout a caller could hand over: sizes 0..300, 1..5 channels, many dtypes,
    NaN/inf in floats, and non-contiguous views (transposed, flipped, strided)."""
    h, w = draw(st.integers(0, 300)), draw(st.integers(0, 300))
    c = draw(st.sampled_from([None, 1, 2, 3, 4, 5]))
    dtype = np.dtype(draw(st.sampled_from(["uint8", "uint16", "float32", "float64", "float16", "int16", "int32",
                                           "int64", "bool", "complex64"])))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shape = (h, w) if c is None else (h, w, c)
    if dtype.kind == "f":
        arr = (rng.standard_normal(shape) * draw(st.sampled_from([1.0, 300.0]))).astype(dtype)
        if arr.size and draw(st.booleans()):
            arr.flat[rng.integers(0, arr.size, 3)] = [np.nan, np.inf, -np.inf]
    elif dtype.kind == "c":
        arr = rng.standard_normal(shape).astype(dtype)
    elif dtype.kind == "b":
        arr = rng.random(shape) > 0.5
    else:
        info = np.iinfo(dtype)
        arr = rng.integers(max(info.min, -(2**31)), min(info.max, 2**31), shape, dtype=dtype)
    view = draw(st.sampled_from(["contiguous", "transposed", "flipped", "strided"]))
    if view == "transposed":
        arr = arr.swapaxes(0, 1)
    elif view == "flipped":
        arr = arr[::-1, ::-1]
    elif view == "strided":
        arr = arr[::2, ::3]
    return arr


@FUZZ
@given(any_array())
def test_to_bgr_accepts_images_and_refuses_the_rest(arr):
    usable = (arr.size > 0 and (arr.ndim == 2 or arr.shape[2] in (1, 3, 4)) and arr.dtype.kind in "uifb")
    try:
        out = to_bgr(arr)
    except ImageError:
        assert not usable, f"refused a usable {arr.dtype} {arr.shape}"
        return
    assert usable, f"accepted {arr.dtype} {arr.shape}"
    check_image(out, arr.shape[:2])
    if arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3:
        assert np.array_equal(out, arr)  # already BGR: unchanged


# --- checkpoints ----------------------------------------------------------------------------------------

class TinyFiles(dict):
    """The valid files to mutate; a short repr, as hypothesis prints the arguments of a failing example."""

    def __repr__(self) -> str:
        return f"TinyFiles(own={len(self['own'])} B, ul={len(self['ul'])} B)"


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory) -> TinyFiles:
    """The tiny model as the project's own file and as an ultralytics pickle, plus a scratch path."""
    import standins

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("ckpt")
    model = DetectionModel(TINY)
    save_model(model, d / "own.pt", imgsz=64)
    standins.write_yolov5_checkpoint(model, d / "ul.pt", stripped=True)
    for name in ("own.pt", "ul.pt"):  # the unmutated files load: the fuzz starts from valid input
        gam_gui.load_model(d / name, device="cpu")
    return TinyFiles(own=(d / "own.pt").read_bytes(), ul=(d / "ul.pt").read_bytes(), scratch=str(d / "fuzz.pt"))


def load_or_checkpoint_error(path: str, data: bytes) -> None:
    Path(path).write_bytes(data)
    try:
        model = gam_gui.load_model(path, device="cpu")
    except CheckpointError as e:
        assert str(e).startswith(path) and "\n" not in str(e).strip()
        return
    assert isinstance(model, DetectionModel) and not model.training


@FUZZ_CKPT
@given(st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", b"\x80\x02", b"\x80\x04\x95"]), st.binary(max_size=4096))
def test_checkpoint_random_bytes(tiny_files, prefix, data):
    Path(tiny_files["scratch"]).write_bytes(prefix + data)
    with pytest.raises(CheckpointError):
        gam_gui.load_model(tiny_files["scratch"], device="cpu")


@FUZZ_CKPT
@given(st.sampled_from(["own", "ul"]), st.data())
def test_checkpoint_flipped_bytes_anywhere(tiny_files, which, data):
    blob = bytearray(tiny_files[which])
    for _ in range(data.draw(st.integers(1, 8))):
        blob[data.draw(st.integers(0, len(blob) - 1))] ^= data.draw(st.integers(1, 255))
    if data.draw(st.booleans()):
        blob = blob[:data.draw(st.integers(0, len(blob)))]
    load_or_checkpoint_error(tiny_files["scratch"], bytes(blob))


def rezip(blob: bytes, edit) -> bytes:
    """The archive with data.pkl replaced by ``edit(data.pkl)`` and a correct CRC: the mutation gets
    past the zip layer into the unpickler, the scanner and the model checks."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            payload = zin.read(item.filename)
            zout.writestr(item, edit(payload) if item.filename.endswith("data.pkl") else payload)
    return out.getvalue()


@FUZZ_CKPT
@given(st.sampled_from(["own", "ul"]), st.data())
def test_checkpoint_mutated_pickle(tiny_files, which, data):
    def edit(pkl: bytes) -> bytes:
        b = bytearray(pkl)
        how = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        if how == "truncate":
            return bytes(b[:data.draw(st.integers(0, len(b) - 1))])
        at = data.draw(st.integers(0, len(b) - 1))
        if how == "insert":
            return bytes(b[:at] + data.draw(st.binary(min_size=1, max_size=16)) + b[at:])
        if how == "delete":
            return bytes(b[:at] + b[at + data.draw(st.integers(1, 16)):])
        for _ in range(data.draw(st.integers(1, 4))):
            b[data.draw(st.integers(0, len(b) - 1))] ^= data.draw(st.integers(1, 255))
        return bytes(b)

    load_or_checkpoint_error(tiny_files["scratch"], rezip(tiny_files[which], edit))
