"""Hardening of the checkpoint loader (issue 17), written from each mechanism as families of crafted files.

* one view of the archive: case variants and decoys of ``data.pkl``, a zip behind a legacy pickle or
  behind junk; what torch unpickles is what was scanned;
* constructor calls of allowed classes through every opcode that makes objects;
* memory counted from declared sizes: tensor views against their storages, zero/overlapping strides,
  declared storages larger than their records, tensor-type NEWOBJ, YAML list caps and arguments that
  build layers;
* time: memo-shared structures (hash/repr bombs), run in a child process so a regression cannot hang
  the test session;
* the module tree as it will run: shadowed table methods, hooks, forward overrides, layers kept
  outside ``_modules``;
* the work size: stored ``imgsz`` and strides, activations estimated at the size that will run.

Pickles are assembled opcode by opcode (see :class:`P`), so each case says exactly what the file does.
"""

from __future__ import annotations

import collections
import copy
import io
import json
import math
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import standins
import standins_v7
import torch
from standins import to_ultralytics, ultralytics_modules
from torch import nn

from gam_gui import checkpoints as ck
from gam_gui.checkpoints import (
    CheckpointError,
    clean_meta,
    estimate_work,
    limits,
    load_model,
    loader,
    pickle_scan,
    save_model,
)
from gam_gui.checkpoints import foreign as foreign_mod
from gam_gui.models.yolov5 import DetectionModel, ModelConfigError, check_model_dict, parse_model

REPO = Path(__file__).resolve().parents[2]

#: A small model with the real blocks (Conv, C3, GAM, Detect) that loads quickly.
TINY = {"nc": 2, "depth_multiple": 0.33, "width_multiple": 0.125, "anchors": [[10, 13, 16, 30, 33, 23]],
        "backbone": [[-1, 1, "Conv", [64, 3, 2]], [-1, 1, "Conv", [128, 3, 2]], [-1, 1, "C3", [128]],
                     [-1, 1, "Conv", [128, 3, 2]], [-1, 1, "GAM", [128]]],
        "head": [[[4], 1, "Detect", ["nc", "anchors"]]]}


# --- building files -----------------------------------------------------------------------------------

class P:
    """A protocol-2 pickle written opcode by opcode."""

    def __init__(self) -> None:
        self.b = bytearray(b"\x80\x02")

    def op(self, code: bytes) -> P:
        self.b += code
        return self

    def glob(self, mod: str, name: str) -> P:
        return self.op(b"c" + f"{mod}\n{name}\n".encode())

    def int(self, n: int) -> P:
        return self.op(b"J" + struct.pack("<i", n)) if -(1 << 31) <= n < 1 << 31 else self.op(
            b"\x8a" + bytes([len(pickle.encode_long(n))]) + pickle.encode_long(n))

    def str(self, s: str) -> P:
        raw = s.encode()
        return self.op(b"X" + struct.pack("<I", len(raw)) + raw)

    def put(self, i: int) -> P:
        return self.op(b"r" + struct.pack("<I", i))

    def get(self, i: int) -> P:
        return self.op(b"j" + struct.pack("<I", i))

    def ints(self, *ns: int) -> P:
        self.op(b"(")
        for n in ns:
            self.int(n)
        return self.op(b"t")

    def storage(self, stype: str, key: str, numel: int) -> P:
        self.op(b"(").str("storage").glob("torch", stype).str(key).str("cpu").int(numel).op(b"t")
        return self.op(b"Q")

    def rebuild(self, stype: str, key: str, numel: int, offset: int, size: tuple, stride: tuple) -> P:
        """``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())``."""
        self.glob("torch._utils", "_rebuild_tensor_v2").op(b"(").storage(stype, key, numel).int(offset)
        self.ints(*size).ints(*stride).op(b"\x89").glob("collections", "OrderedDict").op(b")R").op(b"t")
        return self.op(b"R")

    def done(self) -> bytes:
        return bytes(self.b + b".")


def archive(entries: dict[str, bytes], order: list[str] | None = None) -> bytes:
    """A zip archive with ``entries`` stored uncompressed, in ``order`` (default: as given)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name in order or list(entries):
            zf.writestr(name, entries[name])
    return buf.getvalue()


def torch_archive(pkl: bytes, storages: dict[str, bytes] | None = None, prefix: str = "archive") -> bytes:
    entries = {f"{prefix}/data.pkl": pkl, f"{prefix}/byteorder": b"little"}
    entries.update({f"{prefix}/data/{k}": v for k, v in (storages or {}).items()})
    entries[f"{prefix}/version"] = b"3\n"
    return archive(entries)


def entries_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def refusal(data: bytes, tmp_path: Path, name: str = "case.pt") -> CheckpointError:
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(CheckpointError) as ei:
        load_model(p, device="cpu")
    msg = str(ei.value)
    assert "\n" not in msg and str(p) in msg and len(msg) < 600, msg
    assert ei.value.path == str(p)
    return ei.value


@pytest.fixture(scope="module")
def tiny_model() -> DetectionModel:
    torch.manual_seed(0)
    return DetectionModel(copy.deepcopy(TINY)).eval()


@pytest.fixture(scope="module")
def own_bytes(tiny_model, tmp_path_factory) -> bytes:
    path = save_model(tiny_model, tmp_path_factory.mktemp("own") / "tiny.pt", imgsz=320)
    buf = io.BytesIO()  # written to a buffer, torch names the archive's folder "archive"
    torch.save(torch.load(path, weights_only=True), buf)
    return buf.getvalue()


def own_ckpt(own_bytes: bytes) -> dict:
    return torch.load(io.BytesIO(own_bytes), weights_only=True)


def saved(obj: object) -> bytes:
    buf = io.BytesIO()
    with ultralytics_modules():
        torch.save(obj, buf)
    return buf.getvalue()


# --- 1. one view of the archive -----------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["Data.pkl", "DATA.PKL", "data.PKL", "dAtA.pKl"])
@pytest.mark.parametrize("decoy", ["archive/zz/data.pkl", "archive/data.pkl", "other/data.pkl", "archive/x/DATA.pkl"])
def test_case_variants_with_a_decoy_are_refused(own_bytes, tmp_path, variant, decoy):
    entries = entries_of(own_bytes)
    real = entries.pop("archive/data.pkl")
    evil = P().glob("torch.nn.modules.linear", "Linear").int(3000).int(3000).op(b"\x86R").done()
    renamed = {f"archive/{variant}": real, **entries, decoy: evil}
    err = refusal(archive(renamed, [f"archive/{variant}", *entries, decoy]), tmp_path)
    assert err.reason == "ambiguous-archive"


@pytest.mark.parametrize("variant", ["Data.pkl", "DATA.PKL"])
def test_a_lone_case_variant_is_read_as_torch_reads_it(own_bytes, tmp_path, variant):
    """torch finds ``archive/DATA.PKL`` for ``data.pkl``; so does the scanner, and the model loads."""
    entries = entries_of(own_bytes)
    real = entries.pop("archive/data.pkl")
    p = tmp_path / "v.pt"
    p.write_bytes(archive({f"archive/{variant}": real, **entries}))
    assert isinstance(load_model(p, device="cpu"), DetectionModel)


@pytest.mark.parametrize("dup", ["archive/data/0", "archive/DATA/0", "archive/version", "archive/Byteorder"])
def test_duplicate_records_are_refused(own_bytes, tmp_path, dup):
    entries = entries_of(own_bytes)
    order = list(entries)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, pytest.warns(UserWarning) if dup in entries else _Nothing():
        for name in order:
            zf.writestr(name, entries[name])
        zf.writestr(dup, entries.get(dup.replace("DATA", "data").replace("Byteorder", "byteorder"), b"x"))
    assert refusal(buf.getvalue(), tmp_path).reason == "ambiguous-archive"


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: object) -> None:
        return None


@pytest.mark.parametrize("legacy", ["torch_legacy", "pickle2", "pickle4"])
def test_zip_appended_to_a_legacy_pickle_is_refused(own_bytes, tmp_path, legacy):
    evil = {"model": collections.OrderedDict(a=1)}
    if legacy == "torch_legacy":
        buf = io.BytesIO()
        torch.save(evil, buf, _use_new_zipfile_serialization=False)
        head = buf.getvalue()
    else:
        head = pickle.dumps(evil, protocol=int(legacy[-1]))
    data = head + own_bytes
    assert zipfile.is_zipfile(io.BytesIO(data))  # what fooled the old check
    assert refusal(data, tmp_path).reason == "legacy"


@pytest.mark.parametrize("junk", [b"x", b"MZ" + bytes(100), b"PK\x03\x04" + bytes(60), bytes(4096)])
def test_junk_in_front_of_the_archive_is_refused(own_bytes, tmp_path, junk):
    assert refusal(junk + own_bytes, tmp_path).reason in ("archive", "format")


def test_entries_moved_so_the_first_is_not_at_offset_0(own_bytes, tmp_path):
    """A zip whose first directory entry is not the file's first record (a second archive inside)."""
    entries = entries_of(own_bytes)
    inner = archive(entries)
    outer = inner + archive({"archive/data.pkl": P().op(b"}").done()})  # zipfile reads the last directory
    err = refusal(outer, tmp_path)
    assert err.reason in ("archive", "ambiguous-archive", "corrupt", "format")


@pytest.mark.parametrize("which", [0, 3, -1])
def test_a_storage_record_with_a_bad_crc_is_refused(own_bytes, tmp_path, which):
    """Storages are copied into the clean archive after the scan; a damaged one is still one clear error."""
    data = bytearray(own_bytes)
    with zipfile.ZipFile(io.BytesIO(own_bytes)) as zf:
        info = [i for i in zf.infolist() if "/data/" in i.filename][which]
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    data[info.header_offset + 30 + name_len + extra_len] ^= 0x5A
    assert refusal(bytes(data), tmp_path).reason == "corrupt"


def test_torch_reads_exactly_the_scanned_pickle(own_bytes, monkeypatch):
    """The bytes handed to torch.load are the scanned data.pkl plus the named storages, nothing else."""
    entries = entries_of(own_bytes)
    seen: dict[str, bytes] = {}
    real_load = torch.load

    def spy(f, *a, **k):
        seen.update(entries_of(f.getvalue()))
        return real_load(f, *a, **k)

    monkeypatch.setattr(torch, "load", spy)
    data = archive({**entries, "archive/extra.bin": b"never read", "archive/data/999": b"unreferenced"})
    loader.unpickle(data, "x")
    assert seen["archive/data.pkl"] == entries["archive/data.pkl"]
    assert "archive/extra.bin" not in seen and "archive/data/999" not in seen
    assert {k for k in seen if "/data/" in k} == {k for k in entries if "/data/" in k}


# --- 1b. constructor calls of allowed classes ---------------------------------------------------------

CLASSES = [("torch.nn.modules.linear", "Linear"), ("models.yolo", "DetectionModel"), ("models.common", "Conv"),
           ("torch", "HalfTensor"), ("torch", "FloatTensor"), ("torch", "Tensor"), ("collections", "Counter"),
           ("torch.nn.modules.conv", "Conv2d"), ("numpy", "ndarray")]


def call_reduce(mod: str, name: str) -> bytes:
    return P().glob(mod, name).int(30000).int(30000).op(b"\x86R").done()


def call_newobj(mod: str, name: str) -> bytes:
    return P().glob(mod, name).int(30000).int(30000).op(b"\x86\x81").done()


def call_newobj_ex(mod: str, name: str) -> bytes:
    return P().glob(mod, name).int(30000).op(b"\x85}\x92").done()


def call_build_on_class(mod: str, name: str) -> bytes:
    return P().glob(mod, name).op(b"}").str("in_features").int(30000).op(b"sb").done()


def call_path(mod: str, name: str) -> bytes:
    """``DetectionModel('/dev/stdin')``: called, it would open and read that path."""
    return P().glob(mod, name).str("/dev/stdin").op(b"\x85R").done()


@pytest.mark.parametrize("how", [call_reduce, call_newobj, call_newobj_ex, call_build_on_class, call_path])
@pytest.mark.parametrize("cls", CLASSES, ids=[c[1] for c in CLASSES])
def test_constructor_calls_of_allowed_classes_are_refused(tmp_path, how, cls):
    err = refusal(torch_archive(how(*cls)), tmp_path)
    assert err.reason in ("call", "build", "pickle", "global"), (err.reason, str(err))
    assert "Nothing from it was executed" in str(err) or err.reason == "global"


def test_layers_are_restored_only_empty_and_filled_with_state(tmp_path):
    """NEWOBJ of a layer with no arguments plus BUILD of its attribute table is what torch.save writes."""
    pkl = saved({"model": nn.ReLU()})
    p = tmp_path / "relu.pt"
    p.write_bytes(pkl)
    assert b"\x81" in entries_of(pkl)["archive/data.pkl"]
    assert pickle_scan.scan_pickle(entries_of(pkl)["archive/data.pkl"], "x", pickle_scan.allowed_names(
        foreign_mod.safe_globals()), foreign_mod.module_class_paths()).nodes > 1


# --- 2. bounded memory from declared sizes ------------------------------------------------------------

VIEWS = {
    # name: (storage numel, offset, size, stride)
    "zero_stride_big": (1, 0, (4096, 4096), (0, 0)),
    "overlapping_big": (8191, 0, (4096, 4096), (1, 1)),
    "past_the_end": (50, 10, (100,), (1,)),
    "offset_past_end": (50, 60, (0,), (1,)),
    "stride_past_end": (100, 0, (10, 10), (100, 1)),
    "negative_like": (10, 0, (5,), (1 << 47,)),
    "too_many_dims": (1, 0, (1,) * 9, (1,) * 9),
}


@pytest.mark.parametrize("case", list(VIEWS))
@pytest.mark.parametrize("stype,itemsize", [("FloatStorage", 4), ("HalfStorage", 2)])
def test_tensor_views_are_checked_against_their_storage(tmp_path, case, stype, itemsize):
    numel, offset, size, stride = VIEWS[case]
    pkl = P().op(b"}").str("w").rebuild(stype, "0", numel, offset, size, stride).op(b"s").done()
    err = refusal(torch_archive(pkl, {"0": bytes(numel * itemsize)}), tmp_path)
    assert err.reason == "tensor", str(err)


@pytest.mark.parametrize("claimed", [1 << 30, 5, 3])
def test_declared_storage_must_match_its_record(tmp_path, claimed):
    pkl = P().op(b"}").str("w").rebuild("FloatStorage", "0", claimed, 0, (1,), (1,)).op(b"s").done()
    err = refusal(torch_archive(pkl, {"0": bytes(16)}), tmp_path)
    assert err.reason == "storage" and "record size" in str(err)


@pytest.mark.parametrize("views", [200, 400])
def test_many_views_of_one_storage_count_against_the_budget(tmp_path, views):
    """Each view is legal (dense, in bounds) but together they declare far more than the file holds."""
    p = P().op(b"](")
    for _ in range(views):
        p.rebuild("HalfStorage", "0", 1 << 20, 0, (1 << 20,), (1,))
    pkl = p.op(b"e").done()
    err = refusal(torch_archive(pkl, {"0": bytes(2 << 20)}), tmp_path)
    assert err.reason == "memory" and err.declared == views * (1 << 20) * 4


@pytest.mark.parametrize("shape", [(64, 16, 3, 3), (1000, 1000)])
def test_own_format_zero_stride_weights_are_refused(own_bytes, tmp_path, shape):
    """fp16 weights that are expanded views of one value: ``.float()`` or a copy would materialise them."""
    ckpt = own_ckpt(own_bytes)
    name = next(k for k, v in ckpt["state_dict"].items() if v.dim() == 4)
    ckpt["state_dict"][name] = torch.ones(1, dtype=torch.float16).expand(*shape)
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    assert refusal(buf.getvalue(), tmp_path).reason == "tensor"


@pytest.mark.parametrize("cls", ["HalfTensor", "FloatTensor", "ByteTensor", "Tensor"])
@pytest.mark.parametrize("op", [b"\x81", b"R"])
def test_tensor_types_are_never_created_from_a_size(tmp_path, cls, op):
    pkl = P().glob("torch", cls).int(700_000_000).op(b"\x85").op(op).done()
    assert refusal(torch_archive(pkl), tmp_path).reason == "call"


def test_parameter_with_attributes_or_hooks_is_refused(tmp_path):
    p = P().glob("torch._utils", "_rebuild_parameter").op(b"(").rebuild("FloatStorage", "0", 4, 0, (4,), (1,))
    p.op(b"\x88").glob("collections", "OrderedDict").op(b")R").int(0).glob("builtins", "set").op(b"s")
    p.op(b"t").op(b"R")
    err = refusal(torch_archive(p.done(), {"0": bytes(16)}), tmp_path)
    assert "gradient hooks" in str(err) or err.reason in ("call", "build")


YAML_CASES = {
    "anchors_int_huge": lambda d: d.__setitem__("anchors", 30_000_000),
    "anchors_list_huge": lambda d: d.__setitem__("anchors", [list(range(60_000))]),
    "anchor_levels": lambda d: d.__setitem__("anchors", [[10, 13]] * 1000),
    "spp_kernels": lambda d: d["backbone"].append([-1, 1, "SPP", [128, list(range(1, 20_000, 2))]]),
    "spp_shared": lambda d: d["backbone"].extend([[-1, 1, "SPP", [128, [5, 9, 13] * 30]]] * 3),
    "linear_arg": lambda d: d["backbone"].__setitem__(2, [-1, 1, "C3", [128, "nn.Linear(30000, 30000)"]]),
    "bottleneck_arg": lambda d: d["backbone"].__setitem__(2, [-1, 1, "Bottleneck", [16, "nn.Linear(30000, 30000)"]]),
    "conv_arg": lambda d: d["backbone"].__setitem__(0, [-1, 1, "Conv", [64, 3, 2, None, 1, "nn.Conv2d(8, 8, 3)"]]),
    "long_text": lambda d: d["backbone"].__setitem__(0, [-1, 1, "Conv", [64, 3, "(" * 5000]]),
    "rows": lambda d: d["backbone"].extend([[-1, 1, "Conv", [64, 1, 1]]] * 2000),
    "nested": lambda d: d["backbone"].__setitem__(0, [-1, 1, "Conv", [[[[[64]]]]]]),
    "nc_huge": lambda d: d.__setitem__("nc", 10**9),
    "width_inf": lambda d: d.__setitem__("width_multiple", math.inf),
    "repeats_nan": lambda d: d["backbone"].__setitem__(2, [-1, math.nan, "C3", [128]]),
}


@pytest.mark.parametrize("case", list(YAML_CASES))
def test_yaml_caps_refuse_before_building(case):
    d = copy.deepcopy(TINY)
    YAML_CASES[case](d)
    with pytest.raises(ModelConfigError):
        with torch.device("meta"):
            parse_model(d, ch=[3])


@pytest.mark.parametrize("case", ["anchors_int_huge", "spp_kernels", "bottleneck_arg", "linear_arg"])
def test_yaml_caps_through_the_loader(own_bytes, tmp_path, case):
    ckpt = own_ckpt(own_bytes)
    YAML_CASES[case](ckpt["yaml"])
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    err = refusal(buf.getvalue(), tmp_path)
    assert "cannot be built" in str(err) or err.reason == "description"


def test_argument_layers_are_weightless_activations():
    """The one kind of layer a YAML argument may build: nothing for the size estimate to miss."""
    d = copy.deepcopy(TINY)
    d["backbone"][0] = [-1, 1, "Conv", [64, 3, 2, None, 1, "nn.LeakyReLU(0.1)"]]
    seq, _ = parse_model(d, ch=[3])
    assert isinstance(seq[0].act, nn.LeakyReLU)
    check_model_dict(d)


# --- 3. bounded time: memo-shared structures ----------------------------------------------------------

def dag(depth: int, leaf: bytes = b"J\x01\x00\x00\x00") -> P:
    """t0 = (1,); t_k = (t_{k-1}, t_{k-1}): 2**depth leaves in a few bytes per level."""
    p = P().op(leaf).op(b"\x85").put(0)
    for k in range(1, depth + 1):
        p.get(k - 1).get(k - 1).op(b"\x86").put(k)
    return p


def list_dag(depth: int) -> P:
    p = P().op(b"]").int(1).op(b"a").put(0)
    for k in range(1, depth + 1):
        p.op(b"](").get(k - 1).get(k - 1).op(b"e").put(k)
    return p


DAGS = {
    "dict_key_hash": lambda: dag(80).op(b"}").get(80).int(1).op(b"s").done(),
    "set_hash": lambda: dag(80).glob("builtins", "set").op(b"]").get(80).op(b"a\x85R").done(),
    "names_repr": lambda: list_dag(60).op(b"}").str("names").get(60).op(b"s").done(),
    "model_value": lambda: dag(60).op(b"}").str("model").get(60).op(b"s").done(),
    "odict_key": lambda: dag(70).glob("collections", "OrderedDict").op(b")R").get(70).int(0).op(b"s").done(),
    "fan_out": lambda: dag(4).op(b"](").op(b"h\x04" * 400_000).op(b"e").done(),
    "self_cycle": lambda: P().op(b"]").put(0).get(0).op(b"a").done(),
}


def test_shared_structure_bombs_are_refused_quickly(tmp_path):
    """Each file loads in a child process under a wall-clock limit: a hash()/repr() of the expanded
    structure would run for ever, so a regression fails this test instead of hanging it."""
    files = {}
    for name, make in DAGS.items():
        p = tmp_path / f"{name}.pt"
        p.write_bytes(torch_archive(make()))
        assert p.stat().st_size < 1 << 20
        files[name] = str(p)
    script = (
        "import json, sys, time\n"
        "import gam_gui\n"
        "from gam_gui.checkpoints import CheckpointError\n"
        "out = {}\n"
        "for name, path in json.loads(sys.argv[1]).items():\n"
        "    t = time.monotonic()\n"
        "    try:\n"
        "        gam_gui.load_model(path, device='cpu')\n"
        "        out[name] = ['loaded', time.monotonic() - t]\n"
        "    except CheckpointError as e:\n"
        "        out[name] = [e.reason, time.monotonic() - t]\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(files)], capture_output=True, text=True,
                          timeout=240, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, (reason, seconds) in result.items():
        assert reason in ("shared-structure", "structure"), (name, reason)
        assert seconds < 30, (name, seconds)


def test_short_repr_walks_with_a_budget():
    x: tuple = (1,)
    for _ in range(200):
        x = (x, x)
    s = ck.short_repr(x, 50)
    assert len(s) <= 50 and s.startswith("((((")
    assert ck.short_repr("a" * 10**6, 20).endswith("...")
    assert ck.short_repr(10**5000, 40).startswith("<int of")


@pytest.mark.parametrize("names", ["dag", "big_int", "long_str"])
def test_names_are_described_with_a_budget(names):
    x: object = [1]
    for _ in range(100):
        x = [x, x]
    value = {"dag": x, "big_int": 10**5000, "long_str": "n" * 10**6}[names]
    table = ck.names_dict({0: value, 1: "ok"})
    assert table[1] == "ok" and len(table[0]) <= 200


# --- 4. the module tree that will run -----------------------------------------------------------------

def foreign(base: DetectionModel, edit) -> bytes:
    ul = to_ultralytics(base).half()
    edit(ul)
    return saved({"epoch": 3, "model": ul})


class ShadowTable(dict):
    """Pickles as an ``OrderedDict`` with instance attributes (BUILD state after its items): what a
    file does to shadow ``items``/``values`` on a layer table."""

    def __init__(self, items: dict, attrs: dict) -> None:
        super().__init__(items)
        self.attrs = attrs

    def __reduce__(self):
        return collections.OrderedDict, (), dict(self.attrs), None, iter(dict.items(self))


def _odict_attr(key: str):
    def edit(ul: nn.Module) -> None:
        ul.model[2].__dict__["_modules"] = ShadowTable(ul.model[2]._modules, {key: "hidden"})
    return edit


def _metadata_attr(ul: nn.Module) -> None:
    # the one OrderedDict BUILD torch itself writes (a state_dict's versions), on a layer table
    ul.model[2].__dict__["_modules"] = ShadowTable(ul.model[2]._modules, {"_metadata": {}})


def _hook(key: str):
    def edit(ul: nn.Module) -> None:
        getattr(ul.model[1], key)[0] = collections.OrderedDict  # an allowed callable as a hook
    return edit


def _stray(where: str):
    def edit(ul: nn.Module) -> None:
        bn = nn.BatchNorm2d(4)
        if where == "attr":
            ul.model[0].__dict__["extra"] = bn
        elif where == "list":
            ul.model[0].__dict__["extras"] = [1, [bn]]
        elif where == "dict":
            ul.model[-1].__dict__["cache"] = {"x": bn}
        elif where == "forward":
            ul.model[0].__dict__["forward"] = nn.Identity()
        elif where == "hooked_stray":
            bn._forward_hooks[0] = collections.OrderedDict
            ul.model[3].__dict__["side"] = bn
    return edit


def _zero_stride_param(ul: nn.Module) -> None:
    conv = next(m for m in ul.modules() if isinstance(m, nn.Conv2d))
    conv.weight = nn.Parameter(torch.ones(1, dtype=conv.weight.dtype).expand_as(conv.weight))


def _stride(values):
    def edit(ul: nn.Module) -> None:
        ul.model[-1].stride = torch.tensor(values)
    return edit


TREE_CASES = {
    "odict_items": (_odict_attr("items"), ("build",)),
    "odict_values": (_odict_attr("values"), ("build",)),
    "odict_keys": (_odict_attr("__iter__"), ("build",)),
    "odict_metadata": (_metadata_attr, ("structure",)),
    "forward_hook": (_hook("_forward_hooks"), ("structure",)),
    "forward_pre_hook": (_hook("_forward_pre_hooks"), ("structure",)),
    "state_dict_hook": (_hook("_state_dict_hooks"), ("structure",)),
    "stray_attr": (_stray("attr"), ("structure",)),
    "stray_list": (_stray("list"), ("structure",)),
    "stray_dict": (_stray("dict"), ("structure",)),
    "forward_module": (_stray("forward"), ("structure",)),
    "hooked_stray": (_stray("hooked_stray"), ("structure",)),
    "zero_stride_param": (_zero_stride_param, ("structure",)),
    "stride_4096": (_stride([8.0, 16.0, 4096.0]), ("structure", "stride")),
    "stride_foreign": (_stride([8.0, 16.0, 64.0]), ("stride",)),
    "stride_scaled": (_stride([16.0, 32.0, 64.0]), ("stride",)),
}


@pytest.fixture(scope="module")
def v5_base() -> DetectionModel:
    torch.manual_seed(0)
    return DetectionModel("yolov5n_GAM", nc=3).eval()


@pytest.mark.parametrize("case", list(TREE_CASES))
def test_module_tree_is_checked_on_what_will_run(v5_base, tmp_path, case):
    edit, reasons = TREE_CASES[case]
    err = refusal(foreign(v5_base, edit), tmp_path)
    assert err.reason in reasons, (err.reason, str(err))


# --- 5. the work size ---------------------------------------------------------------------------------

@pytest.mark.parametrize("imgsz,expected", [
    (20000, 1920), (math.inf, None), (math.nan, None), (-5, None), (1e308, 1920), (10**30, 1920),
    ("640", None), ([20000, 20000], 1920), (True, None), (333, 320), (16, 32), (None, None), ([640, 480], 640),
])
def test_stored_imgsz_is_validated(imgsz, expected):
    meta = clean_meta({"imgsz": imgsz, "note": "x" * 5000, "ok": 1}, 32, "t")
    assert meta.get("imgsz") == expected
    assert "note" not in meta and meta["ok"] == 1


@pytest.mark.parametrize("imgsz", [20000, math.inf, 10**30])
def test_loaded_model_runs_at_a_sane_size(own_bytes, tmp_path, imgsz):
    ckpt = own_ckpt(own_bytes)
    ckpt["meta"] = {"imgsz": imgsz}
    p = tmp_path / "m.pt"
    torch.save(ckpt, p)
    m = load_model(p, device="cpu")
    assert 32 <= m.meta.get("imgsz", 640) <= 1920 and m.meta.get("imgsz", 640) % int(m.stride.max()) == 0


def test_activations_are_estimated_at_the_size_that_will_run(own_bytes, tmp_path, monkeypatch, tiny_model):
    """A model that fits at 320 but not at 1920 is refused when the file asks for 1920, with figures."""
    small = estimate_work(tiny_model, 320).activation_bytes
    big = estimate_work(tiny_model, 1920).activation_bytes
    assert big > 30 * small  # activations grow with the area
    monkeypatch.setattr(limits, "ACTIVATION_BASE", (small + big) // 2)
    monkeypatch.setattr(limits, "ACTIVATION_PER_PARAM_BYTE", 0)
    for size, ok in ((320, True), (1920, False)):
        ckpt = own_ckpt(own_bytes)
        ckpt["meta"] = {"imgsz": size}
        p = tmp_path / f"m{size}.pt"
        torch.save(ckpt, p)
        if ok:
            load_model(p, device="cpu")
        else:
            with pytest.raises(CheckpointError) as ei:
                load_model(p, device="cpu")
            assert ei.value.reason == "activations" and ei.value.imgsz == 1920
            assert ei.value.estimate > ei.value.limit


def test_estimate_work_refuses_an_oversized_frame(tiny_model, monkeypatch):
    monkeypatch.setattr(limits, "ACTIVATION_BASE", 1 << 20)
    monkeypatch.setattr(limits, "ACTIVATION_PER_PARAM_BYTE", 0)
    with pytest.raises(CheckpointError) as ei:
        estimate_work(tiny_model, 1920)
    assert ei.value.reason == "activations"


# --- what must keep working -----------------------------------------------------------------------------

def test_shipped_weights_and_stand_ins_still_load(tmp_path, v5_base):
    shipped = load_model(None, device="cpu")
    assert shipped.stride.tolist() == [8.0, 16.0, 32.0] and shipped.meta["imgsz"] == 384
    ref = standins.write_yolov5_checkpoint(v5_base, tmp_path / "v5.pt")
    m5 = load_model(tmp_path / "v5.pt", device="cpu")
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        assert torch.allclose(m5(x), ref.half().float()(x)[0], atol=1e-2, rtol=1e-2)
    torch.manual_seed(0)
    v7 = DetectionModel("yolov7-tiny_GAM", nc=3).eval()
    standins_v7.write_yolov7_checkpoint(v7, tmp_path / "v7.pt", stripped=True)
    m7 = load_model(tmp_path / "v7.pt", device="cpu")
    assert m7.stride.tolist() == [8.0, 16.0, 32.0]
