"""Attention plugins for mmdet's ResNet family (docs/families.md §4).

Registered in MMEngine's root ``MODELS``, so mmdet's plugin builder finds
them from any scope; put one after conv3 of every bottleneck with::

    plugins=[dict(cfg=dict(type='ELA'), position='after_conv3')]

SE is mmpretrain's ``SEResNet``; GCNet is mmcv's ``ContextBlock`` (see
``configs/_base_/gcnet_plugin.py``).
"""
from .cbam import CBAM
from .eca import ECA, eca_kernel_size
from .ela import ELA
from .shuffle_attention import ShuffleAttention, channel_shuffle
from .simam import SimAM

__all__ = ['CBAM', 'ECA', 'ELA', 'ShuffleAttention', 'SimAM', 'channel_shuffle',
           'eca_kernel_size']
