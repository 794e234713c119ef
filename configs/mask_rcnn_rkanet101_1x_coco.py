"""RKANet-101 (RKAN on stage 4), paper COCO recipe."""
_base_ = './_base_/coco_mask_rcnn_1x.py'

# ImageNet-1k start: what tools/train.py configs/imagenet/rkanet101_8xb32_in1k.py saves last.
# One-line switch to plain torchvision ImageNet weights (RKAN block random):
# make the init_cfg line below
#   init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
imagenet_checkpoint = 'work_dirs/rkanet101_8xb32_in1k/epoch_100.pth'
model = dict(
    backbone=dict(
        type='RKANResNet',
        depth=101,
        init_cfg=dict(type='Pretrained', checkpoint=imagenet_checkpoint,
                      prefix='backbone.')))
