"""RKANResNeXt: mmdet's ResNeXt (groups, base_width) with RKAN blocks."""
from mmdet.models.backbones import ResNeXt
from mmengine.registry import MODELS

from .rkan_mixin import RKANMixin


@MODELS.register_module()
class RKANResNeXt(RKANMixin, ResNeXt):
    """mmdet :class:`~mmdet.models.backbones.ResNeXt` + RKAN (see :class:`RKANMixin`).

    Example:
        >>> backbone = dict(type='RKANResNeXt', depth=50, groups=32, base_width=4)
    """
