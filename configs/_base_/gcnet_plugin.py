"""GCNet as the RKAN paper uses it: mmcv's ``ContextBlock`` as an mmdet plugin.

docs/families.md §4: a global-context block with bottleneck ratio 1/4 after
conv3 (the last norm, before the identity add) of every bottleneck in
stages 2-4, none in stage 1 (mmdet's ``configs/gcnet`` "r4" setting).

Use it as a second base and hand the list to any backbone that takes mmdet's
``plugins`` (``ResNet``, ``ResNeXt``, ``RKANResNet``, ``RKANResNeXt``, ...)::

    _base_ = ['../_base_/imagenet_100e.py', '../_base_/gcnet_plugin.py']
    model = dict(backbone=dict(plugins=_base_.gcnet_plugins))   # RKAN-GC-ResNet-50

Per bottleneck of width C (P = C / 4): ``conv_mask`` C + 1, two 1x1 convs
with biases 2 C P + P + C, LayerNorm 2 P.
"""
gcnet_plugins = [
    dict(cfg=dict(type='ContextBlock', ratio=1. / 4),
         stages=(False, True, True, True),
         position='after_conv3'),
]
