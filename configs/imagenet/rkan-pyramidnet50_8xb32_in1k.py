"""RKAN-PyramidNet-50 on ImageNet-1k: RKAN on stage 4 (904 -> 452 -> 1056, stride 2),
added to layer4's output before the final BN + ReLU, as in the paper's code."""
_base_ = ['./pyramidnet50_8xb32_in1k.py']
model = dict(backbone=dict(type='RKANPyramidNet'))
