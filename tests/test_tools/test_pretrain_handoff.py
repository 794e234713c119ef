"""Pretrain, then detect: a classifier checkpoint loads into the detection backbone.

End to end on the CPU demo: generate a tiny shapes set, train
``configs/demo/rkanet18_cls_demo.py`` for 2 iterations with ``tools/train.py``,
then build the detection demo's backbone with
``init_cfg=dict(type='Pretrained', checkpoint=<ckpt>, prefix='backbone.')``.
For the full-size pairs the backbone keys and shapes are compared directly.
"""
import copy
from pathlib import Path
from typing import Dict

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_with_prefix

import rkan_mmdet  # noqa: F401  (registers backbones, safe checkpoint loading)

from .. import ROOT
from ..demo_runs import DEMO as DET_DEMO

# classification config (configs/imagenet) -> detection config (configs)
PAIRS = {
    'resnet50_8xb32_in1k': 'mask_rcnn_r50_1x_coco',
    'rkanet50_8xb32_in1k': 'mask_rcnn_rkanet50_1x_coco',
    'rkanet101_8xb32_in1k': 'mask_rcnn_rkanet101_1x_coco',
    'rkanet50-2xl_8xb32_in1k': 'mask_rcnn_rkanet50_2xl_1x_coco',
    'rkan-senet50_8xb32_in1k': 'mask_rcnn_rkan_senet50_1x_coco',
    'seresnet50_8xb32_in1k': 'mask_rcnn_senet50_1x_coco',
}


def build_backbone(cfg: dict, scope: str) -> torch.nn.Module:
    init_default_scope(scope)
    if scope == 'mmdet':
        from mmdet.registry import MODELS
    else:
        from mmpretrain.registry import MODELS
    return MODELS.build(copy.deepcopy(cfg))


def pretrained_options(checkpoint: Path) -> Dict[str, object]:
    """``--cfg-options`` pointing a detection backbone at a classifier checkpoint."""
    key = 'model.backbone.init_cfg'
    return {f'{key}._delete_': True, f'{key}.type': 'Pretrained',
            f'{key}.checkpoint': str(checkpoint), f'{key}.prefix': 'backbone.'}


def shapes(module: torch.nn.Module) -> Dict[str, torch.Size]:
    return {k: v.shape for k, v in module.state_dict().items()}


@pytest.fixture
def demo_checkpoint(trained_classifier: Dict[str, Path]) -> Path:
    """The classifier demo's checkpoint after its 2 iterations."""
    return trained_classifier['checkpoint']


def test_demo_checkpoint_is_a_trained_classifier(demo_checkpoint: Path) -> None:
    ckpt = _load_checkpoint(str(demo_checkpoint), map_location='cpu')
    assert ckpt['meta']['iter'] == 2 and ckpt['meta']['epoch'] == 1
    keys = ckpt['state_dict'].keys()
    assert any(k.startswith('backbone.rkan_layers.layer4.') for k in keys)
    assert ckpt['state_dict']['head.fc.weight'].shape == (5, 512)


def test_demo_checkpoint_loads_into_detection_backbone(demo_checkpoint: Path) -> None:
    det_cfg = Config.fromfile(str(DET_DEMO))
    # docs/configs.md's --cfg-options for tools/train.py (the demo's init_cfg is None)
    det_cfg.merge_from_dict(pretrained_options(demo_checkpoint))
    backbone_cfg = det_cfg.model.backbone
    assert backbone_cfg.type == 'RKANResNet'
    assert backbone_cfg.init_cfg == dict(type='Pretrained', checkpoint=str(demo_checkpoint),
                                         prefix='backbone.')
    backbone = build_backbone(backbone_cfg, 'mmdet')
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    backbone.init_weights()  # mmengine's Pretrained init, as detection runs it

    classifier = _load_checkpoint_with_prefix('backbone.', str(demo_checkpoint), 'cpu')
    loaded = backbone.state_dict()
    assert set(loaded) == set(classifier)
    for key, value in classifier.items():
        assert torch.equal(loaded[key], value), key
    changed = [k for k in loaded if k.startswith('rkan_layers.')
               and not torch.equal(loaded[k], before[k])]
    assert changed, 'the RKAN block kept its random init'

    # The strict=False load that PretrainedInit performs reports nothing left over.
    result = backbone.load_state_dict(classifier, strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert backbone(torch.zeros(1, 3, 64, 64))[-1].shape == (1, 512, 2, 2)


@pytest.mark.slow  # full-size classifier and detector per pair
@pytest.mark.parametrize('cls_name', sorted(PAIRS))
def test_full_size_backbones_match(cls_name: str) -> None:
    """Each ImageNet config's backbone has exactly its detection twin's tensors."""
    cls_cfg = Config.fromfile(str(ROOT / 'configs' / 'imagenet' / f'{cls_name}.py'))
    det_cfg = Config.fromfile(str(ROOT / 'configs' / f'{PAIRS[cls_name]}.py'))
    det_backbone_cfg = copy.deepcopy(det_cfg.model.backbone)
    det_backbone_cfg.pop('init_cfg')
    assert det_cfg.model.backbone.init_cfg.prefix == 'backbone.'
    classifier = build_backbone(cls_cfg.model.backbone, 'mmpretrain')
    detector = build_backbone(det_backbone_cfg, 'mmdet')
    assert shapes(classifier) == shapes(detector)
