"""Reference outputs of ultralytics 8.4's own CBAM / ChannelAttention / SpatialAttention (run in /tmp/v_ul84)."""
import sys

import torch
import ultralytics
from ultralytics.nn.modules.conv import CBAM, ChannelAttention, SpatialAttention

torch.manual_seed(27)
out = {"ultralytics_version": ultralytics.__version__}
x = torch.randn(2, 16, 7, 9)
BLOCKS = (("CBAM", CBAM(16, 7)), ("ChannelAttention", ChannelAttention(16)), ("SpatialAttention", SpatialAttention(3)))
for name, m in BLOCKS:
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.5)
    m.eval()
    with torch.no_grad():
        y = m(x)
    out[name] = {"state": {k: v.clone() for k, v in m.state_dict().items()}, "y": y}
out["x"] = x
torch.save(out, sys.argv[1])
print({k: (list(v["state"]) if isinstance(v, dict) else v) for k, v in out.items() if k != "x"})
