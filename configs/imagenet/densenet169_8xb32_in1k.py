"""DenseNet-169 baseline (mmpretrain's, 14.15M params) trained with the RKAN recipe."""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(
    backbone=dict(_delete_=True, type='mmpretrain.DenseNet', arch='169'),
    head=dict(in_channels=1664))
