"""RKAN-SENet-50 (SE-ResNet-50 + RKAN on stage 4), paper COCO recipe.

The paper's SE has no biases (``se_bias=False``; 29.65M as an ImageNet classifier).

out_indices=(0, 1, 2, 3), frozen_stages=1, norm_eval=True and style='pytorch'
(mmpretrain's defaults differ) come from the recipe's backbone dict.
"""
_base_ = './_base_/coco_mask_rcnn_1x.py'

# ImageNet-1k start: what tools/train.py configs/imagenet/rkan-senet50_8xb32_in1k.py saves last.
# Plain SE-ResNet-50 start (RKAN block random): the same line with the
# checkpoint of configs/imagenet/seresnet50_8xb32_in1k.py.
imagenet_checkpoint = 'work_dirs/rkan-senet50_8xb32_in1k/epoch_100.pth'
model = dict(
    backbone=dict(
        type='RKANSENet',
        se_bias=False,
        init_cfg=dict(type='Pretrained', checkpoint=imagenet_checkpoint,
                      prefix='backbone.')))
