"""Backbones: RKAN blocks beside the stages of any backbone, through one mechanism.

stages.py (where the stages are) -> attach.py (hooks) -> rkan_mixin.py
(RKANMixin) -> families.py (registered classes) and generic.py (``type='RKAN'``).
"""
from .densenet import PlainDenseNet
from .families import (RKANDenseNet, RKANPyramidNet, RKANRegNet, RKANRes2Net,
                       RKANResNeSt, RKANResNet, RKANResNetV1d, RKANResNeXt, RKANSENet,
                       RKANSEResNeXt)
from .generic import build_rkan_backbone, rkan_class
from .pyramidnet import PyramidNet
from .regnet import RegNetSE, RegNetY, torchvision_regnet_keys
from .rkan_mixin import RKANMixin
from .senet import PlainSEResNet, PlainSEResNeXt

__all__ = ['PlainDenseNet', 'PlainSEResNet', 'PlainSEResNeXt', 'PyramidNet', 'RKANDenseNet',
           'RKANMixin', 'RKANPyramidNet', 'RKANRegNet', 'RKANRes2Net', 'RKANResNeSt', 'RKANResNet', 'RKANResNetV1d',
           'RKANResNeXt', 'RKANSENet', 'RKANSEResNeXt', 'RegNetSE', 'RegNetY',
           'build_rkan_backbone', 'rkan_class', 'torchvision_regnet_keys']
