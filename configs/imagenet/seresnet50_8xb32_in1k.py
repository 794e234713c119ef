"""SE-ResNet-50 baseline with the paper's bias-free SE, trained with the same RKAN recipe.

``se_bias=False``: the SE 1x1 convs have no biases, as in the paper's code:
28,071,976 parameters with the 1000-class head, the paper's 28.07M
(mmpretrain's biased SE would give 28.09M).
"""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(
    backbone=dict(
        _delete_=True, type='PlainSEResNet', depth=50, out_indices=(3, ),
        style='pytorch', se_bias=False))
