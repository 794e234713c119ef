"""CPU demo: the paper's recipe shrunk to minutes on the synthetic shape dataset.

    python tools/demo/run_demo.py        (generates data/coco_demo/ if absent)

Inherits the real RKANet-50 Mask R-CNN config and changes only what a CPU
demo must:
- image size: 256 instead of 640 (same +-10% rescale, flip, colour jitter);
- backbone: RKAN-ResNet-18 (RKAN on stage 4 as in the paper) trained from
  scratch, so no ImageNet weights, BN trains and no stage is frozen;
- 4 classes; RoI sampling and proposals are mmdet's standard ones (the
  calibrated setting: ~3 s per iteration at 256 px, batch 4, on 2 idle cores);
- schedule: 200 iterations of batch 4, lr 0.02 with gradient clipping
  (from scratch, Mask R-CNN diverged to NaN at lr 0.02 without it).
"""
_base_ = '../mask_rcnn_rkanet50_1x_coco.py'

classes = ('circle', 'square', 'triangle', 'star')
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512]),
    roi_head=dict(bbox_head=dict(num_classes=len(classes)),
                  mask_head=dict(num_classes=len(classes))))

# ---- data: the recipe's pipeline at 256/640 of its scale ----
data_root = 'data/coco_demo/'
data_hint = ('Generate the synthetic demo data with: '
             'python tools/demo/make_coco_demo.py --out data/coco_demo')
train_scale = (426, 256)  # long-side cap 256 * 1066 / 640, as in the recipe
test_scale = (426, 256)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=train_scale, ratio_range=(0.9, 1.1),
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
demo_data = dict(data_root=data_root, metainfo=dict(classes=classes))
train_dataloader = dict(
    batch_size=4, num_workers=1,
    dataset=dict(**demo_data, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=1,
    dataset=dict(**demo_data, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator

# ---- schedule: 2 epochs of 100 iterations, lr steps once near the end ----
max_epochs = 2
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs + 1)  # test.py evaluates
optim_wrapper = dict(optimizer=dict(lr=0.02), clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_epochs * 100,
         milestones=[170], gamma=0.1),
]
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=max_epochs))
randomness = dict(seed=0)
