"""Classifiers of the paper's code, rebuilt with their checkpoint names and forward.

Each is ``trunk + RKAN parts`` (:mod:`.rkan_parts`) as the paper's model files
build them; ``state_dict()`` is what its notebook saves. All take
``mechanisms`` (per stage, None or addition / gating / se) and a generator
for random values; call :func:`.rkan_parts.randomize` afterwards.
"""
from typing import Optional, Sequence

import torch
import torchvision
from torch import Tensor, nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from tests.test_backbones.paper_reference import RefPyramidNet

from .attention import attention_bottleneck
from .rkan_parts import add_rkan_parts, run_stages

#: stage output widths of the torchvision ResNets by block type
RESNET_OUT = {BasicBlock: [64, 128, 256, 512], Bottleneck: [256, 512, 1024, 2048]}
BLOCKS = {18: (BasicBlock, [2, 2, 2, 2]), 50: (Bottleneck, [3, 4, 6, 3])}


class PaperResNet(nn.Module):
    """RKANet / RKAN-ResNeXt / RKAN-Wide-ResNet / RKAN-SENet, -ELA, -ECA, -CBAM, -SA,
    -SimAM, -GCNet: a torchvision ResNet under ``prefix`` with the RKAN parts.

    ``attention`` puts that module in every bottleneck (GC: stages 2-4, the paper
    replaces only ``layer2..4``); ``groups`` / ``width_per_group`` give
    ResNeXt and Wide ResNet trunks; ``se_bias`` the ResNeXt / WRN files' SE.
    """

    def __init__(self, kind: str, mechanisms: Sequence[Optional[str]], g: torch.Generator,
                 depth: int = 50, prefix: str = 'resnet', attention: Optional[str] = None,
                 groups: int = 1, width_per_group: int = 64, se_bias: bool = False,
                 shortcut: bool = False) -> None:
        super().__init__()
        block, layers = BLOCKS[depth]
        if attention is not None:
            block = attention_bottleneck(attention)
        trunk = ResNet(block, layers, groups=groups, width_per_group=width_per_group)
        if attention == 'gc':
            for b in trunk.layer1:
                del b.gc_block
        self.prefix = prefix
        setattr(self, prefix, trunk)
        outs = RESNET_OUT[BLOCKS[depth][0]]
        add_rkan_parts(self, [64] + outs[:-1], outs, [1, 2, 2, 2], kind, g,
                       se_bias=se_bias, shortcut=shortcut)
        self.mechanisms = list(mechanisms)

    def forward(self, x: Tensor) -> Tensor:
        net = getattr(self, self.prefix)
        out = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        out = run_stages(self, out, (net.layer1, net.layer2, net.layer3, net.layer4))
        return net.fc(torch.flatten(net.avgpool(out), 1))


class PaperResNetD(nn.Module):
    """RKANet-D: no prefix; a deep stem ``stem.{0,1,3,4,6}`` (32, 32, 64 channels;
    no norm after the third conv: ``bn1`` follows), torchvision's ResNet-50
    blocks with ``AvgPool2d(2, 2)`` before the 1x1 of strided downsamples."""

    def __init__(self, kind: str, mechanisms: Sequence[Optional[str]], g: torch.Generator,
                 shortcut: bool = False) -> None:
        super().__init__()
        base = torchvision.models.resnet50()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, 1, 1, bias=False))
        self.bn1, self.relu, self.maxpool = base.bn1, nn.ReLU(), base.maxpool
        for name in ('layer1', 'layer2', 'layer3', 'layer4'):
            layer = getattr(base, name)
            for block in layer:
                ds = block.downsample
                if ds is not None and ds[0].stride == (2, 2):
                    block.downsample = nn.Sequential(
                        nn.AvgPool2d(2, 2), nn.Conv2d(ds[0].in_channels, ds[0].out_channels, 1,
                                                      bias=False), ds[1])
            setattr(self, name, layer)
        self.avgpool, self.fc = base.avgpool, base.fc
        outs = RESNET_OUT[Bottleneck]
        add_rkan_parts(self, [64] + outs[:-1], outs, [1, 2, 2, 2], kind, g, shortcut=shortcut)
        self.mechanisms = list(mechanisms)

    def forward(self, x: Tensor) -> Tensor:
        out = self.maxpool(self.relu(self.bn1(self.stem(x))))
        out = run_stages(self, out, (self.layer1, self.layer2, self.layer3, self.layer4))
        return self.fc(torch.flatten(self.avgpool(out), 1))


class PaperRegNet(nn.Module):
    """RKAN-RegNet: torchvision ``regnet_x_3_2gf`` under ``regnet``; every KAN conv1
    has stride 2 (RegNet downsamples in each stage); no gating convs."""

    def __init__(self, kind: str, mechanisms: Sequence[Optional[str]], g: torch.Generator,
                 arch: str = 'regnet_x_3_2gf') -> None:
        super().__init__()
        self.regnet = getattr(torchvision.models, arch)()
        outs = [s[0].f.c[0].out_channels for s in self.regnet.trunk_output]
        add_rkan_parts(self, [32] + outs[:-1], outs, [2, 2, 2, 2], kind, g, gating=False)
        self.mechanisms = list(mechanisms)

    def forward(self, x: Tensor) -> Tensor:
        out = run_stages(self, self.regnet.stem(x), list(self.regnet.trunk_output))
        return self.regnet.fc(torch.flatten(self.regnet.avgpool(out), 1))


class Res2NetBlock(nn.Module):
    """The paper's Res2Net bottleneck: 1x1 to ``scales`` splits of ``width``; split i
    (plus the previous split's output in ``normal`` blocks) through ``convs[i]`` /
    ``bns[i]`` / ReLU; the last split passes (``normal``) or is 3x3-average-pooled
    with the block's stride (``stage``, the first block of a stage); 1x1 back."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int, downsample: Optional[nn.Module],
                 stage: bool, base_width: int = 26, scales: int = 4) -> None:
        super().__init__()
        width = planes * base_width // 64
        self.width, self.scales, self.stage = width, scales, stage
        self.conv1 = nn.Conv2d(inplanes, width * scales, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width * scales)
        if stage:
            self.pool = nn.AvgPool2d(3, stride, 1)
        self.convs = nn.ModuleList([nn.Conv2d(width, width, 3, stride, 1, bias=False)
                                    for _ in range(scales - 1)])
        self.bns = nn.ModuleList([nn.BatchNorm2d(width) for _ in range(scales - 1)])
        self.conv3 = nn.Conv2d(width * scales, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        splits = torch.split(torch.relu(self.bn1(self.conv1(x))), self.width, 1)
        outs: list = []
        for i in range(self.scales - 1):
            inp = splits[i] if i == 0 or self.stage else outs[-1] + splits[i]
            outs.append(torch.relu(self.bns[i](self.convs[i](inp))))
        outs.append(self.pool(splits[-1]) if self.stage else splits[-1])
        out = self.bn3(self.conv3(torch.cat(outs, 1)))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


class PaperRes2Net(PaperResNet):
    """RKAN-Res2Net-50: torchvision's ResNet-50 under ``resnet`` whose blocks are
    replaced by :class:`Res2NetBlock` (keeping torchvision's stem and downsamples)."""

    def __init__(self, kind: str, mechanisms: Sequence[Optional[str]],
                 g: torch.Generator) -> None:
        super().__init__(kind, mechanisms, g)
        for name in ('layer1', 'layer2', 'layer3', 'layer4'):
            layer = getattr(self.resnet, name)
            blocks = [Res2NetBlock(b.conv1.in_channels, b.conv1.out_channels, b.stride,
                                   b.downsample, stage=j == 0) for j, b in enumerate(layer)]
            setattr(self.resnet, name, nn.Sequential(*blocks))


class PaperDenseNet(nn.Module):
    """RKAN-DenseNet: torchvision's DenseNet under ``densenet``. Stage i runs from the
    dense block's input to its transition's output (the last: to ``norm5``); the KAN
    conv1 strides are 2, 2, 2, 1; no gating convs. The head pools ``norm5(y) + r``
    directly: no ReLU after the last norm (docs/families.md §3)."""

    def __init__(self, kind: str, mechanisms: Sequence[Optional[str]], g: torch.Generator,
                 arch: str = 'densenet121') -> None:
        super().__init__()
        self.densenet = getattr(torchvision.models, arch)()
        f = self.densenet.features
        outs = [getattr(f, f'transition{n}').conv.out_channels for n in (1, 2, 3)]
        outs.append(f.norm5.num_features)
        add_rkan_parts(self, [f.conv0.out_channels] + outs[:-1], outs, [2, 2, 2, 1], kind, g,
                       gating=False)
        self.mechanisms = list(mechanisms)

    def forward(self, x: Tensor) -> Tensor:
        f = self.densenet.features
        stages = [nn.Sequential(getattr(f, f'denseblock{i}'), getattr(f, f'transition{i}'))
                  for i in (1, 2, 3)] + [nn.Sequential(f.denseblock4, f.norm5)]
        out = run_stages(self, f.pool0(f.relu0(f.norm0(f.conv0(x)))), stages)
        return self.densenet.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(out, 1), 1))


class SplitAttention(nn.Module):
    """The paper's ``conv2`` of a ResNeSt block: 3x3 conv to R splits (``conv``, ``bn0``,
    ReLU), their sum pooled through ``fc1``/``bn1``/ReLU/``fc2``, softmax across the
    R splits per channel, and the splits summed with those weights."""

    def __init__(self, width: int, stride: int, radix: int = 2) -> None:
        super().__init__()
        inter = max(width * radix // 4, 32)
        self.radix = radix
        self.conv = nn.Conv2d(width, width * radix, 3, stride, 1, groups=radix, bias=False)
        self.bn0 = nn.BatchNorm2d(width * radix)
        self.fc1 = nn.Conv2d(width, inter, 1)
        self.bn1 = nn.BatchNorm2d(inter)
        self.fc2 = nn.Conv2d(inter, width * radix, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = torch.relu(self.bn0(self.conv(x)))
        b, rc = x.shape[:2]
        splits = x.reshape(b, self.radix, rc // self.radix, *x.shape[2:])
        gap = splits.sum(1).mean((2, 3), keepdim=True)
        logits = self.fc2(torch.relu(self.bn1(self.fc1(gap))))       # (B, R C, 1, 1)
        weights = logits.reshape(b, 1, self.radix, -1).transpose(1, 2).softmax(1)
        return (weights.reshape(b, self.radix, -1, 1, 1) * splits).sum(1)


class ResNeStBlock(nn.Module):
    """The paper's ResNeSt bottleneck (groups 1, no average-pool stride)."""

    def __init__(self, inplanes: int, planes: int, stride: int,
                 downsample: Optional[nn.Module]) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = SplitAttention(planes, stride)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn3(self.conv3(self.conv2(torch.relu(self.bn1(self.conv1(x))))))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


class PaperResNeSt(PaperResNet):
    """RKANeSt-50: torchvision's ResNet-50 under ``resnet`` with :class:`ResNeStBlock`s."""

    def __init__(self, kind: str, mechanisms: Sequence[Optional[str]],
                 g: torch.Generator) -> None:
        super().__init__(kind, mechanisms, g)
        for name in ('layer1', 'layer2', 'layer3', 'layer4'):
            layer = getattr(self.resnet, name)
            setattr(self.resnet, name, nn.Sequential(*[
                ResNeStBlock(b.conv1.in_channels, b.conv1.out_channels, b.stride, b.downsample)
                for b in layer]))


class PaperPyramidNet(RefPyramidNet):
    """RKAN-PyramidNet: the paper's trunk (tests/test_backbones/paper_reference.py:
    keys without prefix, widths growing by alpha / (number of blocks), ``bn_final``
    + ReLU before pooling) with its ``fc`` and the RKAN parts."""

    def __init__(self, kind: str, mechanisms: Sequence[Optional[str]], g: torch.Generator,
                 depths: Sequence[int] = (3, 4, 6, 3), alpha: float = 200,
                 bottleneck: bool = True) -> None:
        super().__init__(list(depths), alpha, bottleneck)
        layers = [getattr(self, f'layer{i}') for i in range(1, 5)]
        outs = [layer[-1].bn4.num_features if bottleneck else layer[-1].bn3.num_features
                for layer in layers]
        self.fc = nn.Linear(outs[-1], 1000)
        add_rkan_parts(self, [64] + outs[:-1], outs, [1, 2, 2, 2], kind, g)
        self.mechanisms = list(mechanisms)

    def forward(self, x: Tensor) -> Tensor:
        out = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        out = run_stages(self, out, [getattr(self, f'layer{i}') for i in range(1, 5)])
        out = torch.relu(self.bn_final(out))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(out, 1), 1))