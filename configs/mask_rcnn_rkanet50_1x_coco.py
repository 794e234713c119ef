"""RKANet-50 (RKAN on stage 4, Chebyshev 3/2, addition), paper COCO recipe."""
_base_ = './_base_/coco_mask_rcnn_1x.py'

# ImageNet-1k start: what tools/train.py configs/imagenet/rkanet50_8xb32_in1k.py saves last.
# One-line switch to plain torchvision ImageNet weights (RKAN block random):
# make the init_cfg line below
#   init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')))
imagenet_checkpoint = 'work_dirs/rkanet50_8xb32_in1k/epoch_100.pth'
model = dict(
    backbone=dict(
        type='RKANResNet',
        init_cfg=dict(type='Pretrained', checkpoint=imagenet_checkpoint,
                      prefix='backbone.')))
