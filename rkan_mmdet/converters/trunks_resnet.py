"""The paper's torchvision-ResNet families: ResNet (+ attention), Res2Net, ResNeSt,
ResNet-D, ResNeXt, Wide ResNet -> their rkan_mmdet backbones.

Their block and stem names are torchvision's, which mmdet's and mmpretrain's
ResNets share, so most keys keep their names (``fc`` -> ``head.fc``).
"""
import re
from typing import Dict, Optional

from mmdet.models.backbones import ResNeSt, ResNet, ResNetV1d, ResNeXt
from mmpretrain.models.backbones import Res2Net as PretrainRes2Net
from mmpretrain.models.backbones import ResNet as PretrainResNet
from torch import Tensor

from .attention import ATTENTIONS, find_attention
from .errors import LayoutError
from .trunk_base import BN, Trunk, _blocks_per_stage


RESNET_RULES = [
    (r'conv1\.weight', r'backbone.conv1.weight'),
    (rf'(bn1\.{BN})', r'backbone.\1'),
    (r'(layer[1-4]\.\d+\.conv[1-3]\.weight)', r'backbone.\1'),
    (rf'(layer[1-4]\.\d+\.bn[1-3]\.{BN})', r'backbone.\1'),
    (r'(layer[1-4]\.\d+\.downsample\.0\.weight)', r'backbone.\1'),
    (rf'(layer[1-4]\.\d+\.downsample\.1\.{BN})', r'backbone.\1'),
    (r'fc\.(weight|bias)', r'head.fc.\1'),
]


def _resnet_depth(trunk: Trunk, settings: Dict[int, tuple], family: str) -> int:
    """The depth whose (block type, blocks per stage) the keys show."""
    blocks = _blocks_per_stage(list(trunk.tensors), r'layer(\d)\.(\d+)\.')
    bottleneck = 'layer1.0.conv3.weight' in trunk.tensors
    for depth, (block, stages) in settings.items():
        if tuple(stages) == blocks and ('Basic' not in block.__name__) == bottleneck:
            return depth
    kind = 'bottleneck' if bottleneck else 'basic'
    raise LayoutError(f'{trunk.prefix}.layer1-4 have {blocks} {kind} blocks, which is no '
                      f'{family} depth ({", ".join(map(str, settings))})')


class ResNetTrunk(Trunk):
    """torchvision ResNet-18..152 -> ``RKANResNet(depth)``; with attention in its
    blocks (:mod:`.attention`) the matching plugin or ``RKANSENet``."""

    prefix = 'resnet'
    rules = RESNET_RULES

    def __init__(self, tensors: Dict[str, Tensor]) -> None:
        self.attention = find_attention(list(tensors))
        if self.attention is not None:
            self.rules = RESNET_RULES + self.attention.target_rules()
        super().__init__(tensors)

    def set_attention(self, name: Optional[str]) -> None:
        """The attention the caller settled on (one without tensors, e.g. SimAM)."""
        self.attention = None if name is None else ATTENTIONS[name]

    def backbone(self) -> dict:
        attention = self.attention
        if attention is None:
            return dict(type='RKANResNet',
                        depth=_resnet_depth(self, ResNet.arch_settings, 'ResNet'))
        depth = _resnet_depth(self, ResNet.arch_settings, 'ResNet')
        if 'layer1.0.conv3.weight' not in self.tensors:
            raise LayoutError(f'resnet: {attention.name} attention in basic blocks '
                              f'(ResNet-{depth}); mmdet\'s BasicBlock takes no plugins, so only the bottleneck '
                              'depths (50, 101, 152) convert')
        return dict(dict(type='RKANResNet', depth=depth), **attention.backbone)


class Res2NetTrunk(Trunk):
    """The paper's Res2Net (torchvision ResNet-50 / 101 under ``resnet.`` with
    Res2Net bottlenecks: ``convs.<i>``, ``bns.<i>``) -> the generic ``RKAN`` form over
    mmpretrain's ``Res2Net(deep_stem=False, avg_down=False)``: the paper keeps
    torchvision's 7x7 stem and strided 1x1 downsampling, and every name is
    mmpretrain's."""

    prefix = 'resnet'
    rules = RESNET_RULES + [
        (r'(layer[1-4]\.\d+\.convs\.\d+\.weight)', r'backbone.\1'),
        (rf'(layer[1-4]\.\d+\.bns\.\d+\.{BN})', r'backbone.\1'),
    ]
    def backbone(self) -> dict:
        depth = _resnet_depth(self, PretrainRes2Net.arch_settings, 'Res2Net')
        scales = 1 + len({k.split('.')[3] for k in self.tensors
                          if re.match(r'layer1\.0\.convs\.\d+\.weight$', k)})
        width = self.need('layer1.0.convs.0.weight').shape[0]
        return dict(type='RKAN', backbone=dict(
            type='mmpretrain.Res2Net', depth=depth, scales=scales, base_width=width,
            deep_stem=False, avg_down=False))


class ResNeStTrunk(Trunk):
    """The paper's ResNeSt (torchvision ResNet-50 / 101 under ``resnet.`` with
    split-attention bottlenecks: ``conv2.{conv,bn0,fc1,bn1,fc2}``) -> the generic
    ``RKAN`` form over :class:`~rkan_mmdet.models.backbones.PaperResNeSt`
    (mmdet's ResNeSt blocks and names, torchvision's stem and downsampling)."""

    prefix = 'resnet'
    rules = RESNET_RULES + [
        (r'(layer[1-4]\.\d+\.conv2\.(?:conv\.weight|fc[12]\.(?:weight|bias)))', r'backbone.\1'),
        (rf'(layer[1-4]\.\d+\.conv2\.bn[01]\.{BN})', r'backbone.\1'),
    ]

    def backbone(self) -> dict:
        depth = _resnet_depth(self, ResNeSt.arch_settings, 'ResNeSt')
        width = self.need('layer4.0.conv1.weight').shape[0]
        radix = self.need('layer4.0.conv2.conv.weight').shape[0] // width
        inter = self.need('layer4.0.conv2.fc1.weight').shape[0]
        cfg = dict(type='PaperResNeSt', depth=depth, radix=radix)
        if inter != max(width * radix // 4, 32):
            cfg['reduction_factor'] = width * radix // inter
        return dict(type='RKAN', backbone=cfg)


def resnet_family(tensors: Dict[str, Tensor]) -> Trunk:
    """``resnet.``: Res2Net when its blocks have ``convs.<i>``, ResNeSt when they have
    ``conv2.conv``, else ResNet (+ attention)."""
    if any(re.match(r'layer\d\.\d+\.convs\.\d', k) for k in tensors):
        return Res2NetTrunk(tensors)
    if any(re.match(r'layer\d\.\d+\.conv2\.conv\.', k) for k in tensors):
        return ResNeStTrunk(tensors)
    return ResNetTrunk(tensors)


class ResNetDTrunk(Trunk):
    """The paper's ResNet-D (keys without a prefix) -> ``RKANResNetV1d(depth)``.

    Its deep stem ``stem.{0,1,3,4,6}`` and ``bn1`` are mmdet's ``stem.{0,1,3,4,6,7}``;
    its blocks have mmdet's names. Downsampling: strided blocks pool first
    (``downsample.{1,2}`` after the ``AvgPool2d(2, 2)``, as in mmdet); the first
    block of stage 1 has no pool in the paper (``downsample.{0,1}``) but a 1x1
    pool in mmdet, so its indices shift by one. mmdet pools with
    ``ceil_mode=True, count_include_pad=False``: the same on even feature sizes.
    """

    prefix = ''
    rules = [
        (r'(stem\.[036]\.weight)', r'backbone.\1'),
        (rf'(stem\.[14]\.{BN})', r'backbone.\1'),
        (rf'bn1\.({BN})', r'backbone.stem.7.\1'),
        (r'(layer[1-4]\.\d+\.conv[1-3]\.weight)', r'backbone.\1'),
        (rf'(layer[1-4]\.\d+\.bn[1-3]\.{BN})', r'backbone.\1'),
        (rf'(layer[1-4]\.\d+\.downsample\.\d\.(?:{BN}))', r'backbone.\1'),
        (r'fc\.(weight|bias)', r'head.fc.\1'),
    ]

    def target(self, key: str) -> Optional[str]:
        m = re.match(r'(layer[1-4]\.\d+)\.downsample\.([01])\.(.+)$', key)
        if m and f'{m[1]}.downsample.0.weight' in self.tensors and super().target(key):
            return f'backbone.{m[1]}.downsample.{int(m[2]) + 1}.{m[3]}'  # no pool before
        return super().target(key)

    def backbone(self) -> dict:
        return dict(type='RKANResNetV1d',
                    depth=_resnet_depth(self, ResNetV1d.arch_settings, 'ResNet-D'))


class ResNeXtTrunk(Trunk):
    """torchvision ResNeXt (e.g. 50 32x4d, 101 32x8d) -> ``RKANResNeXt(depth, groups, base_width)``.

    ``layer1.0.conv2.weight`` is (width, width / groups, 3, 3) with width =
    groups * base_width (mmdet's ResNeXt bottleneck, 64 base channels).
    """

    prefix = 'resnext'
    rules = RESNET_RULES

    def backbone(self) -> dict:
        depth = _resnet_depth(self, ResNeXt.arch_settings, 'ResNeXt')
        width, per_group = self.need('layer1.0.conv2.weight').shape[:2]
        groups = width // per_group
        return dict(type='RKANResNeXt', depth=depth, groups=groups, base_width=width // groups,
                    out_indices=(3, ))


class WideResNetTrunk(Trunk):
    """torchvision Wide ResNet (e.g. 50-2) -> the generic ``RKAN`` form over mmpretrain's
    ``ResNet(depth, base_channels=width, expansion=out / width)`` (its ``wrn`` configs)."""

    prefix = 'wideresnet'
    rules = RESNET_RULES

    def backbone(self) -> dict:
        depth = _resnet_depth(self, PretrainResNet.arch_settings, 'ResNet')
        width = self.need('layer1.0.conv1.weight').shape[0]
        out = self.need('layer1.0.conv3.weight').shape[0]
        return dict(type='RKAN', backbone=dict(type='mmpretrain.ResNet', depth=depth,
                                               base_channels=width, expansion=out // width))
