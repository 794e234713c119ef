"""PyramidNet-50 (alpha 200, the paper code's default), same RKAN recipe.

Bottleneck pre-activation blocks 3, 4, 6, 3, widths growing by 12.5 per block:
stage outputs 408, 608, 904, 1056 channels; final BN + ReLU.
"""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(
    backbone=dict(_delete_=True, type='PyramidNet', depth=50, alpha=200, out_indices=(3, )),
    head=dict(in_channels=1056))
