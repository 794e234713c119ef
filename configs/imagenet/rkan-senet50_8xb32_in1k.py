"""RKAN-SENet-50 on ImageNet-1k: mmpretrain SE-ResNet-50 + RKAN on stage 4."""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='RKANSENet',
        depth=50,
        out_indices=(3, ),
        style='pytorch',
        rkan_mechanisms=(None, None, None, 'addition'),
        reduce_factor=2,
        kan_type='chebyshev',
        kan_orders=(3, 2),
        kan_grids=(3, 2)))
