"""CPU demo: the paper's recipe shrunk to minutes on the synthetic shape dataset.

    python tools/demo/run_demo.py        (generates data/coco_demo/ if absent)

Inherits the real RKANet-50 Mask R-CNN config and changes only what a CPU
demo must:
- image size: 128 instead of 640 (same +-10% rescale, flip, colour jitter);
- backbone: RKAN-ResNet-18 (RKAN on stage 4 as in the paper) trained from
  scratch, so no ImageNet weights, BN trains and no stage is frozen;
- sizes: 4 classes; FPN and head width 128 instead of 256; 300 training
  proposals and 64 sampled RoIs per image (RoIAlign's single-threaded CPU
  backward and the mask head on positive RoIs dominate CPU time), 100 test
  proposals;
- schedule: 1000 iterations of batch 2 (5 epochs), lr 0.01 with gradient
  clipping (from scratch, Mask R-CNN diverged to NaN at lr 0.02 without it).
  Measured here: the RoI heads learn slowly from scratch, so many cheap
  iterations beat fewer large ones (200 iterations of batch 4 at 192 px
  reached AP 0.04; this reaches 0.17 in 13.6 minutes).
"""
_base_ = '../mask_rcnn_rkanet50_1x_coco.py'

classes = ('circle', 'square', 'triangle', 'star')
width = 128  # FPN and head channels (256 in the recipe)
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=width),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(in_channels=width, num_classes=len(classes)),
        mask_roi_extractor=dict(out_channels=width),
        mask_head=dict(in_channels=width, conv_out_channels=width,
                       num_classes=len(classes))),
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=300),
                   rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=100)))

# ---- data: the recipe's pipeline at 128/640 of its scale ----
data_root = 'data/coco_demo/'
data_hint = ('Generate the synthetic demo data with: '
             'python tools/demo/make_coco_demo.py --out data/coco_demo')
train_scale = (213, 128)  # long-side cap 128 * 1066 / 640, as in the recipe
test_scale = (213, 128)
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
    batch_size=2, num_workers=1,
    dataset=dict(**demo_data, pipeline=train_pipeline))
# No validation inside training (MMEngine would run it after the last epoch):
# tools/test.py evaluates the final checkpoint once.
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = dict(
    batch_size=4, num_workers=1,
    dataset=dict(**demo_data, pipeline=test_pipeline))
test_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')

# ---- schedule: 5 epochs of 200 iterations ----
max_epochs = 5
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.01), clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_epochs * 200,
         milestones=[850], gamma=0.1),
]
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(interval=max_epochs))
randomness = dict(seed=0)
