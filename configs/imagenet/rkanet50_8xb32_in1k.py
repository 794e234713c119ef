"""RKANet-50 on ImageNet-1k (27.14M params): ResNet-50 + RKAN on stage 4."""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(backbone=dict(type='RKANResNet', depth=50))
