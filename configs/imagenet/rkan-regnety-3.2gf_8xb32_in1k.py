"""RKAN-RegNetY-3.2GF on ImageNet-1k: RKAN on stage 4 (576 -> 288 -> 1512, stride 2)."""
_base_ = ['./regnety-3.2gf_8xb32_in1k.py']
model = dict(backbone=dict(type='RKANRegNet'))
