"""SE-ResNet / SE-ResNeXt with the RKAN paper's bias-free SE (docs/families.md §4).

mmpretrain's ``SELayer`` gives both 1x1 convs a bias; the paper's SE-ResNet has
none: ``x * sigmoid(W2 relu(W1 gap(x)))``, W1: C -> C/16, W2: C/16 -> C. For
SE-ResNet-50 that is 28,088,024 - 16,048 = 28,071,976 parameters with a
1000-class head (the paper's 28.07M). ``se_bias=False`` removes the biases
after mmpretrain has built the network (the keys ``se_layer.conv{1,2}.conv.bias``
then do not exist); True keeps mmpretrain's network and checkpoints.
"""
from mmengine.registry import MODELS
from mmpretrain.models.backbones import SEResNet, SEResNeXt
from mmpretrain.models.utils import SELayer
from torch import nn


def drop_se_bias(backbone: nn.Module) -> None:
    """Remove the biases of every SE layer's 1x1 convs (the paper's SE)."""
    for module in backbone.modules():
        if isinstance(module, SELayer):
            for conv_module in (module.conv1, module.conv2):
                conv_module.conv.bias = None
                conv_module.with_bias = False


def check_se_bias(se_bias) -> bool:
    if not isinstance(se_bias, bool):
        raise ValueError(f'se_bias must be True or False, got {se_bias!r} '
                         f'({type(se_bias).__name__})')
    return se_bias


@MODELS.register_module()
class PlainSEResNet(SEResNet):
    """mmpretrain's SEResNet (every argument as there) plus ``se_bias``.

    Args:
        se_bias: False builds the paper's bias-free SE 1x1 convs.
    """

    def __init__(self, *args, se_bias: bool = True, **kwargs) -> None:
        check_se_bias(se_bias)
        super().__init__(*args, **kwargs)
        if not se_bias:
            drop_se_bias(self)


@MODELS.register_module()
class PlainSEResNeXt(SEResNeXt):
    """mmpretrain's SEResNeXt plus ``se_bias`` (as :class:`PlainSEResNet`)."""

    def __init__(self, *args, se_bias: bool = True, **kwargs) -> None:
        check_se_bias(se_bias)
        super().__init__(*args, **kwargs)
        if not se_bias:
            drop_se_bias(self)
