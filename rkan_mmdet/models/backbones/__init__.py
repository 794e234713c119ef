"""Backbones: ResNet-family classes with RKAN through one mixin."""
from .rkan_mixin import RKANMixin
from .rkan_resnet import RKANResNet
from .rkan_resnext import RKANResNeXt
from .rkan_senet import RKANSENet

__all__ = ['RKANMixin', 'RKANResNet', 'RKANResNeXt', 'RKANSENet']
