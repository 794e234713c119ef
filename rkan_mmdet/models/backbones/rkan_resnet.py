"""RKANResNet: mmdet's ResNet with RKAN blocks (RKAN_SPEC §1)."""
from mmdet.models.backbones import ResNet
from mmengine.registry import MODELS

from .rkan_mixin import RKANMixin


@MODELS.register_module()
class RKANResNet(RKANMixin, ResNet):
    """mmdet :class:`~mmdet.models.backbones.ResNet` + RKAN.

    Every ResNet argument keeps its meaning; the RKAN arguments are those of
    :class:`RKANMixin`, with the paper's defaults (RKAN on stage 4, reduce
    factor 2, Chebyshev KAN of degrees 3 and 2, addition).

    Example:
        >>> backbone = dict(type='RKANResNet', depth=50)               # RKANet-50
        >>> backbone = dict(type='RKANResNet', depth=50, inv_factor=2)  # RKANet-50-2xL
    """
