"""ImageNet-1k classification recipe of the RKAN paper (docs/spec.md §4), written once.

Every config under ``configs/imagenet/`` inherits this file and changes only
the backbone. Inherited from mmpretrain: the ImageNet dataset/evaluator
(``imagenet_bs32``: 32 images per GPU, 8 GPUs = batch 256), the SGD schedule
(``imagenet_bs256``: lr 0.1, momentum 0.9, weight decay 1e-4, 100 epochs,
``auto_scale_lr`` base batch 256) and the default runtime.

Changed here:
  * model: ``ImageClassifier`` -> GAP -> 1000-class linear head, soft-target
    cross-entropy (mixed labels), top-1/top-5 accuracy. Default backbone is
    RKANet-50 as a classifier: the detection backbone type (``RKANResNet``),
    returning only the last stage, no frozen stages, BN in train mode.
  * schedule: 5-epoch linear warm-up from lr/100, then cosine decay to 0
    at epoch 100, both stepped every iteration.
  * train pipeline: RandomResizedCrop 224 + flip + RandAugment (2 ops,
    magnitude 9 of 10, timm "increasing" policies). No random erasing.
  * batch augments: mmpretrain's ``RandomBatchAugment`` draws ONE of
    ``augments`` per batch with ``probs`` and does nothing with the rest:
    CutMix (alpha 1.0) with p = 0.5, MixUp (alpha 0.2) with p = 0.3, no mix
    with p = 0.2. The paper's "CutMix p=0.5, MixUp p=0.3" is read as these
    exclusive per-batch probabilities (never both on one batch).
"""
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    'mmpretrain::_base_/schedules/imagenet_bs256.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['rkan_mmdet'], allow_failed_imports=False)
# mmengine's CheckpointHook (interval, max_keep_ckpts ... unchanged) in the
# order no kill can break: save, then point last_checkpoint at it, then delete.
default_hooks = dict(checkpoint=dict(type='KillSafeCheckpointHook'))

# ---------------------------------------------------------------- model
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='RKANResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        frozen_stages=-1,
        norm_eval=False,
        style='pytorch',
        rkan_mechanisms=(None, None, None, 'addition'),
        reduce_factor=2,
        kan_type='chebyshev',
        kan_orders=(3, 2),
        kan_grids=(3, 2)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0, use_soft=True),
        topk=(1, 5)),
    # probs must be a list (mmpretrain appends the "no mix" remainder to it)
    train_cfg=dict(
        augments=[
            dict(type='CutMix', alpha=1.0),
            dict(type='Mixup', alpha=0.2),
        ],
        probs=[0.5, 0.3]),
)

# ---------------------------------------------------------------- data
bgr_mean = [103.53, 116.28, 123.675]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(pad_val=[round(x) for x in bgr_mean])),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator

# ---------------------------------------------------------------- schedule
# lr 0.1 is for a total batch of 256; auto_scale_lr (inherited, base 256)
# rescales it when training runs with --auto-scale-lr on another batch size.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
warmup_epochs = 5
max_epochs = 100
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs,
         eta_min=0.0, by_epoch=True, begin=warmup_epochs, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
auto_scale_lr = dict(base_batch_size=256)
