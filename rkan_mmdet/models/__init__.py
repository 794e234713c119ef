"""Models: KAN layers -> RKAN block -> backbones."""
from .backbones import RKANMixin, RKANResNet, RKANResNeXt, RKANSENet
from .layers import KAN_TYPES, KANConv2d
from .layers.rkan_block import RKANBlock

__all__ = ['KAN_TYPES', 'KANConv2d', 'RKANBlock', 'RKANMixin', 'RKANResNet',
           'RKANResNeXt', 'RKANSENet']
