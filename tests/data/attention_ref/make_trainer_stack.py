"""Real ultralytics 8.4 *trainer* files, YOLO11 layout, stacking GAM with ten other attention blocks.

Run with the scratch venv's python (ultralytics 8.4.190 with ``GAM_Attention`` pasted into its
``nn/modules/block.py`` by ``tests/data/ultralytics_ref/recipe/patch_gam.py``)::

    /tmp/v_ul84/bin/python make_trainer_stack.py WORK_DIR OUT_DIR

What a tutorial reader does, done at run time so the scratch install stays as it is:

* the blocks' code is "pasted at the end of ``ultralytics/nn/modules/block.py``": the classes below
  (and ``tutorial_blocks.py`` beside this file) are given that module path and set on that module, so
  the trainer pickles them as ``ultralytics.nn.modules.block.<Name>``;
* their names are "imported in ``tasks.py``" (set in its globals) and ``parse_model`` gets the
  tutorials' branches: ``c2 = ch[f]; args = [c2, *args]`` for the blocks that keep their width, and
  CoordAtt listed like ``Conv`` (``c1, c2 = ch[f], width-scaled args[0]``), SimAM and TripletAttention
  built by the default branch (the row's arguments as written);
* ``YOLO(yaml).train(...)`` is the package's own trainer (CPU, 128 px, 150 epochs, the 40 images of
  ``tests/data/ultralytics_ref``). A callback copies ``last.pt`` while it is still the full
  checkpoint (model None, ``ema``, ``optimizer``, ``updates``, ``train_args``): the trainer strips it
  at the end.

Written to OUT_DIR: ``v11_trainer_best.pt`` (stripped, as the trainer leaves it), ``v11_trainer_last.pt``
(the full last epoch) and ``v11_trainer_out.pt``: fixed inputs and the package's own outputs for both
files (the model's output; for best.pt also every attention layer's output on the first input), so the
tests need no ultralytics.
"""

from __future__ import annotations

import importlib.util
import inspect
import shutil
import sys
from pathlib import Path

import torch
import ultralytics
from torch import nn
from ultralytics import YOLO
from ultralytics.nn import tasks
from ultralytics.nn.modules import block as ul_block

HERE = Path(__file__).parent
spec = importlib.util.spec_from_file_location("tutorial_blocks", HERE / "tutorial_blocks.py")
T = importlib.util.module_from_spec(spec)
spec.loader.exec_module(T)
PASTED = "ultralytics.nn.modules.block"


class SharedChannelGate(nn.Module):
    """CBAM's channel half as the tutorials with ``sharedMLP`` write it: one bias-free MLP (as 1x1
    convs) on the average- and the max-pooled map, the two summed before the sigmoid."""

    def __init__(self, c: int, ratio: int = 8) -> None:
        super().__init__()
        self.avg_pool, self.max_pool = nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool2d(1)
        hidden = max(c // ratio, 1)
        self.sharedMLP = nn.Sequential(nn.Conv2d(c, hidden, 1, bias=False), nn.ReLU(),
                                       nn.Conv2d(hidden, c, 1, bias=False))
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.sharedMLP(self.avg_pool(x)) + self.sharedMLP(self.max_pool(x)))


class CBAM(nn.Module):
    """The tutorials' CBAM(c1, ratio, kernel): channel gate, then a 7x7 spatial gate on [mean, max]."""

    def __init__(self, c1: int, ratio: int = 8, kernel_size: int = 7) -> None:
        super().__init__()
        self.channel_attention = SharedChannelGate(c1, ratio)
        self.spatial_attention = T.TutSpatialAttention(kernel_size)

    def forward(self, x):
        x = x * self.channel_attention(x)
        return x * self.spatial_attention(x)


BLOCKS = {  # name in the file -> class (tutorial_blocks.py restates the rest)
    "ChannelAttention": SharedChannelGate, "SpatialAttention": T.TutSpatialAttention, "CBAM": CBAM,
    "EfficientChannelAttention": T.TutECA, "h_sigmoid": T.TutHSigmoid, "h_swish": T.TutHSwish,
    "CoordAtt": T.TutCoordAtt, "ShuffleAttention": T.TutShuffleAttention, "Channel_Att": T.TutChannelAtt,
    "NAMAttention": T.TutNAMAttention, "SKAttention": T.TutSKAttention, "SimAM": T.TutSimAM, "EMA": T.TutEMA,
    "SEAttention": T.TutSEAttention, "BasicConv": T.TutBasicConv, "ZPool": T.TutZPool,
    "AttentionGate": T.TutAttentionGate, "TripletAttention": T.TutTripletAttention,
}
for name, cls in BLOCKS.items():  # "pasted at the end of block.py"
    cls.__name__ = cls.__qualname__ = name
    cls.__module__ = PASTED
    setattr(ul_block, name, cls)
    vars(tasks)[name] = cls  # "from ultralytics.nn.modules.block import ..." in tasks.py

# the tutorials' parse_model branches, inserted before Concat's as they tell users to
src = inspect.getsource(tasks.parse_model)
anchor = "        elif m is Concat:\n"
assert src.count(anchor) == 1
branch = ("        elif m in {CBAM, EfficientChannelAttention, ShuffleAttention, NAMAttention, SKAttention, EMA,\n"
          "                   SEAttention}:\n"
          "            c2 = ch[f]\n"
          "            args = [c2, *args]\n"
          "        elif m is CoordAtt:\n"
          "            c1, c2 = ch[f], make_divisible(min(args[0], max_channels) * width, 8)\n"
          "            args = [c1, c2, *args[1:]]\n")
exec(compile(src.replace(anchor, branch + anchor), tasks.__file__, "exec"), vars(tasks))

YAML = """\
# YOLO11 (C3k2, SPPF, C2PSA) at a tiny width, with GAM and ten other attention blocks
nc: 5
reg_max: 1 # a head without DFL bins, so the files stay small
scales:
  t: [0.50, 0.0625, 256]
backbone:
  - [-1, 1, Conv, [64, 3, 2]] # 0-P1/2
  - [-1, 1, Conv, [128, 3, 2]] # 1-P2/4
  - [-1, 2, C3k2, [256, False, 0.25]] # 2
  - [-1, 1, SimAM, [1e-4]] # 3 no channel argument: built with its row as written
  - [-1, 1, Conv, [256, 3, 2]] # 4-P3/8
  - [-1, 2, C3k2, [512, False, 0.25]] # 5
  - [-1, 1, CBAM, [8, 7]] # 6 the tutorials' CBAM (sharedMLP)
  - [-1, 1, Conv, [512, 3, 2]] # 7-P4/16
  - [-1, 2, C3k2, [512, False]] # 8
  - [-1, 1, CoordAtt, [512, 8]] # 9
  - [-1, 1, Conv, [1024, 3, 2]] # 10-P5/32
  - [-1, 2, C3k2, [1024, True]] # 11
  - [-1, 1, TripletAttention, []] # 12
  - [-1, 1, SPPF, [1024, 5]] # 13
  - [-1, 2, C2PSA, [1024]] # 14
  - [-1, 1, GAM_Attention, [1024]] # 15
head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]] # 16
  - [[-1, 9], 1, Concat, [1]] # 17
  - [-1, 2, C3k2, [512, False]] # 18
  - [-1, 1, ShuffleAttention, [16, 4]] # 19
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]] # 20
  - [[-1, 6], 1, Concat, [1]] # 21
  - [-1, 2, C3k2, [256, False]] # 22
  - [-1, 1, SKAttention, [[1, 3], 16, 1, 8]] # 23
  - [-1, 1, EMA, [4]] # 24 P3 out
  - [-1, 1, Conv, [256, 3, 2]] # 25
  - [[-1, 19], 1, Concat, [1]] # 26
  - [-1, 2, C3k2, [512, False]] # 27
  - [-1, 1, EfficientChannelAttention, []] # 28
  - [-1, 1, SEAttention, [4]] # 29 P4 out
  - [-1, 1, Conv, [512, 3, 2]] # 30
  - [[-1, 15], 1, Concat, [1]] # 31
  - [-1, 2, C3k2, [1024, False]] # 32
  - [-1, 1, NAMAttention, []] # 33 P5 out
  - [[24, 29, 33], 1, Detect, [nc]] # 34
"""
ATTENTION_LAYERS = (3, 6, 9, 12, 15, 19, 23, 24, 28, 29, 33)


def main(work: Path, out: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    if not data.exists():
        ref = HERE.parent / "ultralytics_ref"
        shutil.copytree(ref / "images", data / "images")
        shutil.copytree(ref / "labels", data / "labels")
        shutil.copy(ref / "data.yaml", data / "data.yaml")
    cfg = work / "yolo11t-attn.yaml"  # the "t" in the name picks the scale
    cfg.write_text(YAML)
    full = work / "last_full.pt"

    def keep_full(trainer) -> None:
        shutil.copy(trainer.last, full)

    model = YOLO(str(cfg))
    model.add_callback("on_model_save", keep_full)
    model.train(data=str(data / "data.yaml"), imgsz=128, epochs=150, batch=8, workers=0, device="cpu", amp=False,
                plots=False, seed=0, deterministic=True, project=str(work / "runs"), name="v11_attn",
                exist_ok=True, close_mosaic=10, warmup_epochs=2, optimizer="SGD", lr0=0.02,
                channels_last=False)  # CPU validation in NHWC breaks the tutorials' .view() calls
    weights = work / "runs" / "v11_attn" / "weights"
    shutil.copy(weights / "best.pt", out / "v11_trainer_best.pt")
    shutil.copy(full, out / "v11_trainer_last.pt")

    g = torch.Generator().manual_seed(11)
    xs = [torch.rand(1, 3, 64, 64, generator=g).half(), torch.rand(1, 3, 32, 96, generator=g).half()]
    ref: dict = {"x": xs, "ultralytics_version": ultralytics.__version__, "attention_layers": list(ATTENTION_LAYERS)}
    for tag, f in (("best", out / "v11_trainer_best.pt"), ("last", out / "v11_trainer_last.pt")):
        ckpt = torch.load(f, map_location="cpu", weights_only=False)
        net = (ckpt.get("ema") or ckpt["model"]).float().eval()
        seen: dict[int, torch.Tensor] = {}

        def keep(m, a, o, seen=seen) -> None:
            seen[m.i] = o.detach().clone()

        hooks = [net.model[i].register_forward_hook(keep) for i in ATTENTION_LAYERS]
        ys, layers = [], []
        with torch.no_grad():
            for x in xs:
                y = net(x.float())
                ys.append(y[0] if isinstance(y, (list, tuple)) else y)
                layers.append(dict(seen))
        for h in hooks:
            h.remove()
        ref[tag] = {"y": ys, "layers": layers[0] if tag == "best" else {}, "epoch": ckpt.get("epoch"),
                    "types": {i: type(net.model[i]).__name__ for i in ATTENTION_LAYERS}}
        print(tag, f.stat().st_size, sum(p.numel() for p in net.parameters()), [y.shape for y in ys])
    torch.save(ref, out / "v11_trainer_out.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
