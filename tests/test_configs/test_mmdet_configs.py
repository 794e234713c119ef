"""mmdet's own detector configs with the backbone swapped for its RKAN twin.

Each config is ``_base_ = 'mmdet::...'`` plus the backbone ``type`` (and
``init_cfg=None``: no download here) and a tiny synthetic data set; it trains
one iteration with ``tools/train.py`` and is evaluated with ``tools/test.py``,
in-process (their ``rkan_mmdet.cli`` modules). A hook records which trainable parameters received a gradient:
none may be unused (DDP would need ``find_unused_parameters`` otherwise).
"""
import json
from pathlib import Path
from typing import Iterator, List

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from rkan_mmdet.checkpoint_safety import safe_torch_load
from rkan_mmdet.cli import test as test_cli
from rkan_mmdet.cli import train as train_cli
from rkan_mmdet.demo.coco_data import make_dataset

from .. import ROOT

CLASSES = ('circle', 'square', 'triangle', 'star')

# The generic form around the base config's own backbone: no download for the inner one.
GENERIC = "dict(backbone=dict(init_cfg=None))"
# id: (mmdet config [or ours], backbone type [and changes] or GENERIC,
#      two-stage with masks (else single-stage, boxes only))
CONFIGS = {
    'regnet-mask-rcnn': ('regnet/mask-rcnn_regnetx-3.2GF_fpn_1x_coco.py', "'RKANRegNet'", True),
    # RKAN beside Swin-T (stage 2), CSPNeXt (RTMDet) and CSPDarknet (YOLOX): our configs
    'swin-t-mask-rcnn': ('configs/any_backbone/mask_rcnn_rkan_swin-t_1x_coco.py', GENERIC, True),
    # None: single-stage; after one warm-up iteration (lr 4e-8) every box of these two
    # falls out in post-processing, so only that the test run completes is checked
    'rtmdet-tiny': ('configs/any_backbone/rtmdet_tiny_rkan_8xb32-300e_coco.py', GENERIC, None),
    'yolox-tiny': ('configs/any_backbone/yolox_tiny_rkan_8xb8-300e_coco.py', GENERIC, None),
    # depth 50: from random weights (no download here) under mmdet's frozen BN, Res2Net's
    # 33 bottlenecks (no zero-init for Bottle2neck) overflow the test-time boxes.
    'res2net-mask-rcnn': ('res2net/mask-rcnn_res2net-101_fpn_2x_coco.py',
                          "'RKANRes2Net', depth=50", True),
    'resnest-mask-rcnn': ('resnest/mask-rcnn_s50_fpn_syncbn-backbone+head_ms-1x_coco.py',
                          "'RKANResNeSt'", True),
    'fcos-caffe': ('fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py', "'RKANResNet'", False),
    'retinanet': ('retinanet/retinanet_r50_fpn_1x_coco.py', "'RKANResNet'", False),
    'cascade-mask-rcnn': ('cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py', "'RKANResNet'",
                          True),
}


@HOOKS.register_module(force=True)
class RecordUnusedParameters(Hook):
    """Writes ``<work_dir>/unused_parameters.json``: trainable parameters that
    received no gradient during training."""

    def before_train(self, runner) -> None:
        self.trainable = [n for n, p in runner.model.named_parameters() if p.requires_grad]
        self.used = set()
        for name, param in runner.model.named_parameters():
            if param.requires_grad:
                param.register_post_accumulate_grad_hook(
                    lambda p, name=name: self.used.add(name))

    def after_train(self, runner) -> None:
        unused = [n for n in self.trainable if n not in self.used]
        Path(runner.work_dir, 'unused_parameters.json').write_text(json.dumps(unused))


def config_text(base: str, backbone: str, masks: bool, data: Path) -> str:
    split = ("dict(type='CocoDataset', data_root='{root}', metainfo=dict(classes={classes}), "
             "ann_file='annotations/instances_{split}2017.json', "
             "data_prefix=dict(img='{split}2017/'), pipeline={pipeline}{extra})")
    load = ("[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True, "
            f"with_mask={masks}), dict(type='Resize', scale=(64, 64), keep_ratio=True), "
            "dict(type='PackDetInputs'{meta})]")
    train = split.format(root=f'{data}/', classes=CLASSES, split='train', extra='',
                         pipeline=load.format(meta=''))
    test = split.format(root=f'{data}/', classes=CLASSES, split='val', extra=', test_mode=True',
                        pipeline=load.format(meta=", meta_keys=('img_id', 'img_path', "
                                             "'ori_shape', 'img_shape', 'scale_factor')"))
    metric = ['bbox', 'segm'] if masks else ['bbox']
    # every score kept: after one iteration no box would pass the 0.05 threshold
    test_cfg = 'dict(rcnn=dict(score_thr=0.0))' if masks else 'dict(score_thr=0.0)'
    base = f'{ROOT}/{base}' if base.startswith('configs/') else f'mmdet::{base}'
    backbone = backbone if backbone == GENERIC else f'dict(type={backbone}, init_cfg=None)'
    # YOLOX resizes batches to 320-640 px: kept at the tiny images' size here
    return f'''
_base_ = '{base}'
custom_imports = dict(imports=['rkan_mmdet'], allow_failed_imports=False)
model = dict(backbone={backbone}, test_cfg={test_cfg},
             data_preprocessor=dict(batch_augments=None))
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(batch_size=2, **loader, dataset=dict(_delete_=True, **{train}))
test_dataloader = dict(batch_size=1, **loader, dataset=dict(_delete_=True, **{test}))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_evaluator = dict(_delete_=True, type='CocoMetric', metric={metric},
                      ann_file='{data}/annotations/instances_val2017.json')
train_cfg = dict(max_epochs=1)
custom_hooks = [dict(type='RecordUnusedParameters')]
'''


def num_classes_options(config: Path) -> List[str]:
    """``--cfg-options`` setting every head's ``num_classes`` (lists included,
    e.g. Cascade's three box heads) to the tiny set's classes."""
    def paths(node, prefix: str) -> Iterator[str]:
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else []
        for key, value in items:
            if key == 'num_classes':
                yield f'{prefix}{key}'
            yield from paths(value, f'{prefix}{key}.')
    return [f'{path}={len(CLASSES)}' for path in paths(Config.fromfile(str(config)).model,
                                                         'model.')]


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 train / 2 val synthetic images of 64 px."""
    data = tmp_path_factory.mktemp('mmdet_configs') / 'coco'
    make_dataset(str(data), num_train=2, num_val=2, size=64)
    return data


@pytest.mark.slow  # trains and tests a detector per config
@pytest.mark.parametrize('base,backbone,masks', CONFIGS.values(), ids=list(CONFIGS))
def test_mmdet_config_with_rkan_trains_and_tests(base: str, backbone: str, masks: bool,
                                                 tiny_data: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / 'config.py'
    config.write_text(config_text(base, backbone, masks, tiny_data))
    work_dir = tmp_path / 'work'
    monkeypatch.chdir(ROOT)
    torch.manual_seed(0)
    options = ['--work-dir', str(work_dir), '--cfg-options', *num_classes_options(config)]
    train_cli.main([str(config), *options])
    assert json.loads((work_dir / 'unused_parameters.json').read_text()) == []
    checkpoint = work_dir / 'epoch_1.pth'
    state = safe_torch_load(checkpoint, map_location='cpu')['state_dict']
    assert any(k.startswith('backbone.rkan_layers.') for k in state)
    test_cli.main([str(config), str(checkpoint), *options])
    logs = [json.loads(line) for log in work_dir.glob('*/*.json')
            for line in log.read_text().splitlines() if line.strip()]
    metrics = {k for record in logs for k in record}
    if masks is None:
        assert 'time' in metrics  # the test epoch ran over the tiny set
        return
    assert 'coco/bbox_mAP' in metrics
    assert ('coco/segm_mAP' in metrics) is masks
