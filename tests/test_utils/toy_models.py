"""Small models and configs that checkpoints are loaded into by the tests."""
from pathlib import Path
from typing import Any, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset


class ToyModel(BaseModel):
    """``lin``: one ``Linear(2, 1)``; the loss is the mean squared error to
    ``labels`` (to 0 without labels). ``inputs`` is a ``(B, 2)`` tensor or, as
    ``pseudo_collate`` hands it over, a list of ``(2,)`` tensors."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 1)

    def forward(self,
                inputs: Union[torch.Tensor, List[torch.Tensor]],
                labels: Optional[torch.Tensor] = None,
                mode: str = 'tensor') -> Any:
        out = self.lin(torch.stack(inputs) if isinstance(inputs, list) else inputs)
        if mode == 'loss':
            target = torch.zeros_like(out) if labels is None else labels
            return dict(loss=((out - target)**2).mean())
        return out


class ToyDataset(Dataset):

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> dict:
        return dict(inputs=torch.full((2, ), float(i)),
                    labels=torch.tensor([float(i)]))


def toy_run(work_dir: Path, name: str, max_iters: int) -> dict:
    """The Runner arguments of the toy run: :class:`ToyModel` on
    :class:`ToyDataset`, batch 2 in order, SGD, ``max_iters`` iterations."""
    torch.manual_seed(0)
    return dict(
        model=ToyModel(),
        work_dir=str(work_dir),
        experiment_name=name,
        train_dataloader=dict(dataset=ToyDataset(),
                              batch_size=2,
                              sampler=dict(type='DefaultSampler',
                                           shuffle=False),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        log_level='ERROR',
        default_scope='mmengine')


def make_runner(work_dir: Path, name: str, max_iters: int,
                **kwargs: Any) -> Runner:
    """A Runner of the toy run, checkpoints every 2 iterations."""
    return Runner(
        **toy_run(work_dir, name, max_iters),
        default_hooks=dict(checkpoint=dict(type='KillSafeCheckpointHook',
                                           interval=2,
                                           by_epoch=False),
                           logger=dict(type='LoggerHook', interval=1)),
        **kwargs)


def make_flexible_runner(work_dir: Path, name: str, max_iters: int,
                         **kwargs: Any) -> Any:
    """mmengine's ``FlexibleRunner`` (strategy-based) on the same toy run."""
    from mmengine.runner import FlexibleRunner
    return FlexibleRunner(**toy_run(work_dir, name, max_iters),
                          strategy=dict(type='SingleDeviceStrategy'), **kwargs)


#: A RetinaNet small enough to build in well under a second (ResNet-18 at
#: 8 base channels, one FPN level of 8 channels, one conv per head branch),
#: as mmdet configs
#: write it: what ``DetInferencer``/``init_detector`` build.
TINY_DETECTOR = dict(
    default_scope='mmdet',
    model=dict(
        type='RetinaNet',
        data_preprocessor=dict(type='DetDataPreprocessor',
                               mean=[0.0, 0.0, 0.0],
                               std=[255.0, 255.0, 255.0],
                               pad_size_divisor=32),
        backbone=dict(type='ResNet',
                      depth=18,
                      base_channels=8,
                      out_indices=(3, ),
                      init_cfg=None),
        neck=dict(type='FPN', in_channels=[64], out_channels=8, num_outs=1),
        bbox_head=dict(
            type='RetinaHead',
            num_classes=2,
            in_channels=8,
            stacked_convs=1,
            feat_channels=8,
            anchor_generator=dict(type='AnchorGenerator',
                                  octave_base_scale=4,
                                  scales_per_octave=1,
                                  ratios=[1.0],
                                  strides=[32]),
            bbox_coder=dict(type='DeltaXYWHBBoxCoder',
                            target_means=[0.0, 0.0, 0.0, 0.0],
                            target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=dict(type='FocalLoss', use_sigmoid=True),
            loss_bbox=dict(type='L1Loss')),
        test_cfg=dict(nms_pre=100,
                      min_bbox_size=0,
                      score_thr=0.0,
                      nms=dict(type='nms', iou_threshold=0.5),
                      max_per_img=5)),
    test_dataloader=dict(dataset=dict(type='CocoDataset', pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(64, 64), keep_ratio=True),
        dict(type='PackDetInputs',
             meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                        'scale_factor')),
    ])),
    visualizer=dict(type='DetLocalVisualizer',
                    vis_backends=[dict(type='LocalVisBackend')],
                    save_dir='OVERRIDDEN',
                    name='visualizer'),
)

#: An mmpretrain classifier of the same size, for its inferencers.
TINY_CLASSIFIER = dict(model=dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, base_channels=8),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=2, in_channels=64)))
