"""Baseline: Mask R-CNN, ResNet-50 FPN, paper recipe; twin of mask_rcnn_rkanet50."""
_base_ = './_base_/coco_mask_rcnn_1x.py'

# ImageNet-1k start: what tools/train.py configs/imagenet/resnet50_8xb32_in1k.py saves last.
imagenet_checkpoint = 'work_dirs/resnet50_8xb32_in1k/epoch_100.pth'
model = dict(
    backbone=dict(
        type='ResNet',
        init_cfg=dict(type='Pretrained', checkpoint=imagenet_checkpoint,
                      prefix='backbone.')))
