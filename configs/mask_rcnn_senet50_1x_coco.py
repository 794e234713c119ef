"""Baseline: Mask R-CNN, SE-ResNet-50 FPN, paper recipe; twin of mask_rcnn_rkan_senet50.

The paper's SE has no biases (``se_bias=False``; 28.07M as an ImageNet classifier).

The detection settings out_indices=(0, 1, 2, 3), frozen_stages=1,
norm_eval=True and style='pytorch' (mmpretrain's defaults differ) are
inherited from the recipe's ResNet backbone dict, which this dict updates.
"""
_base_ = './_base_/coco_mask_rcnn_1x.py'

# ImageNet-1k start: what tools/train.py configs/imagenet/seresnet50_8xb32_in1k.py saves last.
imagenet_checkpoint = 'work_dirs/seresnet50_8xb32_in1k/epoch_100.pth'
model = dict(
    backbone=dict(
        type='PlainSEResNet',
        se_bias=False,
        init_cfg=dict(type='Pretrained', checkpoint=imagenet_checkpoint,
                      prefix='backbone.')))
