"""RKAN-ELA-L-50 on ImageNet-1k: ELA-L after conv3 of every ResNet-50 bottleneck + RKAN on stage 4.

28.01M parameters; 27.98M by the paper's profiler count, which skips ELA's
GroupNorms and the KAN convs' own weights (rkan_mmdet/analysis/param_count.py).
"""
_base_ = ['../_base_/imagenet_100e.py']
ela_plugins = [dict(cfg=dict(type='ELA'), position='after_conv3')]  # every stage
model = dict(backbone=dict(plugins=ela_plugins))
