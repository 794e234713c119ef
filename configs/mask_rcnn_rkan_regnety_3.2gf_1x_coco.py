"""RKAN-RegNetY-3.2GF (RKAN on stage 4, 576 -> 1512), paper COCO recipe.

The FPN takes RegNetY-3.2GF's stage widths 72, 216, 576, 1512.
"""
_base_ = './_base_/coco_mask_rcnn_1x.py'

# ImageNet-1k start: what tools/train.py saves last for
# configs/imagenet/rkan-regnety-3.2gf_8xb32_in1k.py.
# Plain RegNetY-3.2GF start (RKAN block random): the checkpoint of
# configs/imagenet/regnety-3.2gf_8xb32_in1k.py, or torchvision's weights with
# their keys renamed by rkan_mmdet.models.backbones.torchvision_regnet_keys.
imagenet_checkpoint = 'work_dirs/rkan-regnety-3.2gf_8xb32_in1k/epoch_100.pth'
model = dict(
    backbone=dict(
        _delete_=True,
        type='RKANRegNet',
        arch='regnety_3.2gf',
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint=imagenet_checkpoint,
                      prefix='backbone.')),
    neck=dict(in_channels=[72, 216, 576, 1512]))
