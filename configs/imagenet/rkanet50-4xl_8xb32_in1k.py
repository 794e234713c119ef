"""RKANet-50-4xL on ImageNet-1k (38.15M params): RKAN-L, M = 4 * C_in on stage 4."""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(backbone=dict(type='RKANResNet', depth=50, inv_factor=4))
