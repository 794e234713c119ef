"""RegNetY-8GF baseline (torchvision's ``regnet_y_8gf``), same RKAN recipe.

Stage widths 224, 448, 896, 2016.
"""
_base_ = ['./regnety-3.2gf_8xb32_in1k.py']
model = dict(backbone=dict(arch='regnety_8gf'), head=dict(in_channels=2016))
