"""RKANet-50-2xL on ImageNet-1k (31.86M params): RKAN-L, M = 2 * C_in on stage 4."""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(backbone=dict(type='RKANResNet', depth=50, inv_factor=2))
