"""The trunks of the paper code's classifiers: their keys, and the rkan_mmdet backbone they become.

docs/families.md §6: a classifier trained with the paper's code keeps a torchvision
trunk under one prefix (``resnet.conv1.weight``, ..., ``resnet.fc.weight``). A
:class:`Trunk` is built from those tensors (prefix removed) and gives

* :meth:`Trunk.target`: the key of our classifier a trunk key becomes
  (``backbone.*``, or ``head.fc.*`` for the classifier's linear layer), or None
  when the key fits no torchvision name of that family;
* :meth:`Trunk.backbone`: the backbone config whose ``state_dict`` has exactly
  those keys and shapes, read from the tensor shapes (depth, groups, widths,
  arch); the RKAN arguments are added by the caller;
* :attr:`Trunk.block_key`: the ``rkan_layers`` key of stage ``i`` (0-based).

torchvision -> ours. ResNet, ResNeXt, Wide ResNet: identical names (mmdet's and
mmpretrain's ResNets use torchvision's), ``fc`` -> ``head.fc``. RegNetX:
``stem.{0,1}`` -> ``conv1``/``bn1``, ``trunk_output.block{s}.block{s}-{j}.f.{a,b,c}.{0,1}``
-> ``layer{s}.{j}.conv{1,2,3}``/``bn{1,2,3}``, ``proj`` -> ``downsample``.
DenseNet: ``features.conv0``/``norm0`` -> ``stem.0``/``stem.1``,
``denseblock{b}.denselayer{l}`` -> ``stages.{b-1}.block.{l-1}``,
``transition{b}`` -> ``transitions.{b-1}``, ``norm5`` -> ``transitions.{last}.0``,
``classifier`` -> ``head.fc``.
"""
import inspect
import re
from typing import Callable, Dict, List, Optional, Tuple

from mmdet.models.backbones import RegNet, ResNeSt, ResNet, ResNetV1d, ResNeXt
from mmpretrain.models.backbones import DenseNet
from mmpretrain.models.backbones import Res2Net as PretrainRes2Net
from mmpretrain.models.backbones import ResNet as PretrainResNet
from torch import Tensor

from .attention import ATTENTIONS, find_attention
from .errors import LayoutError

BN = r'(?:weight|bias|running_mean|running_var|num_batches_tracked)'


def takes_argument(name: str, argument: str) -> bool:
    """Whether the registered backbone ``name`` (or a class it derives from) takes ``argument``."""
    from mmengine.registry import MODELS
    cls = MODELS.get(name)
    return any(argument in inspect.signature(c.__init__).parameters
               for c in getattr(cls, '__mro__', ()) if '__init__' in vars(c))


def _need(tensors: Dict[str, Tensor], prefix: str, key: str) -> Tensor:
    if key not in tensors:
        raise LayoutError(f'key {prefix + "." if prefix else ""}{key} is missing')
    return tensors[key]


def _blocks_per_stage(keys: List[str], pattern: str, first: int = 0) -> Tuple[int, ...]:
    """Number of blocks of each stage: ``pattern`` captures (stage, block) with
    1-based stages and blocks counted from ``first``."""
    found: Dict[int, int] = {}
    for key in keys:
        m = re.match(pattern, key)
        if m:
            stage, block = int(m.group(1)), int(m.group(2))
            found[stage] = max(found.get(stage, 0), block + 1 - first)
    return tuple(found.get(s, 0) for s in range(1, max(found, default=0) + 1))


class Trunk:
    """One family's trunk; see the module docstring."""

    prefix = ''
    #: (regex on the key without prefix, target template for ``Match.expand``)
    rules: List[Tuple[str, str]] = []
    stage_key = 'layer{}'

    def __init__(self, tensors: Dict[str, Tensor]) -> None:
        self.tensors = tensors
        self._rules = [(re.compile(p + '$'), t) for p, t in self.rules]

    def target(self, key: str) -> Optional[str]:
        for pattern, template in self._rules:
            m = pattern.match(key)
            if m:
                return m.expand(template)
        return None

    def block_key(self, stage: int) -> str:
        return self.stage_key.format(stage + 1)

    @property
    def num_stages(self) -> int:
        return 4

    def backbone(self) -> dict:
        raise NotImplementedError

    def need(self, key: str) -> Tensor:
        return _need(self.tensors, self.prefix, key)


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
            raise LayoutError(f'resnet: {attention.name} attention in basic blocks (ResNet-{depth}); '
                              'mmdet\'s BasicBlock takes no plugins, so only the bottleneck '
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


#: The RegNetX archs of the paper's code (its RegNet table: regnet_x_3_2gf, regnet_x_8gf).
PAPER_REGNETX = ('regnetx_3.2gf', 'regnetx_8.0gf')


class RegNetTrunk(Trunk):
    """torchvision RegNetX -> ``RKANRegNet(arch)``, the mmdet arch with the same stage
    widths, blocks per stage and group width, among those the paper's code builds
    (RegNetY's SE keys fit no rule)."""

    prefix = 'regnet'
    rules = [
        (r'stem\.0\.weight', r'backbone.conv1.weight'),
        (rf'stem\.1\.({BN})', r'backbone.bn1.\1'),
        (r'trunk_output\.block(\d)\.block\1-(\d+)\.f\.a\.0\.weight', r'backbone.layer\1.\2.conv1.weight'),
        (r'trunk_output\.block(\d)\.block\1-(\d+)\.f\.b\.0\.weight', r'backbone.layer\1.\2.conv2.weight'),
        (r'trunk_output\.block(\d)\.block\1-(\d+)\.f\.c\.0\.weight', r'backbone.layer\1.\2.conv3.weight'),
        (rf'trunk_output\.block(\d)\.block\1-(\d+)\.f\.a\.1\.({BN})', r'backbone.layer\1.\2.bn1.\3'),
        (rf'trunk_output\.block(\d)\.block\1-(\d+)\.f\.b\.1\.({BN})', r'backbone.layer\1.\2.bn2.\3'),
        (rf'trunk_output\.block(\d)\.block\1-(\d+)\.f\.c\.1\.({BN})', r'backbone.layer\1.\2.bn3.\3'),
        (r'trunk_output\.block(\d)\.block\1-(\d+)\.proj\.0\.weight',
         r'backbone.layer\1.\2.downsample.0.weight'),
        (rf'trunk_output\.block(\d)\.block\1-(\d+)\.proj\.1\.({BN})',
         r'backbone.layer\1.\2.downsample.1.\3'),
        (r'fc\.(weight|bias)', r'head.fc.\1'),
    ]

    @staticmethod
    def arch_shape(arch: dict) -> Tuple[list, list, list]:
        """(stage widths, blocks per stage, group widths) of an mmdet RegNet arch,
        by mmdet's own arithmetic (its methods read no instance state)."""
        bare = RegNet.__new__(RegNet)
        widths, num_stages = bare.generate_regnet(arch['w0'], arch['wa'], arch['wm'], arch['depth'])
        stage_widths, stage_blocks = bare.get_stages_from_blocks(widths)
        stage_widths, groups = bare.adjust_width_group(
            stage_widths, [arch['bot_mul']] * num_stages, [arch['group_w']] * num_stages)
        return stage_widths, stage_blocks, groups

    def backbone(self) -> dict:
        blocks = list(_blocks_per_stage(list(self.tensors), r'trunk_output\.block(\d)\.block\d-(\d+)\.'))
        widths = [self.need(f'trunk_output.block{s}.block{s}-0.f.c.0.weight').shape[0]
                  for s in range(1, len(blocks) + 1)]
        group_w = [self.need(f'trunk_output.block{s}.block{s}-0.f.b.0.weight').shape[1]
                   for s in range(1, len(blocks) + 1)]
        for name in PAPER_REGNETX:
            if [list(v) for v in self.arch_shape(RegNet.arch_settings[name])] == \
                    [widths, blocks, group_w]:
                return dict(type='RKANRegNet', arch=name, out_indices=(3, ))
        raise LayoutError(f'regnet: stage widths {widths}, blocks {blocks} and group widths '
                          f'{group_w} are no RegNetX the paper\'s code builds '
                          f'({", ".join(PAPER_REGNETX)})')


class DenseNetTrunk(Trunk):
    """torchvision DenseNet -> ``RKANDenseNet(arch)`` (mmpretrain's), blocks keyed ``stage{i}``."""

    prefix = 'densenet'
    stage_key = 'stage{}'

    def __init__(self, tensors: Dict[str, Tensor]) -> None:
        self.depths = _blocks_per_stage(
            list(tensors), r'features\.denseblock(\d+)\.denselayer(\d+)\.', first=1)
        last = len(self.depths) - 1
        self.rules = [
            (r'features\.conv0\.weight', r'backbone.stem.0.weight'),
            (rf'features\.norm0\.({BN})', r'backbone.stem.1.\1'),
            (rf'features\.denseblock(\d+)\.denselayer(\d+)\.((?:conv[12]\.weight)|(?:norm[12]\.{BN}))',
             r'backbone.stages.<\1>.block.<\2>.\3'),
            (rf'features\.transition(\d+)\.((?:conv\.weight)|(?:norm\.{BN}))',
             r'backbone.transitions.<\1>.\2'),
            (rf'features\.norm5\.({BN})', rf'backbone.transitions.{last}.0.\1'),
            (r'classifier\.(weight|bias)', r'head.fc.\1'),
        ]
        super().__init__(tensors)

    def target(self, key: str) -> Optional[str]:
        """Templates write 1-based torchvision indices as ``<n>``; ours are 0-based."""
        target = super().target(key)
        return None if target is None else re.sub(r'<(\d+)>', lambda m: str(int(m.group(1)) - 1),
                                                  target)

    @property
    def num_stages(self) -> int:
        return len(self.depths)

    def backbone(self) -> dict:
        growth = self.need('features.denseblock1.denselayer1.conv2.weight').shape[0]
        bn_size = self.need('features.denseblock1.denselayer1.conv1.weight').shape[0] // growth
        arch = dict(growth_rate=growth, depths=list(self.depths),
                    init_channels=self.need('features.conv0.weight').shape[0])
        name = next((n for n, a in DenseNet.arch_settings.items() if a == arch), None)
        if not takes_argument('RKANDenseNet', 'final_relu'):
            raise LayoutError('densenet: the paper\'s RKAN-DenseNet pools norm5(y) + r without '
                              'a final ReLU, and this rkan_mmdet\'s RKANDenseNet has no '
                              'final_relu=False to build that head; converting would change '
                              'the function')
        cfg = dict(type='RKANDenseNet', arch=name or arch, final_relu=False)
        if bn_size != 4:
            cfg['bn_size'] = bn_size
        return cfg


TRUNKS: Dict[str, Callable[[Dict[str, Tensor]], Trunk]] = dict(
    {t.prefix: t for t in (ResNeXtTrunk, WideResNetTrunk, RegNetTrunk, DenseNetTrunk,
                           ResNetDTrunk)}, resnet=resnet_family)
