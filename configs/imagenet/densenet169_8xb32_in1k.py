"""DenseNet-169 baseline with the RKAN paper's head, trained with the RKAN recipe.

mmpretrain's DenseNet-169 layers (14,149,480 parameters with the 1000-class
head, 14.15M) with ``final_relu=False``: the pooled feature is the final BN's
output with no ReLU after it, as in the paper's code (docs/paper_models.md).
"""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(
    backbone=dict(_delete_=True, type='PlainDenseNet', arch='169', final_relu=False),
    head=dict(in_channels=1664))
