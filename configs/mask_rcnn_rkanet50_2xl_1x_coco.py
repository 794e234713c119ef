"""RKANet-50-2xL (RKAN-L, inverse bottleneck M = 2 C_in on stage 4), paper COCO recipe."""
_base_ = './_base_/coco_mask_rcnn_1x.py'

# ImageNet-1k start: what tools/train.py configs/imagenet/rkanet50-2xl_8xb32_in1k.py saves last.
# One-line switch to plain torchvision ImageNet weights (RKAN block random):
# make the init_cfg line below
#   init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')))
imagenet_checkpoint = 'work_dirs/rkanet50-2xl_8xb32_in1k/epoch_100.pth'
model = dict(
    backbone=dict(
        type='RKANResNet',
        inv_factor=2,
        init_cfg=dict(type='Pretrained', checkpoint=imagenet_checkpoint,
                      prefix='backbone.')))
