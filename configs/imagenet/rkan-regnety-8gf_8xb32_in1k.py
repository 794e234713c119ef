"""RKAN-RegNetY-8GF on ImageNet-1k: RKAN on stage 4 (896 -> 448 -> 2016, stride 2)."""
_base_ = ['./regnety-8gf_8xb32_in1k.py']
model = dict(backbone=dict(type='RKANRegNet'))
