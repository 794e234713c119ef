"""Helpers and references for the paper-architecture tests.

The references are written from reading the RKAN paper's code (withray/residualKAN,
``residual_networks/RKAN_DenseNet.py`` and ``RKAN_PyramidNet.py``): plain loops
over the same weights, to check that the package computes the same function.

Nothing here calls an RKAN block's or a backbone's ``forward``: the residual
path is spelled out from the block's parts (docs/spec.md §1).
"""
import contextlib
from typing import Iterator, List

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@contextlib.contextmanager
def skip_random_init() -> Iterator[None]:
    """Build big models fast: torch's random layer init is skipped (counts and
    shapes do not depend on the values)."""
    names = ('kaiming_uniform_', 'kaiming_normal_', 'uniform_', 'normal_', 'trunc_normal_')
    saved = {name: getattr(nn.init, name) for name in names}
    for name in names:
        setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(nn.init, name, fn)


def randomise_norms(model: nn.Module) -> None:
    """Non-trivial BN statistics and affine parameters, so every norm matters."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.normal_(module.bias, 0, 0.2)
            module.running_mean.normal_(0, 0.2)
            module.running_var.uniform_(0.5, 1.5)


def rkan_residual(block: nn.Module, x: Tensor, last_stage: bool) -> Tensor:
    """reduce -> SiLU -> KAN conv -> BN -> expand -> SiLU [-> KAN conv] -> BN."""
    r = F.silu(block.reduce(x))
    r = block.mid_norm(block.kan_conv(r))
    r = F.silu(block.expand(r))
    if last_stage:
        r = block.kan_conv_last(r)
    return block.out_norm(r)


def densenet_features(model: nn.Module, x: Tensor) -> Tensor:
    """The paper's RKAN-DenseNet forward up to the pooled features (B, C).

    Per stage: ``y = block(x)``; the last stage is followed by ``norm5`` only
    (no ReLU anywhere after it), the others by their transition; then
    ``y + r`` where the stage carries RKAN.
    """
    out = model.stem(x)
    blocks = getattr(model, 'rkan_layers', {})
    last = len(model.stages) - 1
    for i, stage in enumerate(model.stages):
        identity = out
        # .forward: the stage and transition modules carry the package's RKAN hooks
        out = stage.forward(out)
        out = model.transitions[i][0](out) if i == last else model.transitions[i].forward(out)
        key = f'stage{i + 1}'
        if key in blocks:
            out = out + rkan_residual(blocks[key], identity, i == last)
    return out.mean((2, 3))


class RefPyramidBlock(nn.Module):
    """The paper's pre-activation block, with the key names of its file."""

    def __init__(self, inplanes: int, planes: int, stride: int, bottleneck: bool) -> None:
        super().__init__()
        self.bottleneck = bottleneck
        out = planes * (4 if bottleneck else 1)
        self.bn1 = nn.BatchNorm2d(inplanes)
        if bottleneck:
            self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
            self.bn4 = nn.BatchNorm2d(out)
        else:
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes)
        self.pool = nn.AvgPool2d((2, 2), stride=(2, 2), ceil_mode=True) if stride != 1 else None

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv1(self.bn1(x))
        out = self.conv2(torch.relu(self.bn2(out)))
        out = self.bn3(out)
        if self.bottleneck:
            out = self.bn4(self.conv3(torch.relu(out)))
        identity = x if self.pool is None else self.pool(x)
        if out.size(1) != identity.size(1):
            zeros = torch.zeros(out.size(0), out.size(1) - identity.size(1), out.size(2),
                                out.size(3), dtype=out.dtype)
            identity = torch.cat([identity, zeros], dim=1)
        return out + identity


class RefPyramidNet(nn.Module):
    """The paper's ImageNet PyramidNet trunk: the width is a float that grows
    by ``alpha / total_blocks`` before every block and is rounded per block."""

    def __init__(self, layers: List[int], alpha: float, bottleneck: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        add = alpha / sum(layers)
        dim, in_dim = 64.0, 64
        expansion = 4 if bottleneck else 1
        for s, depth in enumerate(layers):
            blocks = []
            for j in range(depth):
                dim += add
                blocks.append(RefPyramidBlock(in_dim, int(round(dim)),
                                              2 if s > 0 and j == 0 else 1, bottleneck))
                in_dim = int(round(dim)) * expansion
            setattr(self, f'layer{s + 1}', nn.Sequential(*blocks))
        self.bn_final = nn.BatchNorm2d(in_dim)

    def forward(self, x: Tensor, rkan_block: nn.Module = None) -> Tensor:
        """Pooled features (B, C); ``rkan_block`` adds RKAN beside layer4."""
        out = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        for s in range(1, 5):
            identity = out
            out = getattr(self, f'layer{s}')(out)
            if s == 4 and rkan_block is not None:
                out = out + rkan_residual(rkan_block, identity, True)
        return torch.relu(self.bn_final(out)).mean((2, 3))
