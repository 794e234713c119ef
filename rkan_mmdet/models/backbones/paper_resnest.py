"""ResNeSt as the RKAN paper's code builds it: split attention in torchvision's ResNet.

The paper's ResNeSt (``RKAN_ResNeSt.py``) replaces the bottlenecks of a
torchvision ResNet-50/101 by split-attention ones and keeps the rest of that
ResNet: the 7x7 stem, 1x1 strided downsampling, no average pool inside the
block. mmdet's :class:`~mmdet.models.backbones.ResNeSt` derives from
``ResNetV1d`` and always builds the deep stem and pooled downsampling;
:class:`PaperResNeSt` is that same class (its blocks, arch table and layer
builder) built on plain ``ResNet``'s stem and downsampling instead. With RKAN:
``dict(type='RKAN', backbone=dict(type='PaperResNeSt', depth=50))``.

Per block (radix R = 2, width C = planes, docs/families.md §2):
``conv2.conv`` 3x3 C -> R C (groups R), ``bn0``, ReLU; ``gap = sum_r split_r``;
``fc1`` (C -> max(R C / 4, 32), bias), ``bn1``, ReLU, ``fc2`` (-> R C, bias),
softmax over the R splits; output ``sum_r a_r split_r``.
"""
from mmdet.models.backbones import ResNeSt, ResNet
from mmengine.registry import MODELS


@MODELS.register_module()
class PaperResNeSt(ResNeSt):
    """mmdet's ResNeSt with ResNet's 7x7 stem and strided 1x1 downsampling.

    Args:
        groups, base_width, radix, reduction_factor: as mmdet's ResNeSt.
        avg_down_stride: average-pool the stride inside the block (mmdet's
            default True); the paper's code uses False.
        **kwargs: mmdet :class:`~mmdet.models.backbones.ResNet`'s arguments
            (``deep_stem`` and ``avg_down`` included, both False by default).
    """

    def __init__(self, groups: int = 1, base_width: int = 4, radix: int = 2,
                 reduction_factor: int = 4, avg_down_stride: bool = False, **kwargs) -> None:
        self.groups = groups
        self.base_width = base_width
        self.radix = radix
        self.reduction_factor = reduction_factor
        self.avg_down_stride = avg_down_stride
        ResNet.__init__(self, **kwargs)  # skips ResNetV1d's forced deep stem and avg_down
