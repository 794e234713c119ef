"""Backbones: RKAN blocks beside the stages of any backbone, through one mechanism.

stages.py (where the stages are) -> attach.py (hooks) -> rkan_mixin.py
(RKANMixin) -> families.py (registered classes) and generic.py (``type='RKAN'``).
"""
from .families import (RKANDenseNet, RKANRegNet, RKANRes2Net, RKANResNeSt,
                       RKANResNet, RKANResNetV1d, RKANResNeXt, RKANSENet,
                       RKANSEResNeXt)
from .generic import build_rkan_backbone, rkan_class
from .paper_resnest import PaperResNeSt
from .rkan_mixin import RKANMixin

__all__ = ['PaperResNeSt', 'RKANDenseNet', 'RKANMixin', 'RKANRegNet', 'RKANRes2Net', 'RKANResNeSt',
           'RKANResNet', 'RKANResNetV1d', 'RKANResNeXt', 'RKANSENet', 'RKANSEResNeXt',
           'build_rkan_backbone', 'rkan_class']
