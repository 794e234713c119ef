"""Models: KAN layers -> RKAN block -> backbones."""
from .backbones import (PlainDenseNet, PlainSEResNet, PlainSEResNeXt, PyramidNet,
                        RegNetY, RKANDenseNet, RKANMixin, RKANPyramidNet, RKANRegNet,
                        RKANRes2Net, RKANResNeSt, RKANResNet, RKANResNetV1d, RKANResNeXt,
                        RKANSENet, RKANSEResNeXt)
from .layers import KAN_TYPES, KANConv2d
from .layers.rkan_block import RKANBlock
from . import plugins  # noqa: F401,E402  (registers ECA, CBAM, ShuffleAttention, SimAM, ELA)

__all__ = ['KAN_TYPES', 'KANConv2d', 'PlainDenseNet', 'PlainSEResNet', 'PlainSEResNeXt',
           'PyramidNet', 'RKANBlock', 'RKANDenseNet', 'RKANMixin', 'RKANPyramidNet',
           'RegNetY', 'RKANRegNet', 'RKANRes2Net', 'RKANResNeSt', 'RKANResNet', 'RKANResNetV1d',
           'RKANResNeXt', 'RKANSENet', 'RKANSEResNeXt']
