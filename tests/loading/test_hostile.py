"""Hostile checkpoints: a corpus, generated here, of files that try to run code, exhaust memory or confuse
the loader. Each must end in one clear :class:`CheckpointError` through the API and one ``gam-gui: error:``
line (exit 1, no traceback) through the CLI, and nothing may execute: every code payload's side effect is
a marker file that must not appear, and no child process may be spawned.

tests/loading/test_checkpoints.py already covers the basic os.system / subprocess.call / eval / exec / getattr /
__import__ payloads, one nested in ``opt``, a protocol-2 legacy pickle, half a file, an empty file, PNG
bytes, garbage in data.pkl, a Sequential state_dict and a CBAM block; this corpus adds the rest (and
runs every entry through the CLI as well).

Payloads that would only allocate memory if run are sized so that, should the defence regress, the
allocation fails at once (terabytes) or stays small (the depth and class-count cases), instead of
exhausting the shared machine.
"""

from __future__ import annotations

import builtins
import collections
import copy
import functools
import importlib
import io
import operator
import os
import pickle
import re
import struct
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest
import standins
import torch
from standins import to_ultralytics, ultralytics_modules
from torch import nn

import gam_gui
from gam_gui import cli
from gam_gui.checkpoints import CheckpointError, save_model
from gam_gui.data.shapes import render_sample
from gam_gui.models.yolov5 import DetectionModel

REPO = Path(__file__).resolve().parents[2]


class Payload:
    """Pickles as a call ``fn(*args)``: what a malicious checkpoint does on load."""

    def __init__(self, fn: Callable, *args: object) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args

    def __call__(self, *args: object) -> None:
        # pickle wants a callable in front of a call; a chained payload is only ever pickled here
        raise AssertionError("a payload must never run in the test process")


class EvilModule(nn.Module):
    """An nn.Module subclass outside the allowlist whose unpickling has a side effect."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def __setstate__(self, state: dict) -> None:
        Path(state["marker"]).touch()
        super().__setstate__(state)


def children() -> set[int]:
    """Child processes of this process (zombies included, so a child that already exited counts)."""
    out: set[int] = set()
    for f in Path("/proc/self/task").glob("*/children"):
        out |= {int(x) for x in f.read_text().split()}
    return out


@dataclass
class Ctx:
    """What case builders need: where to write, the valid model to start from, marker paths."""

    root: Path
    base: DetectionModel
    markers: dict[str, list[Path]] = field(default_factory=dict)

    def marker(self, case: str, tag: str = "") -> Path:
        m = self.root / "markers" / f"ran_{case}{tag}"
        self.markers.setdefault(case, []).append(m)
        return m

    def path(self, case: str) -> Path:
        return self.root / f"{case}.pt"

    def ul(self) -> nn.Module:
        """A fresh fp16 ultralytics stand-in copy of the base model (payloads go in after copying:
        ``copy.deepcopy`` of a payload would run it here)."""
        return to_ultralytics(self.base).half()

    def save(self, case: str, obj: object) -> Path:
        with ultralytics_modules():
            torch.save(obj, self.path(case))
        return self.path(case)

    def ckpt(self, case: str, **extra: object) -> Path:
        """An otherwise valid YOLOv5 ``train.py`` checkpoint with ``extra`` entries replaced."""
        ckpt = {"epoch": 3, "best_fitness": np.array([0.5]), "model": self.ul(), "ema": None, "updates": 10,
                "optimizer": None, "opt": {"epochs": 10, "imgsz": 640}, "git": {"commit": "abc"},
                "date": "2026-11-26T00:00:00"}
        ckpt.update(extra)
        return self.save(case, ckpt)

    def with_layer(self, case: str, edit: Callable[[nn.Module], None]) -> Path:
        """A valid checkpoint whose stand-in model was edited by ``edit`` after copying."""
        ul = self.ul()
        edit(ul)
        return self.save(case, {"epoch": 3, "model": ul})

    def own(self, case: str, **changes: object) -> Path:
        """The project's own format with some entries replaced."""
        good = self.root / "own_good.pt"
        if not good.exists():
            save_model(self.base, good, imgsz=320)
        ckpt = torch.load(good, weights_only=True)
        ckpt.update(changes)
        torch.save(ckpt, self.path(case))
        return self.path(case)

    def rezip(self, case: str, src: Path, edit: Callable[[str, bytes], bytes | None],
              extra: dict[str, tuple[bytes, int]] | None = None) -> Path:
        """Copy ``src``'s zip entries through ``edit(name, data)`` (None drops one) plus ``extra`` entries."""
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(self.path(case), "w") as zout:
            prefix = zin.namelist()[0].split("/")[0]
            for item in zin.infolist():
                data = edit(item.filename, zin.read(item.filename))
                if data is not None:
                    zout.writestr(item, data)
            for name, (data, method) in (extra or {}).items():
                zout.writestr(zipfile.ZipInfo(f"{prefix}/{name}"), data, compress_type=method)
        return self.path(case)


def sh(m: Path) -> str:
    return f"touch {m}"


def py(m: Path) -> str:
    return f"open({str(m)!r}, 'w').close()"


def os_mod() -> Payload:
    return Payload(builtins.__import__, "os")


# --- code execution -------------------------------------------------------------------------------------

def c_os_popen(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(os.popen, sh(c.marker(n)))})


def c_subprocess_popen(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(subprocess.Popen, ["sh", "-c", f"{sh(c.marker(n))}; sleep 3"])})


def c_subprocess_run(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(subprocess.run, ["touch", str(c.marker(n))])})


def c_partial_shell(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(functools.partial(subprocess.check_output, shell=True), sh(c.marker(n)))})


def c_partial_os_system(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(functools.partial(os.system, sh(c.marker(n))))})


def c_compile_exec(c: Ctx, n: str) -> Path:
    code = Payload(builtins.compile, py(c.marker(n)), "<ckpt>", "exec")
    return c.save(n, {"model": Payload(builtins.exec, code)})


def c_eval_import_chain(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(builtins.eval, f"__import__('os').system({sh(c.marker(n))!r})")})


def c_getattr_chain_runs(c: Ctx, n: str) -> Path:
    system = Payload(builtins.getattr, os_mod(), "system")
    return c.save(n, {"model": Payload(system, sh(c.marker(n)))})


def c_import_module_chain(c: Ctx, n: str) -> Path:
    call = Payload(builtins.getattr, Payload(importlib.import_module, "subprocess"), "call")
    return c.save(n, {"model": Payload(call, ["touch", str(c.marker(n))])})


def c_attrgetter(c: Ctx, n: str) -> Path:
    system = Payload(operator.attrgetter("system"), os_mod())
    return c.save(n, {"model": Payload(system, sh(c.marker(n)))})


def c_methodcaller(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(operator.methodcaller("system", sh(c.marker(n))), os_mod())})


def _legacy_evil(c: Ctx, n: str) -> Path:
    """A plain pickle that runs a command when loaded unsafely (the target of the loader payloads)."""
    p = c.root / f"{n}_target.pkl"
    p.write_bytes(pickle.dumps({"model": Payload(os.system, sh(c.marker(n, "_target")))}, protocol=2))
    return p


def c_torch_load_unsafe(c: Ctx, n: str) -> Path:
    # torch.load(f, None, pickle) loads with weights_only=False because a pickle module is given
    target = _legacy_evil(c, n)
    return c.save(n, {"model": Payload(torch.load, str(target), None, Payload(builtins.__import__, "pickle"))})


def c_torch_hub_load(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(torch.hub.load, "attacker/repo", "backdoor")})


def c_torch_jit_load(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(torch.jit.load, str(_legacy_evil(c, n)))})


def c_pickle_loads_nested(c: Ctx, n: str) -> Path:
    inner = pickle.dumps(Payload(os.system, sh(c.marker(n))), protocol=2)
    return c.save(n, {"model": Payload(pickle.loads, inner)})


def c_numpy_load_pickle(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(np.load, str(_legacy_evil(c, n)), None, True)})


def c_in_opt_popen(c: Ctx, n: str) -> Path:
    return c.ckpt(n, opt={"epochs": 10, "hyp": Payload(subprocess.Popen, ["touch", str(c.marker(n))])})


def c_in_git_eval(c: Ctx, n: str) -> Path:
    return c.ckpt(n, git={"remote": Payload(builtins.eval, py(c.marker(n)))})


def c_in_optimizer_state(c: Ctx, n: str) -> Path:
    return c.ckpt(n, optimizer={"state": {0: Payload(os.system, sh(c.marker(n)))}, "param_groups": []})


def c_in_conv_dict(c: Ctx, n: str) -> Path:
    m = c.marker(n)
    return c.with_layer(n, lambda ul: ul.model[0].__dict__.__setitem__("evil", Payload(os.system, sh(m))))


def c_in_detect_dict(c: Ctx, n: str) -> Path:
    m = c.marker(n)
    return c.with_layer(n, lambda ul: ul.model[-1].__dict__.__setitem__("grid", [Payload(builtins.exec, py(m))]))


def c_in_parameter_attr(c: Ctx, n: str) -> Path:
    m = c.marker(n)

    def edit(ul: nn.Module) -> None:
        conv = next(x for x in ul.modules() if isinstance(x, nn.Conv2d))
        conv.weight.note = Payload(os.system, sh(m))  # pickled through _rebuild_parameter_with_state

    return c.with_layer(n, edit)


def c_numpy_object_payload(c: Ctx, n: str) -> Path:
    return c.ckpt(n, best_fitness=np.array([Payload(os.system, sh(c.marker(n)))], dtype=object))


def c_numpy_object_plain(c: Ctx, n: str) -> Path:
    return c.ckpt(n, best_fitness=np.array([1, "a", None], dtype=object))


def c_module_not_allowed(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": EvilModule(str(c.marker(n)))})


def c_torch_module_not_allowed(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": nn.LSTM(4, 4)})


def c_protocol4_stack_global(c: Ctx, n: str) -> Path:
    evil = pickle.dumps({"model": Payload(os.system, sh(c.marker(n)))}, protocol=4)
    return c.rezip(n, c.own(f"{n}_src"), lambda name, data: evil if name.endswith("data.pkl") else data)


def c_legacy_torch_format(c: Ctx, n: str) -> Path:
    torch.save({"model": Payload(os.system, sh(c.marker(n)))}, c.path(n), _use_new_zipfile_serialization=False)
    return c.path(n)


def c_torchscript_archive(c: Ctx, n: str) -> Path:
    with warnings.catch_warnings():  # torch.jit.script is deprecated, and still what such files come from
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.script(nn.Linear(2, 2)).save(str(c.path(n)))
    return c.path(n)


# --- calls that would allocate unbounded memory or read other files -------------------------------------

def c_reduce_linear_huge(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(nn.Linear, 1 << 20, 1 << 20)})


def c_reduce_detection_model(c: Ctx, n: str) -> Path:
    cfg = c.root / "other.yaml"
    cfg.write_text((REPO / "gam_gui/models/cfg/yolov5n_GAM.yaml").read_text())
    # pickled as models.yolo.DetectionModel (allowlisted): called, it would open any path (/dev/zero ...)
    return c.save(n, {"model": Payload(standins.DetectionModel, str(cfg))})


def c_reduce_bytearray_huge(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(bytearray, 1 << 42)})


def c_reduce_ndarray_huge(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(np.ndarray, (1 << 21, 1 << 21))})


def c_reduce_numpy_reconstruct(c: Ctx, n: str) -> Path:
    from numpy._core.multiarray import _reconstruct

    return c.save(n, {"model": Payload(_reconstruct, np.ndarray, (1 << 40,), b"b")})


def c_rebuild_from_type_linear(c: Ctx, n: str) -> Path:
    return c.save(n, {"model": Payload(torch._tensor._rebuild_from_type_v2, nn.Linear, torch.Tensor,
                                       (1 << 20, 1 << 20), {})})


def c_parameter_backward_hook(c: Ctx, n: str) -> Path:
    def edit(ul: nn.Module) -> None:
        conv = next(x for x in ul.modules() if isinstance(x, nn.Conv2d))
        hooks = collections.OrderedDict({0: set})  # an allowed callable, called on every backward pass
        conv._parameters["weight"] = Payload(torch._utils._rebuild_parameter, conv.weight.data, True, hooks)

    return c.with_layer(n, edit)


def c_huge_storage_claim(c: Ctx, n: str) -> Path:
    """data.pkl claims a 4 GB storage for a 16-byte record."""
    ref = object()

    class Tensor:
        def __reduce__(self):
            return torch._utils._rebuild_tensor_v2, (ref, 0, (1 << 30,), (1,), False, collections.OrderedDict())

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: object) -> object:
            return ("storage", torch.FloatStorage, "0", "cpu", 1 << 30) if obj is ref else None

    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump({"model": Tensor()})
    src = c.save(f"{n}_src", {"model": torch.zeros(4)})
    return c.rezip(n, src, lambda name, data: buf.getvalue() if name.endswith("data.pkl") else data)


def c_zip_bomb(c: Ctx, n: str) -> Path:
    """A valid checkpoint plus one deflated entry that expands 1000-fold (64 MB from 64 KB)."""
    return c.rezip(n, c.own(f"{n}_src"), lambda name, data: data,
                   extra={"data/999": (bytes(64 << 20), zipfile.ZIP_DEFLATED)})


def c_forged_size(c: Ctx, n: str) -> Path:
    """The zip directory claims data.pkl is 4 GB."""
    data = bytearray(c.own(f"{n}_src").read_bytes())
    i = 0
    while (i := data.find(b"PK\x01\x02", i)) >= 0:
        name_len = struct.unpack("<H", data[i + 28:i + 30])[0]
        if data[i + 46:i + 46 + name_len].endswith(b"data.pkl"):
            data[i + 24:i + 28] = struct.pack("<I", 0xFFFFFFF0)
        i += 4
    c.path(n).write_bytes(bytes(data))
    return c.path(n)


def c_crc_mismatch(c: Ctx, n: str) -> Path:
    """One byte of data.pkl changed without its CRC: the archive no longer vouches for it."""
    data = bytearray(c.own(f"{n}_src").read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        off = next(i for i in zf.infolist() if i.filename.endswith("data.pkl")).header_offset
    name_len, extra_len = struct.unpack("<HH", data[off + 26:off + 30])  # the local header's own lengths
    start = off + 30 + name_len + extra_len
    data[start + 40] ^= 0x20
    c.path(n).write_bytes(bytes(data))
    return c.path(n)


# --- truncated, wrong and malformed files ---------------------------------------------------------------

def c_truncated_10_bytes(c: Ctx, n: str) -> Path:
    c.path(n).write_bytes(c.own(f"{n}_src").read_bytes()[:10])
    return c.path(n)


def c_truncated_tail(c: Ctx, n: str) -> Path:
    c.path(n).write_bytes(c.own(f"{n}_src").read_bytes()[:-100])
    return c.path(n)


def c_jpeg_renamed(c: Ctx, n: str) -> Path:
    c.path(n).write_bytes(cv2.imencode(".jpg", render_sample(1, (64, 80)).image)[1].tobytes())
    return c.path(n)


def c_text_file(c: Ctx, n: str) -> Path:
    c.path(n).write_text("best.pt\n" * 20)
    return c.path(n)


def c_own_yaml_is_path(c: Ctx, n: str) -> Path:
    # a path in place of the inline description: it was opened (a FIFO or /dev/zero would hang)
    cfg = c.root / "own.yaml"
    cfg.write_text((REPO / "gam_gui/models/cfg/yolov5n_GAM.yaml").read_text().replace("nc: 80", "nc: 3"))
    return c.own(n, yaml=str(cfg))


def c_own_width_bomb(c: Ctx, n: str) -> Path:
    return c.own(n, yaml={**c.base.yaml, "width_multiple": 1e4})


def c_own_depth_bomb(c: Ctx, n: str) -> Path:
    d = copy.deepcopy(c.base.yaml)
    d["backbone"][2][1] = 15_000  # 4950 repeats after depth_multiple: over the budget, still buildable
    return c.own(n, yaml=d)


def c_own_upsample_bomb(c: Ctx, n: str) -> Path:
    d = copy.deepcopy(c.base.yaml)
    row = next(r for r in d["head"] if r[2] == "nn.Upsample")
    row[3] = ["None", 10000, "nearest"]
    return c.own(n, yaml=d)


def c_own_unknown_block(c: Ctx, n: str) -> Path:
    d = copy.deepcopy(c.base.yaml)
    d["backbone"][1][2] = "CBAM"
    return c.own(n, yaml=d)


def c_own_other_weights(c: Ctx, n: str) -> Path:
    other = DetectionModel("yolov5s_GAM", nc=3)
    return c.own(n, state_dict={k: v.half() for k, v in other.state_dict().items()})


def c_own_version_text(c: Ctx, n: str) -> Path:
    return c.own(n, version="1; rm -rf /")


def c_bare_detection_state_dict(c: Ctx, n: str) -> Path:
    return c.save(n, c.base.state_dict())


def c_unknown_v8_block(c: Ctx, n: str) -> Path:
    class C2f(standins.C3):  # a YOLOv8 block name in a YOLOv5 pickle
        pass

    ul = to_ultralytics(c.base, class_override={type(c.base.model[2]): C2f}).half()
    with ultralytics_modules({"C2f": C2f}):
        torch.save({"model": ul}, c.path(n))
    return c.path(n)


def c_param_not_tensor(c: Ctx, n: str) -> Path:
    return c.with_layer(n, lambda ul: ul.model[0].conv._parameters.__setitem__("weight", [1, 2, 3]))


def c_child_not_module(c: Ctx, n: str) -> Path:
    return c.with_layer(n, lambda ul: ul.model._modules.__setitem__("3", "not a layer"))


def c_module_cycle(c: Ctx, n: str) -> Path:
    return c.with_layer(n, lambda ul: ul.model[1]._modules.__setitem__("loop", ul.model))


def c_forward_overridden(c: Ctx, n: str) -> Path:
    return c.with_layer(n, lambda ul: ul.model[0].__dict__.__setitem__("forward", "not a function"))


def c_from_index_out_of_range(c: Ctx, n: str) -> Path:
    return c.with_layer(n, lambda ul: setattr(ul.model[5], "f", 99))


def c_class_count_huge(c: Ctx, n: str) -> Path:
    def edit(ul: nn.Module) -> None:
        ul.model[-1].nc = 10**6
        del ul.names

    return c.with_layer(n, edit)


def c_stride_huge(c: Ctx, n: str) -> Path:
    return c.with_layer(n, lambda ul: setattr(ul.model[-1], "stride", torch.tensor([8.0, 16.0, 1e6])))


def c_upsample_bomb(c: Ctx, n: str) -> Path:
    def edit(ul: nn.Module) -> None:
        next(x for x in ul.modules() if isinstance(x, nn.Upsample)).scale_factor = 10000.0

    return c.with_layer(n, edit)


REFUSED = r"refused: .*Nothing from it was executed"
CORRUPT = r"truncated or corrupt|not a PyTorch checkpoint"
MALFORMED = r"the pickled model is (malformed|incomplete)"
#: case name -> (builder, what the message must say)
CASES: dict[str, tuple[Callable[[Ctx, str], Path], str]] = {
    "os_popen": (c_os_popen, r"refused: .*'(os|posix)\.popen'"),
    "subprocess_popen": (c_subprocess_popen, r"refused: .*'subprocess\.Popen'"),
    "subprocess_run": (c_subprocess_run, r"refused: .*'subprocess\.run'"),
    "partial_shell": (c_partial_shell, r"refused: .*'functools\.partial'"),
    "partial_os_system": (c_partial_os_system, r"refused: .*'functools\.partial'"),
    "compile_exec": (c_compile_exec, r"refused: .*'builtins\.(exec|compile)'"),
    "eval_import_chain": (c_eval_import_chain, r"refused: .*'builtins\.eval'"),
    "getattr_chain_runs": (c_getattr_chain_runs, r"refused: .*'builtins\.(getattr|__import__)'"),
    "import_module_chain": (c_import_module_chain, r"refused: .*(getattr|importlib)"),
    "attrgetter": (c_attrgetter, r"refused: .*'operator\.attrgetter'"),
    "methodcaller": (c_methodcaller, r"refused: .*'operator\.methodcaller'"),
    "torch_load_unsafe": (c_torch_load_unsafe, r"refused: .*'(torch\.serialization\.load|builtins\.__import__)'"),
    "torch_hub_load": (c_torch_hub_load, r"refused: .*'torch\.hub\.load'"),
    "torch_jit_load": (c_torch_jit_load, r"refused: .*'torch\.jit\._serialization\.load'"),
    "pickle_loads_nested": (c_pickle_loads_nested, r"refused: .*'_?pickle\.loads'"),
    "numpy_load_pickle": (c_numpy_load_pickle, r"refused: .*numpy.*load'"),
    "in_opt_popen": (c_in_opt_popen, r"refused: .*'subprocess\.Popen'"),
    "in_git_eval": (c_in_git_eval, r"refused: .*'builtins\.eval'"),
    "in_optimizer_state": (c_in_optimizer_state, r"refused: .*'posix\.system'"),
    "in_conv_dict": (c_in_conv_dict, r"refused: .*'posix\.system'"),
    "in_detect_dict": (c_in_detect_dict, r"refused: .*'builtins\.exec'"),
    "in_parameter_attr": (c_in_parameter_attr, r"refused: .*'posix\.system'"),
    "numpy_object_payload": (c_numpy_object_payload, REFUSED),
    "numpy_object_plain": (c_numpy_object_plain, r"refused: .*ObjectDType"),
    "module_not_allowed": (c_module_not_allowed, r"refused: .*EvilModule"),
    "torch_module_not_allowed": (c_torch_module_not_allowed, r"refused: .*LSTM"),
    "protocol4_stack_global": (c_protocol4_stack_global, r"refused: its pickle uses the \w+ instruction"),
    "legacy_torch_format": (c_legacy_torch_format, r"legacy \(non-zip\) torch pickle"),
    "torchscript_archive": (c_torchscript_archive, r"a TorchScript archive \(a compiled model that carries code\)"),
    "reduce_linear_huge": (c_reduce_linear_huge, r"calls 'torch\.nn\.modules\.linear\.Linear' directly"),
    "reduce_detection_model": (c_reduce_detection_model, r"calls 'models\.yolo\.DetectionModel' directly"),
    "reduce_bytearray_huge": (c_reduce_bytearray_huge, r"refused: .*bytearray"),
    "reduce_ndarray_huge": (c_reduce_ndarray_huge, r"calls 'numpy\.ndarray' directly"),
    "reduce_numpy_reconstruct": (c_reduce_numpy_reconstruct, r"refused: .*array of \d+ elements"),
    "rebuild_from_type_linear": (c_rebuild_from_type_linear, r"refused: .*not a tensor rebuilder"),
    "parameter_backward_hook": (c_parameter_backward_hook, r"malformed: .*carries gradient hooks"),
    "huge_storage_claim": (c_huge_storage_claim, r"cannot be read as a checkpoint: record size"),
    "zip_bomb": (c_zip_bomb, r"zip bomb"),
    "forged_size": (c_forged_size, r"zip bomb|truncated or corrupt"),
    "crc_mismatch": (c_crc_mismatch, r"truncated or corrupt"),
    "truncated_10_bytes": (c_truncated_10_bytes, CORRUPT),
    "truncated_tail": (c_truncated_tail, CORRUPT),
    "jpeg_renamed": (c_jpeg_renamed, r"not a PyTorch checkpoint"),
    "text_file": (c_text_file, r"not a PyTorch checkpoint"),
    "own_yaml_is_path": (c_own_yaml_is_path, r"model description is a str, not a model dict"),
    "own_width_bomb": (c_own_width_bomb, r"needs [\d.]+ M values but the file holds"),
    "own_depth_bomb": (c_own_depth_bomb, r"asks for \d+ layers"),
    "own_upsample_bomb": (c_own_upsample_bomb, r"GB of activations"),
    "own_unknown_block": (c_own_unknown_block, r"cannot be built: .*CBAM"),
    "own_other_weights": (c_own_other_weights, r"weights do not fit its model description: .*(size mismatch|key)"),
    "own_version_text": (c_own_version_text, r"format version .* not a number"),
    "bare_detection_state_dict": (c_bare_detection_state_dict, r"bare state_dict"),
    "unknown_v8_block": (c_unknown_v8_block, r"custom block 'models\.common\.C2f'"),
    "param_not_tensor": (c_param_not_tensor, MALFORMED + r".*is a list, not a tensor"),
    "child_not_module": (c_child_not_module, MALFORMED + r".*not a layer"),
    "module_cycle": (c_module_cycle, MALFORMED + r".*contains itself"),
    "forward_overridden": (c_forward_overridden, MALFORMED + r".*overrides its method 'forward'"),
    "from_index_out_of_range": (c_from_index_out_of_range, MALFORMED + r".*layer 5 has a bad 'from'"),
    "class_count_huge": (c_class_count_huge, MALFORMED + r".*class count"),
    "stride_huge": (c_stride_huge, MALFORMED + r".*strides"),
    "upsample_bomb": (c_upsample_bomb, r"GB of activations"),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[dict[str, Path], dict[str, list[Path]], Path]:
    """Every case written once: case -> file, case -> marker files, and the marker folder."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "markers").mkdir()
    torch.manual_seed(0)
    base = DetectionModel("yolov5n_GAM", nc=3).eval()
    base.names = {0: "circle", 1: "triangle", 2: "square"}
    ctx = Ctx(root, base)
    files = {name: build(ctx, name) for name, (build, _) in CASES.items()}
    assert "models" not in sys.modules  # the stand-ins were only importable while writing
    assert not any((root / "markers").iterdir()), "building the corpus ran a payload"
    return files, ctx.markers, root / "markers"


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("img") / "frame.png"
    cv2.imwrite(str(p), render_sample(3, (96, 128)).image)
    return p


def assert_clear(msg: str, path: Path, pattern: str) -> None:
    """One line, naming the file, saying why, and no Python internals."""
    assert "\n" not in msg.strip(), msg
    assert str(path) in msg, msg
    assert re.search(pattern, msg), f"{msg!r} does not match {pattern!r}"
    assert "Traceback" not in msg and len(msg) < 600, msg


def assert_nothing_ran(markers: dict[str, list[Path]], case: str, before: set[int]) -> None:
    for m in markers.get(case, []):
        assert not m.exists(), f"{case}: the payload ran ({m.name} exists)"
    assert children() <= before, f"{case}: a process was spawned"


@pytest.mark.parametrize("case", list(CASES))
def test_api_refuses(corpus, case):
    files, markers, _ = corpus
    before = children()
    t0 = time.monotonic()
    with pytest.raises(CheckpointError) as ei:
        gam_gui.load_model(files[case], device="cpu")
    assert time.monotonic() - t0 < 20
    assert_clear(str(ei.value), files[case], CASES[case][1])
    assert_nothing_ran(markers, case, before)


@pytest.mark.parametrize("case", list(CASES))
def test_cli_refuses(corpus, image, tmp_path, capsys, case):
    files, markers, _ = corpus
    before = children()
    out = tmp_path / "out"
    rc = cli.main(["export", "--weights", str(files[case]), "--source", str(image), "--out", str(out),
                   "--device", "cpu"])
    captured = capsys.readouterr()
    assert rc == 1
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("gam-gui: error: "), captured.err
    assert_clear(lines[0], files[case], CASES[case][1])
    assert captured.out == ""
    assert not out.exists() or not any(out.iterdir())
    assert_nothing_ran(markers, case, before)


@pytest.mark.parametrize("case", ["in_opt_popen", "getattr_chain_runs", "own_width_bomb"])
def test_cli_process_exits_1_without_traceback(corpus, image, tmp_path, case):
    """The real entry point in a fresh interpreter (where the ``models`` package does not exist either)."""
    files, markers, _ = corpus
    before = children()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-m", "gam_gui.cli", "export", "--weights", str(files[case]),
                           "--source", str(image), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and "Warning" not in ln]
    assert len(lines) == 1 and lines[0].startswith("gam-gui: error: "), proc.stderr
    assert_clear(lines[0], files[case], CASES[case][1])
    assert "Traceback" not in proc.stderr
    assert_nothing_ran(markers, case, before)  # the child itself was reaped by subprocess.run


def test_no_marker_anywhere_and_corpus_size(corpus):
    """After every load attempt above: not one side effect, and the corpus is the size reported."""
    _, _, marker_dir = corpus
    assert not any(marker_dir.iterdir())
    assert len(CASES) >= 60


def test_valid_checkpoint_still_loads_after_the_corpus(corpus):
    """The refusals are not a blanket: the untouched own-format file of the corpus loads and runs."""
    files, _, _ = corpus
    model = gam_gui.load_model(files["own_other_weights"].with_name("own_good.pt"), device="cpu")
    dets = gam_gui.detect(model, np.zeros((64, 64, 3), np.uint8), imgsz=64)
    assert isinstance(dets, list)
