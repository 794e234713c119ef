"""RKANet-50-6xL on ImageNet-1k (44.45M params): RKAN-L, M = 6 * C_in on stage 4."""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(backbone=dict(type='RKANResNet', depth=50, inv_factor=6))
