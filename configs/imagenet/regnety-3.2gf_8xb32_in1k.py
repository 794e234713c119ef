"""RegNetY-3.2GF baseline (torchvision's RegNetY: SE in every block), same RKAN recipe.

Stage widths 72, 216, 576, 1512; 19,436,338 parameters with the 1000-class
head (torchvision's ``regnet_y_3_2gf``).
"""
_base_ = ['../_base_/imagenet_100e.py']
model = dict(
    backbone=dict(
        _delete_=True, type='RegNetY', arch='regnety_3.2gf', out_indices=(3, ),
        frozen_stages=-1, norm_eval=False),
    head=dict(in_channels=1512))
