"""RKANet-101 on ImageNet-1k: ResNet-101 + RKAN on stage 4."""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(backbone=dict(type='RKANResNet', depth=101))
