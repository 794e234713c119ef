"""RKAN-SENet-50 on ImageNet-1k: SE-ResNet-50 with the paper's bias-free SE + RKAN on stage 4.

29,650,059 parameters with the 1000-class head: the paper's 29.65M
(``se_bias=False``; mmpretrain's biased SE would give 29.67M).
"""
_base_ = ['./seresnet50_8xb32_in1k.py']
model = dict(
    backbone=dict(
        type='RKANSENet',
        rkan_mechanisms=(None, None, None, 'addition'),
        reduce_factor=2,
        kan_type='chebyshev',
        kan_orders=(3, 2),
        kan_grids=(3, 2)))
