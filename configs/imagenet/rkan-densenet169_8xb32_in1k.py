"""RKAN-DenseNet-169 on ImageNet-1k: DenseNet-169 + RKAN on its last stage (640 -> 1664).

docs/families.md §3: the block runs from the last dense block's input to its final
BN, stride 1, with the second KAN conv; the pooled feature is ``norm5(y) + r``
with no ReLU (``final_relu=False``, the paper's head). 14,890,827 parameters (14.89M).
"""
_base_ = ['./densenet169_8xb32_in1k.py']
model = dict(backbone=dict(type='RKANDenseNet'))
