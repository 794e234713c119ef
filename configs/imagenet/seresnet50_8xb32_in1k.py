"""SE-ResNet-50 baseline trained with the same RKAN recipe."""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(
    backbone=dict(
        _delete_=True, type='mmpretrain.SEResNet', depth=50, out_indices=(3, ),
        style='pytorch'))
