"""Every detection config builds, and the COCO ones carry the paper's recipe.

Detection configs are those with ``default_scope='mmdet'`` among
``configs/*.py`` and ``configs/demo/*.py``. Models are built without running
``init_weights`` (no checkpoint is read).
"""
import copy
import functools
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

import rkan_mmdet  # noqa: F401  (registers the backbones)

from .. import ROOT

RECIPE = ROOT / 'configs' / '_base_' / 'coco_mask_rcnn_1x.py'
DEMO = ROOT / 'configs' / 'demo' / 'mask_rcnn_rkanet18_demo.py'
# baseline -> its RKAN twin
TWINS = {'mask_rcnn_r50_1x_coco': 'mask_rcnn_rkanet50_1x_coco',
         'mask_rcnn_senet50_1x_coco': 'mask_rcnn_rkan_senet50_1x_coco'}
EXPECTED_BACKBONES = {
    'mask_rcnn_r50_1x_coco': dict(type='ResNet', depth=50),
    'mask_rcnn_rkanet50_1x_coco': dict(type='RKANResNet', depth=50),
    'mask_rcnn_rkanet101_1x_coco': dict(type='RKANResNet', depth=101),
    'mask_rcnn_rkanet50_2xl_1x_coco': dict(type='RKANResNet', depth=50, inv_factor=2),
    'mask_rcnn_senet50_1x_coco': dict(type='PlainSEResNet', depth=50, se_bias=False),
    'mask_rcnn_rkan_senet50_1x_coco': dict(type='RKANSENet', depth=50, se_bias=False),
    'mask_rcnn_rkan_regnety_3.2gf_1x_coco': dict(type='RKANRegNet', arch='regnety_3.2gf'),
}


@functools.lru_cache(maxsize=None)
def _load(path: Path) -> Config:
    return Config.fromfile(str(path))


def load(path: Path) -> Config:
    """A private copy of the parsed config (each file is parsed once)."""
    return copy.deepcopy(_load(path))


def detection_configs() -> List[Path]:
    paths = sorted((ROOT / 'configs').glob('*.py')) + sorted(
        (ROOT / 'configs' / 'demo').glob('*.py'))
    return [p for p in paths if load(p).get('default_scope') == 'mmdet']


DETECTION = detection_configs()
COCO = [p for p in DETECTION if p.parent.name == 'configs']


def ids(paths: List[Path]) -> List[str]:
    return [p.stem for p in paths]


def without_backbone(cfg: Config) -> Dict:
    """The config as a dict minus ``model.backbone`` and its checkpoint variable."""
    data = copy.deepcopy(cfg.to_dict())
    data['model'].pop('backbone')
    data['model']['neck'].pop('in_channels')  # the backbone's widths (checked on the built model)
    data.pop('imagenet_checkpoint', None)
    return data


def test_every_expected_config_is_found() -> None:
    assert set(EXPECTED_BACKBONES) == set(ids(COCO))
    assert DEMO in DETECTION


@pytest.mark.slow  # a full-size detector per config
@pytest.mark.parametrize('path', DETECTION, ids=ids(DETECTION))
def test_model_and_pipelines_build(path: Path) -> None:
    from mmdet.registry import MODELS
    cfg = load(path)
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    assert model.roi_head.with_mask
    feats = model.backbone(torch.zeros(1, 3, 64, 64))
    assert [f.shape[1] for f in feats] == list(cfg.model.neck.in_channels)
    loaders = ['train_dataloader', 'test_dataloader']
    if cfg.get('val_cfg') is not None:  # the CPU demo trains without validation
        loaders.append('val_dataloader')
    for loader in loaders:
        pipeline = Compose(cfg[loader].dataset.pipeline)
        assert len(pipeline.transforms) == len(cfg[loader].dataset.pipeline)


@pytest.mark.parametrize('path', COCO, ids=ids(COCO))
def test_paper_recipe(path: Path) -> None:
    cfg = load(path)
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.01, momentum=0.9,
                                               weight_decay=1e-4)
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=8)
    assert cfg.train_cfg.max_epochs == 12
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.by_epoch, warmup.end) == (
        'LinearLR', 0.001, False, 500)
    assert (steps.type, steps.milestones, steps.gamma, steps.by_epoch) == (
        'MultiStepLR', [8, 11], 0.1, True)
    for phase in ('val', 'test'):
        assert cfg[f'{phase}_evaluator'].type == 'CocoMetric'
        assert list(cfg[f'{phase}_evaluator'].metric) == ['bbox', 'segm']
    init = cfg.model.backbone.init_cfg
    assert init == dict(type='Pretrained', checkpoint=cfg.imagenet_checkpoint,
                        prefix='backbone.')
    for key, value in EXPECTED_BACKBONES[path.stem].items():
        assert cfg.model.backbone[key] == value, key
    # detection settings, also for mmpretrain backbones whose defaults differ
    assert cfg.model.backbone.out_indices == (0, 1, 2, 3)
    assert cfg.model.backbone.frozen_stages == 1 and cfg.model.backbone.norm_eval
    assert cfg.model.backbone.style == 'pytorch'


@pytest.mark.parametrize('path', COCO, ids=ids(COCO))
def test_model_configs_change_only_the_backbone(path: Path) -> None:
    recipe = without_backbone(load(RECIPE))
    assert without_backbone(load(path)) == recipe


@pytest.mark.parametrize('baseline', sorted(TWINS))
def test_baselines_differ_from_twins_only_in_backbone(baseline: str) -> None:
    base = load(ROOT / 'configs' / f'{baseline}.py')
    twin = load(ROOT / 'configs' / f'{TWINS[baseline]}.py')
    assert without_backbone(base) == without_backbone(twin)
    diff = {k for k in set(base.model.backbone) | set(twin.model.backbone)
            if base.model.backbone.get(k) != twin.model.backbone.get(k)}
    assert diff == {'type', 'init_cfg'}


def pipeline_step(cfg: Config, loader: str, step: str) -> dict:
    return next(t for t in cfg[loader].dataset.pipeline if t.type == step)


@pytest.mark.parametrize('path', COCO, ids=ids(COCO))
def test_augmentations(path: Path) -> None:
    cfg = load(path)
    steps = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert steps == ['LoadImageFromFile', 'LoadAnnotations', 'RandomResize',
                     'RandomFlip', 'PhotoMetricDistortion', 'PackDetInputs']
    assert pipeline_step(cfg, 'train_dataloader', 'RandomFlip').prob == 0.5
    resize = pipeline_step(cfg, 'train_dataloader', 'RandomResize')
    assert (resize.scale, resize.ratio_range, resize.keep_ratio) == (
        (1066, 640), (0.9, 1.1), True)
    for loader in ('val_dataloader', 'test_dataloader'):
        assert pipeline_step(cfg, loader, 'Resize').scale == (1066, 640)


def test_rescale_keeps_aspect_and_short_side_576_to_704() -> None:
    """The built RandomResize: shorter side 576..704, long-side cap 959..1172."""
    from mmdet.registry import TRANSFORMS
    init_default_scope('mmdet')
    resize = TRANSFORMS.build(pipeline_step(load(RECIPE), 'train_dataloader',
                                            'RandomResize'))
    np.random.seed(0)

    def sides(h: int, w: int, draws: int) -> List[tuple]:
        out = [resize(dict(img=np.zeros((h, w, 3), np.uint8)))['img_shape']
               for _ in range(draws)]
        for oh, ow in out:
            assert abs(ow / oh * h / w - 1) < 0.01, (oh, ow)  # aspect ratio kept
        return out

    shorts = [oh for oh, _ in sides(480, 640, 40)]  # 4:3, the short side decides
    assert 576 <= min(shorts) < 590 and 690 < max(shorts) <= 704
    longs = [ow for _, ow in sides(200, 1000, 20)]  # 5:1, the proportional cap decides
    assert 959 <= min(longs) < 990 and 1140 < max(longs) <= 1172


def test_demo_changes_only_what_a_cpu_demo_must() -> None:
    demo, real = load(DEMO), load(ROOT / 'configs' / 'mask_rcnn_rkanet50_1x_coco.py')
    assert demo.model.backbone.type == real.model.backbone.type
    assert demo.model.backbone.depth == 18 and demo.model.backbone.init_cfg is None
    # from scratch at batch 2 the one norm change: GN instead of the recipe's BN
    assert real.model.backbone.norm_cfg.type == 'BN'
    assert demo.model.backbone.norm_cfg == dict(type='GN', num_groups=32,
                                                requires_grad=True)
    for loader in ('train_dataloader', 'test_dataloader'):
        for ours, theirs in zip(demo[loader].dataset.pipeline,
                                real[loader].dataset.pipeline, strict=True):
            ours, theirs = dict(ours), dict(theirs)
            ours.pop('scale', None), theirs.pop('scale', None)
            theirs.pop('backend_args', None)
            assert ours == theirs
    assert demo.optim_wrapper.optimizer.type == 'SGD'
    assert demo.optim_wrapper.clip_grad.max_norm > 0
    assert [s.type for s in demo.param_scheduler] == [
        s.type for s in real.param_scheduler]
    assert demo.model.type == real.model.type == 'MaskRCNN'
