"""CPU demo of the ImageNet recipe: RKAN-ResNet-18 on the synthetic shapes set.

Inherits ``configs/_base_/imagenet_100e.py`` (RandAugment, CutMix/MixUp
batch augments, SGD, warm-up + cosine) and shrinks only classes, image size,
batch and schedule. The backbone is built exactly as in the detection demo
(``configs/demo/mask_rcnn_rkanet18_demo.py``: ``RKANResNet``, depth 18, RKAN
on stage 4), so the checkpoint this writes loads there with
``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.

    python tools/demo/make_imagenet_demo.py --out data/imagenet_demo
    python tools/train.py configs/demo/rkanet18_cls_demo.py  # or mmengine Runner
"""
_base_ = ['../_base_/imagenet_100e.py']

# alphabetical: the labels come from the sorted class folders
demo_classes = ('checker', 'disc', 'square', 'stripes', 'triangle')
num_classes = len(demo_classes)
img_size = 64
data_root = 'data/imagenet_demo'

model = dict(
    # the detection demo's backbone, GroupNorm included (see its docstring)
    backbone=dict(type='RKANResNet', depth=18,
                  norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)),
    head=dict(num_classes=num_classes, in_channels=512, topk=(1, )))
data_preprocessor = dict(num_classes=num_classes)

bgr_mean = [103.53, 116.28, 123.675]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2,
         total_level=10, magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[round(x) for x in bgr_mean])),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=img_size, edge='short'),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=8, num_workers=0,
    dataset=dict(data_root=data_root, metainfo=dict(classes=demo_classes),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=0,
    dataset=dict(data_root=data_root, metainfo=dict(classes=demo_classes),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

# 2 epochs: 1 of warm-up, 1 of cosine decay; a demo lr for the batch of 8
optim_wrapper = dict(optimizer=dict(lr=0.01))
max_epochs = 2
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=0.0,
         by_epoch=True, begin=1, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, deterministic=False)
data_hint = ('Generate it: python tools/demo/make_imagenet_demo.py '
             '--out data/imagenet_demo')
