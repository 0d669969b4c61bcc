"""Tutorial-style restatements of the attention blocks, written for the tests (not copied): each keeps
the layer names and the forward order of the public tutorial code, so a file pickled from it has the
same tensors, and the registry's re-implementation must give the same output. Each class says which
class name its pickles carry (``pickled_as``).

ultralytics' own CBAM is not restated here: its outputs are stored in
``tests/data/attention_ref/ultralytics_cbam.pt`` (made by ``make_ultralytics_ref.py`` in a scratch venv
with ultralytics 8.4.190).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
from torch import nn


class TutChannelAttention(nn.Module):
    pickled_as = "ChannelAttention"

    def __init__(self, c: int, ratio: int = 16, layout: str = "f1f2") -> None:
        super().__init__()
        self.avg_pool, self.max_pool = nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool2d(1)
        if layout == "f1f2":  # the layout is told by the child names (no attribute: pickles carry none)
            self.f1 = nn.Conv2d(c, c // ratio, 1, bias=False)
            self.relu = nn.ReLU()
            self.f2 = nn.Conv2d(c // ratio, c, 1, bias=False)
        else:
            self.sharedMLP = nn.Sequential(nn.Conv2d(c, c // ratio, 1, bias=False), nn.ReLU(),
                                           nn.Conv2d(c // ratio, c, 1, bias=False))
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        if "f1" in self._modules:
            a = self.f2(self.relu(self.f1(self.avg_pool(x))))
            m = self.f2(self.relu(self.f1(self.max_pool(x))))
        else:
            a, m = self.sharedMLP(self.avg_pool(x)), self.sharedMLP(self.max_pool(x))
        return self.sigmoid(a + m)  # the gate only: the tutorial's CBAM multiplies


class TutSpatialAttention(nn.Module):
    pickled_as = "SpatialAttention"

    def __init__(self, k: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, k, padding=k // 2, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        stats = torch.cat([torch.mean(x, 1, keepdim=True), torch.max(x, 1, keepdim=True)[0]], 1)
        return self.sigmoid(self.conv(stats))


class TutCBAM(nn.Module):
    pickled_as = "CBAM"

    def __init__(self, c1: int, c2: int, ratio: int = 16, k: int = 7, layout: str = "f1f2") -> None:
        super().__init__()
        self.channel_attention = TutChannelAttention(c1, ratio, layout)
        self.spatial_attention = TutSpatialAttention(k)

    def forward(self, x):
        out = self.channel_attention(x) * x
        return self.spatial_attention(out) * out


class TutSEAttention(nn.Module):
    pickled_as = "SEAttention"

    def __init__(self, channel: int, reduction: int = 16) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channel, channel // reduction, bias=False), nn.ReLU(inplace=True),
                                nn.Linear(channel // reduction, channel, bias=False), nn.Sigmoid())

    def forward(self, x):
        b, c = x.shape[:2]
        return x * self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1).expand_as(x)


class TutSE(nn.Module):
    pickled_as = "SE"

    def __init__(self, c1: int, c2: int, ratio: int = 16) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.l1 = nn.Linear(c1, c1 // ratio, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.l2 = nn.Linear(c1 // ratio, c1, bias=False)
        self.sig = nn.Sigmoid()

    def forward(self, x):
        b, c = x.shape[:2]
        y = self.sig(self.l2(self.relu(self.l1(self.avgpool(x).view(b, c)))))
        return x * y.view(b, c, 1, 1)


class TutECA(nn.Module):
    """``EfficientChannelAttention(c, b=1, gamma=2)``: kernel from the channel count, ``conv1``."""

    pickled_as = "EfficientChannelAttention"

    def __init__(self, c: int, b: int = 1, gamma: int = 2) -> None:
        super().__init__()
        t = int(abs((math.log(c, 2) + b) / gamma))
        k = t if t % 2 else t + 1
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv1 = nn.Conv1d(1, 1, kernel_size=k, padding=int(k / 2), bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        y = self.avg_pool(x)  # (B, C, 1, 1)
        y = self.conv1(y.squeeze(-1).transpose(-1, -2)).transpose(-1, -2).unsqueeze(-1)
        return x * self.sigmoid(y)


class TutECAAttention(nn.Module):
    """``ECAAttention(kernel_size=3)``: ``gap`` and a conv with bias."""

    pickled_as = "ECAAttention"

    def __init__(self, kernel_size: int = 3) -> None:
        super().__init__()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.conv = nn.Conv1d(1, 1, kernel_size=kernel_size, padding=(kernel_size - 1) // 2)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        y = self.gap(x).squeeze(-1).permute(0, 2, 1)
        y = self.sigmoid(self.conv(y)).permute(0, 2, 1).unsqueeze(-1)
        return x * y.expand_as(x)


class TutHSigmoid(nn.Module):
    pickled_as = "h_sigmoid"

    def __init__(self) -> None:
        super().__init__()
        self.relu = nn.ReLU6(inplace=True)

    def forward(self, x):
        return self.relu(x + 3) / 6


class TutHSwish(nn.Module):
    pickled_as = "h_swish"

    def __init__(self) -> None:
        super().__init__()
        self.sigmoid = TutHSigmoid()

    def forward(self, x):
        return x * self.sigmoid(x)


class TutCoordAtt(nn.Module):
    pickled_as = "CoordAtt"

    def __init__(self, inp: int, oup: int, reduction: int = 32) -> None:
        super().__init__()
        mip = max(8, inp // reduction)
        self.pool_h, self.pool_w = nn.AdaptiveAvgPool2d((None, 1)), nn.AdaptiveAvgPool2d((1, None))
        self.conv1 = nn.Conv2d(inp, mip, 1)
        self.bn1 = nn.BatchNorm2d(mip)
        self.act = TutHSwish()
        self.conv_h, self.conv_w = nn.Conv2d(mip, oup, 1), nn.Conv2d(mip, oup, 1)

    def forward(self, x):
        h, w = x.shape[2:]
        x_h = self.pool_h(x)
        x_w = self.pool_w(x).permute(0, 1, 3, 2)
        y = self.act(self.bn1(self.conv1(torch.cat([x_h, x_w], dim=2))))
        y_h, y_w = torch.split(y, [h, w], dim=2)
        a_h = self.conv_h(y_h).sigmoid()
        a_w = self.conv_w(y_w.permute(0, 1, 3, 2)).sigmoid()
        return x * a_w * a_h


class TutSimAM(nn.Module):
    pickled_as = "SimAM"

    def __init__(self, e_lambda: float = 1e-4) -> None:
        super().__init__()
        self.activaton = nn.Sigmoid()
        self.e_lambda = e_lambda

    def forward(self, x):
        n = x.shape[2] * x.shape[3] - 1
        d = (x - x.mean(dim=[2, 3], keepdim=True)).pow(2)
        y = d / (4 * (d.sum(dim=[2, 3], keepdim=True) / n + self.e_lambda)) + 0.5
        return x * self.activaton(y)


class TutEMA(nn.Module):
    pickled_as = "EMA"

    def __init__(self, channels: int, factor: int = 8) -> None:
        super().__init__()
        self.groups = factor
        cg = channels // factor
        self.softmax = nn.Softmax(-1)
        self.agp = nn.AdaptiveAvgPool2d((1, 1))
        self.pool_h, self.pool_w = nn.AdaptiveAvgPool2d((None, 1)), nn.AdaptiveAvgPool2d((1, None))
        self.gn = nn.GroupNorm(cg, cg)
        self.conv1x1 = nn.Conv2d(cg, cg, 1)
        self.conv3x3 = nn.Conv2d(cg, cg, 3, padding=1)

    def forward(self, x):
        b, c, h, w = x.shape
        g = self.groups
        gx = x.reshape(b * g, -1, h, w)
        x_h = self.pool_h(gx)
        x_w = self.pool_w(gx).permute(0, 1, 3, 2)
        hw = self.conv1x1(torch.cat([x_h, x_w], dim=2))
        x_h, x_w = torch.split(hw, [h, w], dim=2)
        x1 = self.gn(gx * x_h.sigmoid() * x_w.permute(0, 1, 3, 2).sigmoid())
        x2 = self.conv3x3(gx)
        x11 = self.softmax(self.agp(x1).reshape(b * g, -1, 1).permute(0, 2, 1))
        x12 = x2.reshape(b * g, c // g, -1)
        x21 = self.softmax(self.agp(x2).reshape(b * g, -1, 1).permute(0, 2, 1))
        x22 = x1.reshape(b * g, c // g, -1)
        weights = (torch.matmul(x11, x12) + torch.matmul(x21, x22)).reshape(b * g, 1, h, w)
        return (gx * weights.sigmoid()).reshape(b, c, h, w)


class TutBasicConv(nn.Module):
    pickled_as = "BasicConv"

    def __init__(self, cin: int, cout: int, k: int, relu: bool = True, bn: bool = True) -> None:
        super().__init__()
        self.out_channels = cout
        self.conv = nn.Conv2d(cin, cout, k, padding=(k - 1) // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.01, affine=True) if bn else None
        self.relu = nn.ReLU() if relu else None

    def forward(self, x):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.relu(x) if self.relu is not None else x


class TutZPool(nn.Module):
    pickled_as = "ZPool"

    def forward(self, x):
        return torch.cat((torch.max(x, 1)[0].unsqueeze(1), torch.mean(x, 1).unsqueeze(1)), dim=1)


class TutAttentionGate(nn.Module):
    pickled_as = "AttentionGate"

    def __init__(self) -> None:
        super().__init__()
        self.compress = TutZPool()
        self.conv = TutBasicConv(2, 1, 7, relu=False)

    def forward(self, x):
        return x * torch.sigmoid_(self.conv(self.compress(x)))


class TutTripletAttention(nn.Module):
    pickled_as = "TripletAttention"

    def __init__(self, no_spatial: bool = False) -> None:
        super().__init__()
        self.cw, self.hc = TutAttentionGate(), TutAttentionGate()
        self.no_spatial = no_spatial
        if not no_spatial:
            self.hw = TutAttentionGate()

    def forward(self, x):
        o1 = self.cw(x.permute(0, 2, 1, 3).contiguous()).permute(0, 2, 1, 3).contiguous()
        o2 = self.hc(x.permute(0, 3, 2, 1).contiguous()).permute(0, 3, 2, 1).contiguous()
        if not self.no_spatial:
            return 1 / 3 * (self.hw(x) + o1 + o2)
        return 1 / 2 * (o1 + o2)


class TutShuffleAttention(nn.Module):
    pickled_as = "ShuffleAttention"

    def __init__(self, channel: int = 512, reduction: int = 16, G: int = 8) -> None:  # noqa: N803
        super().__init__()
        self.G, self.channel = G, channel
        c = channel // (2 * G)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.gn = nn.GroupNorm(c, c)
        self.cweight = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.cbias = nn.Parameter(torch.ones(1, c, 1, 1))
        self.sweight = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.sbias = nn.Parameter(torch.ones(1, c, 1, 1))
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        b, c, h, w = x.shape
        x = x.view(b * self.G, -1, h, w)
        x0, x1 = x.chunk(2, dim=1)
        xc = x0 * self.sigmoid(self.cweight * self.avg_pool(x0) + self.cbias)
        xs = x1 * self.sigmoid(self.sweight * self.gn(x1) + self.sbias)
        out = torch.cat([xc, xs], dim=1).contiguous().view(b, -1, h, w)
        out = out.reshape(b, 2, -1, h, w).permute(0, 2, 1, 3, 4).reshape(b, -1, h, w)
        return out


class TutChannelAtt(nn.Module):
    pickled_as = "Channel_Att"

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.bn2 = nn.BatchNorm2d(channels, affine=True)

    def forward(self, x):
        residual = x
        x = self.bn2(x)
        weight_bn = self.bn2.weight.data.abs() / torch.sum(self.bn2.weight.data.abs())
        x = torch.mul(weight_bn, x.permute(0, 2, 3, 1).contiguous()).permute(0, 3, 1, 2).contiguous()
        return torch.sigmoid(x) * residual


class TutNAMAttention(nn.Module):
    pickled_as = "NAMAttention"

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.Channel_Att = TutChannelAtt(channels)

    def forward(self, x):
        return self.Channel_Att(x)


class TutSKAttention(nn.Module):
    pickled_as = "SKAttention"

    def __init__(self, channel: int, kernels=(1, 3, 5), reduction: int = 16, group: int = 1, L: int = 8) -> None:  # noqa: N803
        super().__init__()
        self.d = max(L, channel // reduction)
        self.convs = nn.ModuleList(nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(channel, channel, kernel_size=k, padding=k // 2, groups=group)),
            ("bn", nn.BatchNorm2d(channel)), ("relu", nn.ReLU())])) for k in kernels)
        self.fc = nn.Linear(channel, self.d)
        self.fcs = nn.ModuleList(nn.Linear(self.d, channel) for _ in kernels)
        self.softmax = nn.Softmax(dim=0)

    def forward(self, x):
        bs, c = x.shape[:2]
        outs = [conv(x) for conv in self.convs]
        feats = torch.stack(outs, 0)
        s = sum(outs).mean(-1).mean(-1)
        z = self.fc(s)
        weights = torch.stack([fc(z).view(bs, c, 1, 1) for fc in self.fcs], 0)
        return (self.softmax(weights) * feats).sum(0)
