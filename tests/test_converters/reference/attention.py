"""The attention modules of the paper's ResNet variants, by their checkpoint names.

Each sits after the last norm of every block, before the identity add
(docs/families.md §4); attribute names are the paper code's, so a model's
``state_dict`` has its keys (``resnet.layer1.0.ela.gn.weight``, ...).
"""
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.resnet import Bottleneck


class SE(nn.Module):
    """``se``: GAP, ``fc1`` (C -> C/16), ReLU, ``fc2``, sigmoid; 1x1 convs without bias."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // 16, 1, bias=False)
        self.fc2 = nn.Conv2d(c // 16, c, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3), keepdim=True)))))


class ELA(nn.Module):
    """``ela``: one Conv1d (k 7, groups C/8) and one GroupNorm(16) for both directions."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c, c, 7, padding=3, groups=c // 8, bias=False)
        self.gn = nn.GroupNorm(16, c)

    def forward(self, x: Tensor) -> Tensor:
        along_h = torch.sigmoid(self.gn(self.conv(x.mean(3))))
        along_w = torch.sigmoid(self.gn(self.conv(x.mean(2))))
        return x * along_h.unsqueeze(3) * along_w.unsqueeze(2)


class ECA(nn.Module):
    """``eca``: a 1-D conv across the pooled channels, kernel from log2(C)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        k = int(abs((math.log2(c) + 1) / 2))
        k += 1 - k % 2
        self.conv = nn.Conv1d(1, 1, k, padding=k // 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        pooled = x.mean((2, 3))[:, None, :]                      # (B, 1, C)
        return x * torch.sigmoid(self.conv(pooled))[:, 0, :, None, None]


class CBAM(nn.Module):
    """``cbam``: ``channel_attention.fc`` (shared MLP on avg and max) then
    ``spatial_attention.conv`` (7x7 on channel mean and max)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.channel_attention = nn.Module()
        self.channel_attention.fc = nn.Sequential(nn.Conv2d(c, c // 16, 1, bias=False), nn.ReLU(),
                                                  nn.Conv2d(c // 16, c, 1, bias=False))
        self.spatial_attention = nn.Module()
        self.spatial_attention.conv = nn.Conv2d(2, 1, 7, padding=3, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        mlp = self.channel_attention.fc
        x = x * torch.sigmoid(mlp(F.adaptive_avg_pool2d(x, 1)) + mlp(F.adaptive_max_pool2d(x, 1)))
        maps = torch.cat([x.mean(1, keepdim=True), x.max(1, keepdim=True)[0]], 1)
        return x * torch.sigmoid(self.spatial_attention.conv(maps))


class SA(nn.Module):
    """``sa``: shuffle attention, 64 groups, ``cweight/cbias/sweight/sbias`` and ``gn``."""

    def __init__(self, c: int, groups: int = 64) -> None:
        super().__init__()
        half = c // (2 * groups)
        self.groups = groups
        for name, fill in (('cweight', 0.), ('cbias', 1.), ('sweight', 0.), ('sbias', 1.)):
            setattr(self, name, nn.Parameter(torch.full((1, half, 1, 1), fill)))
        self.gn = nn.GroupNorm(half, half)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        x0, x1 = x.reshape(b * self.groups, -1, h, w).chunk(2, 1)
        x0 = x0 * torch.sigmoid(self.cweight * x0.mean((2, 3), keepdim=True) + self.cbias)
        x1 = x1 * torch.sigmoid(self.sweight * self.gn(x1) + self.sbias)
        out = torch.cat([x0, x1], 1).reshape(b, c, h, w)
        return out.reshape(b, 2, c // 2, h, w).transpose(1, 2).reshape(b, c, h, w)


class SimAM(nn.Module):
    """``simam``: no tensors; energy-based weights with lambda 1e-4."""

    def __init__(self, c: int) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[2] * x.shape[3] - 1
        d = (x - x.mean((2, 3), keepdim=True)) ** 2
        return x * torch.sigmoid(d / (4 * (d.sum((2, 3), keepdim=True) / n + 1e-4)) + 0.5)


class GC(nn.Module):
    """``gc_block``: softmax context (``context_modeling``) and ``transform``
    (1x1 C -> C/4, LayerNorm, ReLU, 1x1 C/4 -> C), all without bias; added to x."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.context_modeling = nn.Conv2d(c, 1, 1, bias=False)
        self.transform = nn.Sequential(nn.Conv2d(c, c // 4, 1, bias=False),
                                       nn.LayerNorm([c // 4, 1, 1]), nn.ReLU(),
                                       nn.Conv2d(c // 4, c, 1, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        mask = torch.softmax(self.context_modeling(x).reshape(b, 1, h * w), dim=2)
        context = torch.bmm(x.reshape(b, c, h * w), mask.transpose(1, 2))   # (B, C, 1)
        return x + self.transform(context[..., None])


#: paper name -> (block attribute, module class)
ATTENTION = dict(se=('se', SE), ela=('ela', ELA), eca=('eca', ECA), cbam=('cbam', CBAM),
                 sa=('sa', SA), simam=('simam', SimAM), gc=('gc_block', GC))


def attention_bottleneck(name: str) -> type:
    """torchvision's Bottleneck with the attention ``name`` after bn3."""
    attr, cls = ATTENTION[name]

    class AttentionBottleneck(Bottleneck):
        def __init__(self, inplanes: int, planes: int, *args, **kwargs) -> None:
            super().__init__(inplanes, planes, *args, **kwargs)
            setattr(self, attr, cls(planes * self.expansion))

        def forward(self, x: Tensor) -> Tensor:
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            if hasattr(self, attr):  # GCNet: stages 2-4 only
                out = getattr(self, attr)(out)
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(out + identity)

    return AttentionBottleneck
