"""RKANSENet: mmpretrain's SE-ResNet with RKAN blocks (the paper's RKAN-SENet)."""
from mmengine.registry import MODELS
from mmpretrain.models.backbones import SEResNet
from mmpretrain.models.utils import SELayer

from .rkan_mixin import RKANMixin


@MODELS.register_module()
class RKANSENet(RKANMixin, SEResNet):
    """mmpretrain :class:`~mmpretrain.models.backbones.SEResNet` + RKAN.

    The SE layer (ratio ``se_ratio=16``) sits after the last norm of each
    residual block, before the identity add; keys are mmpretrain's, so an
    SE-ResNet checkpoint loads with only the RKAN keys missing.

    Args:
        se_bias: False builds the paper's bias-free SE 1x1 convs (keys
            ``se_layer.conv{1,2}.conv.bias`` then do not exist).
        **kwargs: SEResNet's and :class:`RKANMixin`'s arguments.
    """

    def __init__(self, *args, se_bias: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not se_bias:
            for module in self.modules():
                if isinstance(module, SELayer):
                    for conv_module in (module.conv1, module.conv2):
                        conv_module.conv.bias = None
                        conv_module.with_bias = False
