"""ResNet-50 baseline (25.56M params) trained with the same RKAN recipe."""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(
    backbone=dict(
        _delete_=True, type='mmpretrain.ResNet', depth=50, out_indices=(3, ),
        style='pytorch'))
