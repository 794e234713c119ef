"""The paper's backbone families with RKAN, registered in MMEngine's root ``MODELS``.

Each class is its parent (mmdet's or mmpretrain's, or this package's plain
twin of one: :class:`~.regnet.RegNetY`, :class:`~.densenet.PlainDenseNet`,
:class:`~.senet.PlainSEResNet`, :class:`~.pyramidnet.PyramidNet`; every
argument with its meaning and default) plus the RKAN arguments of :class:`~.rkan_mixin.RKANMixin`
with the paper's defaults: RKAN on the last stage, reduce factor 2, Chebyshev
KAN of degrees 3 and 2, addition. Where each attaches: docs/families.md §2-§3.

Example:
    >>> backbone = dict(type='RKANResNet', depth=50)                # RKANet-50
    >>> backbone = dict(type='RKANResNet', depth=50, inv_factor=2)   # RKANet-50-2xL
    >>> backbone = dict(type='RKANRegNet', arch='regnetx_3.2gf')     # RKAN-RegNetX-3.2GF
    >>> backbone = dict(type='RKANRegNet', arch='regnety_3.2gf')     # RKAN-RegNetY-3.2GF
    >>> backbone = dict(type='RKANDenseNet', arch='169', final_relu=False)  # the paper's
    >>> backbone = dict(type='RKANPyramidNet', depth=50)             # alpha 200
"""
from mmdet.models.backbones import Res2Net, ResNeSt, ResNet, ResNetV1d, ResNeXt
from mmengine.registry import MODELS

from .densenet import PlainDenseNet
from .pyramidnet import PyramidNet
from .regnet import RegNetY
from .rkan_mixin import RKANMixin
from .senet import PlainSEResNet, PlainSEResNeXt


@MODELS.register_module()
class RKANResNet(RKANMixin, ResNet):
    """mmdet :class:`~mmdet.models.backbones.ResNet` + RKAN (RKANet)."""


@MODELS.register_module()
class RKANResNetV1d(RKANMixin, ResNetV1d):
    """mmdet :class:`~mmdet.models.backbones.ResNetV1d` (ResNet-D: deep stem,
    avg-pool downsampling) + RKAN."""


@MODELS.register_module()
class RKANResNeXt(RKANMixin, ResNeXt):
    """mmdet :class:`~mmdet.models.backbones.ResNeXt` + RKAN (RKANeXt);
    e.g. ``dict(type='RKANResNeXt', depth=50, groups=32, base_width=4)``."""


@MODELS.register_module()
class RKANRes2Net(RKANMixin, Res2Net):
    """mmdet :class:`~mmdet.models.backbones.Res2Net` + RKAN."""


@MODELS.register_module()
class RKANResNeSt(RKANMixin, ResNeSt):
    """mmdet :class:`~mmdet.models.backbones.ResNeSt` + RKAN."""


@MODELS.register_module()
class RKANRegNet(RKANMixin, RegNetY):
    """mmdet's RegNet with the RegNetY archs (:class:`~.regnet.RegNetY`) + RKAN.

    Stage widths come from the arch (RegNetX-3.2GF: 96, 192, 432, 1008;
    RegNetY-3.2GF: 72, 216, 576, 1512), so the last block is 432 -> 216 -> 1008
    (576 -> 288 -> 1512), with the KAN stride of the stride-2 last stage.
    """


@MODELS.register_module()
class RKANDenseNet(RKANMixin, PlainDenseNet):
    """mmpretrain's DenseNet with the head choice of :class:`~.densenet.PlainDenseNet` + RKAN.

    Stage ``i`` (key ``stage{i}``) runs from the dense block's input to the
    output of its transition (BN-ReLU-1x1-AvgPool, stride 2, half the width);
    on the last stage, to the final BN, before its activation, as the reference
    code adds it. DenseNet-169: last block 640 -> 320 -> 1664, stride 1.

    ``final_relu`` (default True, mmpretrain's function, so mmpretrain's and
    torchvision's DenseNet weights keep theirs): the features are
    ``relu(norm5(y) + r)``. ``final_relu=False`` is the paper's head,
    ``norm5(y) + r`` with no ReLU, as in ``configs/imagenet/rkan-densenet169_*``.
    """


@MODELS.register_module()
class RKANPyramidNet(RKANMixin, PyramidNet):
    """:class:`~.pyramidnet.PyramidNet` + RKAN. The last stage's ``y`` is the
    output of ``layer4``, before the final BN + ReLU, as the reference adds it.
    PyramidNet-50 (alpha 200): last block 904 -> 452 -> 1056, stride 2."""


@MODELS.register_module()
class RKANSENet(RKANMixin, PlainSEResNet):
    """mmpretrain :class:`~mmpretrain.models.backbones.SEResNet` + RKAN (RKAN-SENet).

    The SE layer (``se_ratio=16``) sits after the last norm of each residual
    block, before the identity add; keys are mmpretrain's, so an SE-ResNet
    checkpoint loads with only the RKAN keys missing.

    Args:
        se_bias: False builds the paper's bias-free SE 1x1 convs (keys
            ``se_layer.conv{1,2}.conv.bias`` then do not exist), as
            :class:`~.senet.PlainSEResNet`; RKAN-SENet-50 29,650,059 parameters
            with a 1000-class head (the paper's 29.65M).
    """


@MODELS.register_module()
class RKANSEResNeXt(RKANMixin, PlainSEResNeXt):
    """mmpretrain :class:`~mmpretrain.models.backbones.SEResNeXt` + RKAN;
    ``se_bias`` as in :class:`RKANSENet`."""
