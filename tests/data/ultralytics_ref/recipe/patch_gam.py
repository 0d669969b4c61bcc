"""Paste a GAM block into a scratch ultralytics install the way users do: the class at the end of
nn/modules/block.py, an import and a parse_model branch in nn/tasks.py. Idempotent."""
import sys
from pathlib import Path

root = Path(sys.argv[1])  # .../site-packages/ultralytics of a scratch venv
block = root / "nn/modules/block.py"
tasks = root / "nn/tasks.py"
GAM = '''

def gam_channel_shuffle(x, groups):
    b, c, h, w = x.shape
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class GAM_Attention(nn.Module):
    """GAM (Liu et al. 2021) as the blogs paste it: GAM_Attention(c1, c2, group=True, rate=4)."""

    def __init__(self, c1, c2, group=True, rate=4):
        super().__init__()
        self.channel_attention = nn.Sequential(
            nn.Linear(c1, int(c1 / rate)), nn.ReLU(inplace=True), nn.Linear(int(c1 / rate), c1))
        g = rate if group else 1
        self.spatial_attention = nn.Sequential(
            nn.Conv2d(c1, c1 // rate, kernel_size=7, padding=3, groups=g),
            nn.BatchNorm2d(c1 // rate), nn.ReLU(inplace=True),
            nn.Conv2d(c1 // rate, c2, kernel_size=7, padding=3, groups=g),
            nn.BatchNorm2d(c2))

    def forward(self, x):
        b, c, h, w = x.shape
        att = self.channel_attention(x.permute(0, 2, 3, 1).reshape(b, -1, c)).view(b, h, w, c).permute(0, 3, 1, 2)
        x = x * att
        return x * gam_channel_shuffle(self.spatial_attention(x).sigmoid(), 4)
'''
s = block.read_text()
if "class GAM_Attention" not in s:
    block.write_text(s + GAM)
t = tasks.read_text()
if "GAM_Attention" not in t:
    anchor = "from ultralytics.nn.modules import ("
    t = t.replace(anchor, "from ultralytics.nn.modules.block import GAM_Attention\n" + anchor, 1)
    branch = ("        elif m is GAM_Attention:\n"
              "            c1, c2 = ch[f], make_divisible(min(args[0], max_channels) * width, 8)\n"
              "            args = [c1, c2, *args[1:]]\n")
    assert t.count("        elif m is Concat:\n") == 1
    t = t.replace("        elif m is Concat:\n", branch + "        elif m is Concat:\n", 1)
    tasks.write_text(t)
print("patched", root)
