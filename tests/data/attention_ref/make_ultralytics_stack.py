"""A real ultralytics 8.4 checkpoint stacking GAM with the registry's blocks, and its outputs.

Run with the scratch venv's python (ultralytics 8.4.190, GAM_Attention pasted into its block.py as the
blogs do): ``/tmp/v_ul84/bin/python make_ultralytics_stack.py OUT_DIR``. The tutorial blocks
(tutorial_blocks.py, restated for the tests) are put at run time under
``ultralytics.nn.extra_modules.attention`` and handed to the package's own parse_model, which builds
unknown names with their YAML arguments as written; ultralytics' own CBAM comes from
``ultralytics.nn.modules.conv``. The file is saved as the trainer's stripped best.pt is (fp16 model,
no optimizer), and the package's own forward of the fp16-rounded weights is stored beside it.
"""

import importlib.util
import sys
import types
from copy import deepcopy
from pathlib import Path

import torch
import ultralytics
from ultralytics.nn import tasks
from ultralytics.nn.modules.conv import CBAM
from ultralytics.nn.tasks import DetectionModel

HERE = Path(__file__).parent
spec = importlib.util.spec_from_file_location("tutorial_blocks", HERE / "tutorial_blocks.py")
T = importlib.util.module_from_spec(spec)
spec.loader.exec_module(T)

MODULE = "ultralytics.nn.extra_modules.attention"
fake = types.ModuleType(MODULE)
sys.modules["ultralytics.nn.extra_modules"] = types.ModuleType("ultralytics.nn.extra_modules")
sys.modules[MODULE] = fake
for obj in vars(T).values():
    name = getattr(obj, "pickled_as", None)
    if isinstance(obj, type) and name and name not in ("CBAM", "ChannelAttention", "SpatialAttention"):
        obj.__name__ = obj.__qualname__ = name
        obj.__module__ = MODULE
        setattr(fake, name, obj)
        vars(tasks)[name] = obj  # parse_model finds blocks in its module globals
vars(tasks)["CBAM"] = CBAM  # shipped in ultralytics.nn.modules.conv, not imported by tasks.py

YAML = {
    "nc": 3,
    "reg_max": 1,  # a small head (no DFL), so the file stays small
    "backbone": [
        [-1, 1, "Conv", [8, 3, 2]],  # 0
        [-1, 1, "Conv", [8, 3, 2]],  # 1
        [-1, 1, "C2f", [8, True]],  # 2
        [-1, 1, "Conv", [16, 3, 2]],  # 3 P3
        [-1, 1, "C2f", [16, True]],  # 4
        [-1, 1, "CBAM", [16]],  # 5 ultralytics' CBAM(c1)
        [-1, 1, "Conv", [16, 3, 2]],  # 6 P4
        [-1, 1, "C2f", [16, True]],  # 7
        [-1, 1, "CoordAtt", [16, 16, 8]],  # 8
        [-1, 1, "Conv", [16, 3, 2]],  # 9 P5
        [-1, 1, "SPPF", [16, 5]],  # 10
        [-1, 1, "GAM_Attention", [16]],  # 11 (seed recipe, grouped)
    ],
    "head": [
        [-1, 1, "nn.Upsample", [None, 2, "nearest"]],  # 12
        [[-1, 8], 1, "Concat", [1]],  # 13
        [-1, 1, "C2f", [16]],  # 14
        [-1, 1, "SimAM", [1e-4]],  # 15
        [-1, 1, "nn.Upsample", [None, 2, "nearest"]],  # 16
        [[-1, 5], 1, "Concat", [1]],  # 17
        [-1, 1, "C2f", [16]],  # 18
        [-1, 1, "EMA", [16, 4]],  # 19 P3 out
        [-1, 1, "Conv", [16, 3, 2]],  # 20
        [[-1, 15], 1, "Concat", [1]],  # 21
        [-1, 1, "C2f", [16]],  # 22
        [-1, 1, "SEAttention", [16, 4]],  # 23 P4 out
        [-1, 1, "Conv", [16, 3, 2]],  # 24
        [[-1, 11], 1, "Concat", [1]],  # 25
        [-1, 1, "C2f", [16]],  # 26
        [-1, 1, "TripletAttention", []],  # 27 P5 out
        [[19, 23, 27], 1, "Detect", ["nc"]],  # 28
    ],
}

torch.manual_seed(27)
model = DetectionModel(YAML, ch=3, nc=3, verbose=False)
g = torch.Generator().manual_seed(5)
with torch.no_grad():
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) * 0.2 - 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
        if name.endswith("spatial_attention") and isinstance(m, torch.nn.Sequential):
            m[0].weight.mul_(8)
model.names = {0: "circle", 1: "square", 2: "star"}
out = Path(sys.argv[1])
ckpt = {"epoch": -1, "best_fitness": None, "model": deepcopy(model).half(), "ema": None, "updates": None,
        "optimizer": None, "train_args": {"imgsz": 64}, "date": "2026-12-07", "version": ultralytics.__version__}
for p in ckpt["model"].parameters():
    p.requires_grad = False
torch.save(ckpt, out / "v8_stack_best.pt")
ref = deepcopy(model).half().float().eval()
x = torch.rand(1, 3, 64, 64, generator=g).half().float()  # stored as fp16: exact either way
with torch.no_grad():
    y = ref(x)
    y = y[0] if isinstance(y, (list, tuple)) else y
torch.save({"x": x.half(), "y": y, "ultralytics_version": ultralytics.__version__}, out / "v8_stack_out.pt")
print(sum(p.numel() for p in model.parameters()), y.shape)
