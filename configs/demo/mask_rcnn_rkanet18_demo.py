"""CPU demo: the paper's recipe shrunk to minutes on the synthetic shape dataset.

    python tools/demo/run_demo.py        (generates data/coco_demo/ if absent)

Inherits the real RKANet-50 Mask R-CNN config and changes only what a CPU
demo must:
- image size: 128 instead of 640 (same +-10% rescale, flip, colour jitter);
- backbone: RKAN-ResNet-18 (RKAN on stage 4 as in the paper) trained from
  scratch, so no ImageNet weights, no frozen stage and no frozen norm. Its
  norm is GroupNorm: from scratch at 2 images per batch, BN's batch
  statistics (stage 4 sees 2 x 4 x 4 positions at 128 px) are noise.
  Measured here, BN -> GN: bbox AP 0.33 -> 0.46 after 1000 iterations
  (0.036 -> 0.098 after 400 on the random-colour data);
- sizes: 4 classes; FPN width 128 instead of 256, box head fcs 512 instead
  of 1024, mask head convs 64; 300 training proposals and 64 sampled RoIs per
  image, 100 test proposals. Mask convs of 64 instead of 128 channels made an
  iteration 28% faster (0.46 -> 0.33 s) at the same AP (bbox / segm
  0.659 / 0.601 -> 0.654 / 0.599, 1800 iterations). fcs of 512 instead of
  1024: the fc matmuls 36 -> 19 ms an iteration, whole run 6 min 30 s ->
  5 min 53 s, AP 0.647 / 0.601 -> 0.625 / 0.582 (both with fused SGD);
- RoI extractors: ``ThreadedSingleRoIExtractor`` (rkan_mmdet.ops), mmdet's
  extractor whose RoIAlign runs on all threads with results bitwise equal
  to mmcv's (no model change). mmcv's CPU RoIAlign, single-threaded, was
  28% of an iteration (forward + backward, torch.profiler); the threaded one
  takes 4.2x less CPU time at the demo's sizes (bbox + mask, fwd + bwd);
- optimizer: the recipe's SGD with ``fused=True``, torch's one-pass kernel
  of the same update (weight decay, momentum, step): the per-parameter
  loop was 18% of an iteration (43 ms, torch.profiler), fused 8 ms;
- schedule: 1800 iterations of batch 2 (9 epochs), lr x0.1 after 1550, and
  lr 0.005 with gradient clipping. Measured here over 1000 iterations (GN),
  lr 0.02 / 0.01 / 0.005 / 0.0025 gave bbox AP 0.31 / 0.46 / 0.56 / 0.55
  (0.0025 is the recipe's 0.01 @ batch 8 scaled linearly to batch 2).
  1400 iterations (lr x0.1 after 1200) gave only 0.565 / 0.512: cutting
  iterations costs more AP than the narrower fcs.
"""
_base_ = '../mask_rcnn_rkanet50_1x_coco.py'

# rkan_mmdet.ops: ThreadedSingleRoIExtractor (RoIAlign bitwise mmcv's, threaded)
custom_imports = dict(imports=['rkan_mmdet', 'rkan_mmdet.ops'], allow_failed_imports=False)

classes = ('circle', 'square', 'triangle', 'star')
width = 128  # FPN and box head channels (256 in the recipe)
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None,
                  norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=width),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(type='ThreadedSingleRoIExtractor', out_channels=width),
        bbox_head=dict(in_channels=width, fc_out_channels=512, num_classes=len(classes)),
        mask_roi_extractor=dict(type='ThreadedSingleRoIExtractor', out_channels=width),
        mask_head=dict(in_channels=width, conv_out_channels=width // 2,
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

# ---- schedule: 9 epochs of 200 iterations ----
max_epochs = 9
train_cfg = dict(max_epochs=max_epochs)
# fused=True: torch's one-pass SGD kernel (same update rule), 43 -> 8 ms a step
optim_wrapper = dict(optimizer=dict(lr=0.005, fused=True),
                     clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_epochs * 200,
         milestones=[1550], gamma=0.1),
]
default_hooks = dict(logger=dict(interval=50),
                     checkpoint=dict(interval=max_epochs))
randomness = dict(seed=0)
