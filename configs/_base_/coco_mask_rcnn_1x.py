"""The paper's COCO recipe (docs/spec.md §4): Mask R-CNN + FPN, 1x schedule.

Every model config inherits this file and changes only ``model.backbone``
(type, depth/options and the ImageNet checkpoint its ``init_cfg`` loads).
Values here are the paper's, stated explicitly even where they equal mmdet's.
"""
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]
# Registers RKANResNet / RKANSENet and the safe checkpoint loading.
custom_imports = dict(imports=['rkan_mmdet'], allow_failed_imports=False)
# mmengine's CheckpointHook (interval, max_keep_ckpts ... unchanged) in the
# order no kill can break: save, then point last_checkpoint at it, then delete.
default_hooks = dict(checkpoint=dict(type='KillSafeCheckpointHook'))

# Backbone start: each model config sets
#   imagenet_checkpoint = 'work_dirs/<configs/imagenet twin>/epoch_100.pth'
#   init_cfg=dict(type='Pretrained', checkpoint=imagenet_checkpoint, prefix='backbone.')
# (a whole mmpretrain classifier checkpoint; the prefix keeps its backbone).
# One-line switch to plain ResNet-50 ImageNet weights (RKAN block stays random):
#   --cfg-options model.backbone.init_cfg.checkpoint=torchvision://resnet50 \
#                 model.backbone.init_cfg.prefix=None

# ---- data: shorter side 640, random rescale +-10%, flip, colour jitter ----
# Scales are (long-side cap, short side). The cap keeps mmdet's 1333:800
# aspect limit at 640: 640 * 1333 / 800 = 1066.
# RandomResize with ratio_range draws one ratio r ~ U(0.9, 1.1) and resizes
# with keep_ratio to at most (int(1066 r), int(640 r)): the shorter side is
# 576..704 and the long-side cap scales with it (959..1172), so every image
# keeps its aspect ratio and extreme panoramas are bounded proportionally.
train_scale = (1066, 640)
train_ratio_range = (0.9, 1.1)
test_scale = (1066, 640)

backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=train_scale, ratio_range=train_ratio_range,
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    # Colour jitter: brightness, contrast, saturation, hue (mmdet defaults).
    dict(type='PhotoMetricDistortion'),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
# Total batch 8 = 2 GPUs x 4 images (tools/dist_train.sh CONFIG 2). With any
# other GPU count keep 8 images in total, or pass --auto-scale-lr to scale
# lr linearly by (GPUs x batch_size) / 8.
train_dataloader = dict(batch_size=4, num_workers=4,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# CocoMetric on bbox and segm for val and test comes from coco_instance.py.

# ---- schedule: 12 epochs, SGD lr 0.01 @ batch 8, steps at epochs 9 and 12 ----
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
auto_scale_lr = dict(enable=False, base_batch_size=8)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
param_scheduler = [
    # mmdet's 1x warm-up: linear from lr * 0.001 over the first 500 iterations.
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    # MMEngine counts epochs from 0: milestones 8 and 11 multiply the lr by 0.1
    # at the START of epochs 9 and 12 (1-based), i.e. after 8 and 11 epochs.
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11],
         gamma=0.1),
]
