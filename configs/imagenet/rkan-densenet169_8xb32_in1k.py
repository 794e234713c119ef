"""RKAN-DenseNet-169 on ImageNet-1k: DenseNet-169 + RKAN on its last stage (640 -> 1664).

docs/families.md §3: the block runs from the last dense block's input to its final
BN (before the ReLU), stride 1, with the second KAN conv.
"""
_base_ = ['./densenet169_8xb32_in1k.py']
model = dict(backbone=dict(type='RKANDenseNet'))
