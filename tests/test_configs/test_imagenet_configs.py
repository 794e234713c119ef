"""The ImageNet classification configs: they build, and they say the paper's recipe."""
import copy
from collections import Counter
from pathlib import Path
from typing import Dict

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import rkan_mmdet  # noqa: F401  (registers RKANResNet / RKANSENet)
from mmpretrain.registry import MODELS, TRANSFORMS

from .. import ROOT

IMAGENET_CONFIGS = sorted((ROOT / 'configs' / 'imagenet').glob('*.py'))
DEMO_CONFIG = ROOT / 'configs' / 'demo' / 'rkanet18_cls_demo.py'
ALL_CONFIGS = IMAGENET_CONFIGS + [DEMO_CONFIG]
RKAN_STAGE4_PARAMS = 1_578_083  # docs/spec.md §3, ResNet-50 defaults
# config: (backbone type, depth or arch, inv_factor)
EXPECTED_BACKBONES = {
    'resnet50_8xb32_in1k': ('mmpretrain.ResNet', 50, None),
    'seresnet50_8xb32_in1k': ('PlainSEResNet', 50, None),
    'rkanet50_8xb32_in1k': ('RKANResNet', 50, None),
    'rkanet101_8xb32_in1k': ('RKANResNet', 101, None),
    'rkanet50-2xl_8xb32_in1k': ('RKANResNet', 50, 2),
    'rkanet50-4xl_8xb32_in1k': ('RKANResNet', 50, 4),
    'rkanet50-6xl_8xb32_in1k': ('RKANResNet', 50, 6),
    'rkan-senet50_8xb32_in1k': ('RKANSENet', 50, None),
    'ela-l50_8xb32_in1k': ('mmdet.ResNet', 50, None),
    'rkan-ela-l50_8xb32_in1k': ('RKANResNet', 50, None),
    'densenet169_8xb32_in1k': ('PlainDenseNet', '169', None),
    'rkan-densenet169_8xb32_in1k': ('RKANDenseNet', '169', None),
    'regnety-3.2gf_8xb32_in1k': ('RegNetY', 'regnety_3.2gf', None),
    'rkan-regnety-3.2gf_8xb32_in1k': ('RKANRegNet', 'regnety_3.2gf', None),
    'regnety-8gf_8xb32_in1k': ('RegNetY', 'regnety_8gf', None),
    'rkan-regnety-8gf_8xb32_in1k': ('RKANRegNet', 'regnety_8gf', None),
    'pyramidnet50_8xb32_in1k': ('PyramidNet', 50, None),
    'rkan-pyramidnet50_8xb32_in1k': ('RKANPyramidNet', 50, None),
}


@pytest.fixture(scope='module', autouse=True)
def mmpretrain_scope() -> None:
    init_default_scope('mmpretrain')


def load(path: Path) -> Config:
    return Config.fromfile(str(path))


def build_classifier(cfg: Config) -> torch.nn.Module:
    """Build ``cfg.model`` as the Runner does (data_preprocessor merged in)."""
    model_cfg = copy.deepcopy(cfg.model)  # RandomBatchAugment appends to probs
    model_cfg.setdefault('data_preprocessor', copy.deepcopy(cfg.data_preprocessor))
    return MODELS.build(model_cfg)


def millions(model: torch.nn.Module) -> float:
    return round(sum(p.numel() for p in model.parameters()) / 1e6, 2)


_param_cache: Dict[str, int] = {}


def num_params(name: str) -> int:
    if name not in _param_cache:
        model = build_classifier(load(ROOT / 'configs' / 'imagenet' / f'{name}.py'))
        _param_cache[name] = sum(p.numel() for p in model.parameters())
    return _param_cache[name]


def test_config_set_is_complete() -> None:
    assert {p.stem for p in IMAGENET_CONFIGS} == set(EXPECTED_BACKBONES)


@pytest.mark.slow  # a full-size classifier per config
@pytest.mark.parametrize('path', ALL_CONFIGS, ids=lambda p: p.stem)
def test_config_builds(path: Path) -> None:
    cfg = load(path)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.custom_imports.imports == ['rkan_mmdet']
    for pipeline in (cfg.train_dataloader.dataset.pipeline,
                     cfg.val_dataloader.dataset.pipeline,
                     cfg.test_dataloader.dataset.pipeline):
        transforms = [TRANSFORMS.build(copy.deepcopy(t)) for t in pipeline]
        assert type(transforms[-1]).__name__ == 'PackInputs'
    model = build_classifier(cfg)
    assert type(model).__name__ == 'ImageClassifier'
    assert type(model.neck).__name__ == 'GlobalAveragePooling'
    assert type(model.head).__name__ == 'LinearClsHead'
    backbone = model.backbone
    assert backbone.out_indices in ((3, ), [3])
    assert backbone.frozen_stages in (-1, 0)  # nothing frozen (DenseNet counts from 0)
    assert getattr(backbone, 'norm_eval', False) is False
    assert all(p.requires_grad for p in model.parameters())
    feats = model.extract_feat(torch.zeros(1, 3, 64, 64))
    assert feats[-1].shape == (1, model.head.in_channels)


@pytest.mark.parametrize('name', sorted(EXPECTED_BACKBONES))
def test_backbone_choice(name: str) -> None:
    backbone = load(ROOT / 'configs' / 'imagenet' / f'{name}.py').model.backbone
    size = backbone.get('depth', backbone.get('arch'))
    assert (backbone.type, size, backbone.get('inv_factor')) == EXPECTED_BACKBONES[name]
    if backbone.type.startswith('RKAN'):
        assert backbone.get('rkan_mechanisms', (None, None, None, 'addition')) == \
            (None, None, None, 'addition')
        assert backbone.get('kan_type', 'chebyshev') == 'chebyshev'


def test_recipe_values() -> None:
    """docs/spec.md §4 ImageNet: 100 epochs, SGD wd 1e-4, RandAugment, CutMix/MixUp, 224."""
    cfg = load(ROOT / 'configs' / 'imagenet' / 'rkanet50_8xb32_in1k.py')
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum, optimizer.weight_decay) \
        == ('SGD', 0.1, 0.9, 1e-4)
    # lr 0.1 is stated for batch 256 = 8 GPUs x 32
    assert cfg.auto_scale_lr.base_batch_size == 256
    assert cfg.train_dataloader.batch_size * 8 == 256
    assert cfg.train_cfg.by_epoch and cfg.train_cfg.max_epochs == 100
    warmup, cosine = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and (warmup.begin, warmup.end) == (0, 5)
    assert warmup.convert_to_iter_based and warmup.start_factor < 1
    assert cosine.type == 'CosineAnnealingLR'
    assert (cosine.begin, cosine.end, cosine.T_max) == (5, 100, 95)
    assert cosine.convert_to_iter_based and cosine.eta_min == 0

    train = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    assert train['RandomResizedCrop'].scale == 224
    assert train['RandAugment'].num_policies == 2
    assert 'RandomErasing' not in train  # not in the paper's recipe
    test = {t.type: t for t in cfg.val_dataloader.dataset.pipeline}
    assert test['CenterCrop'].crop_size == 224

    assert cfg.model.head.num_classes == 1000 == cfg.data_preprocessor.num_classes
    assert cfg.model.head.loss.use_soft  # mixed, one-hot targets
    assert tuple(cfg.val_evaluator.topk) == (1, 5) == tuple(cfg.test_evaluator.topk)
    mix = cfg.model.train_cfg
    assert [(a.type, a.alpha) for a in mix.augments] == [('CutMix', 1.0), ('Mixup', 0.2)]
    assert mix.probs == [0.5, 0.3]


def test_batch_augments_built_with_probabilities() -> None:
    """CutMix p=0.5, MixUp(0.2) p=0.3, none p=0.2, drawn once per batch."""
    cfg = load(ROOT / 'configs' / 'imagenet' / 'resnet50_8xb32_in1k.py')
    model = build_classifier(cfg)
    batch_aug = model.data_preprocessor.batch_augments
    cutmix, mixup, nothing = batch_aug.augments
    assert type(cutmix).__name__ == 'CutMix' and cutmix.alpha == 1.0
    assert type(mixup).__name__ == 'Mixup' and mixup.alpha == 0.2
    assert nothing is None
    assert np.allclose(batch_aug.probs, [0.5, 0.3, 0.2])
    assert cfg.model.train_cfg.probs == [0.5, 0.3]  # config untouched by the build

    chosen: Counter = Counter()  # record which augment each batch draws
    for i in range(2):
        batch_aug.augments[i] = lambda x, s, i=i: chosen.update([i]) or (x, s)
    np.random.seed(0)
    n = 4000
    images, scores = torch.zeros(2, 3, 4, 4), torch.eye(2)
    for _ in range(n):
        batch_aug(images, scores)
    assert abs(chosen[0] / n - 0.5) < 0.03 and abs(chosen[1] / n - 0.3) < 0.03


def test_paper_parameter_counts() -> None:
    """docs/spec.md §3: 1000-class classifiers, in millions."""
    assert round(num_params('resnet50_8xb32_in1k') / 1e6, 2) == 25.56
    assert round(num_params('rkanet50_8xb32_in1k') / 1e6, 2) == 27.14
    assert round(num_params('rkanet50-2xl_8xb32_in1k') / 1e6, 2) == 31.86
    assert round(num_params('rkanet50-4xl_8xb32_in1k') / 1e6, 2) == 38.15
    # not in the paper's table: 1024*6144 + 6144*2048 + 2*(6144 + 2048) + 99 added
    assert num_params('rkanet50-6xl_8xb32_in1k') - num_params('resnet50_8xb32_in1k') \
        == 18_890_851
    assert round(num_params('densenet169_8xb32_in1k') / 1e6, 2) == 14.15
    # the paper's bias-free SE (docs/families.md §4)
    assert round(num_params('seresnet50_8xb32_in1k') / 1e6, 2) == 28.07
    assert round(num_params('rkan-senet50_8xb32_in1k') / 1e6, 2) == 29.65
    # torchvision's regnet_y_3_2gf / regnet_y_8gf with their 1000-class fc
    assert num_params('regnety-3.2gf_8xb32_in1k') == 19_436_338
    assert num_params('regnety-8gf_8xb32_in1k') == 39_381_472
    assert num_params('pyramidnet50_8xb32_in1k') == 9_759_140


def test_paper_heads() -> None:
    """The paper-fidelity DenseNet has no final ReLU; the SENet configs have no SE biases."""
    for name in ('densenet169_8xb32_in1k', 'rkan-densenet169_8xb32_in1k'):
        backbone = build_classifier(load(ROOT / 'configs' / 'imagenet' / f'{name}.py')).backbone
        assert type(backbone.transitions[-1][1]) is torch.nn.Identity, name
    for name in ('seresnet50_8xb32_in1k', 'rkan-senet50_8xb32_in1k'):
        backbone = build_classifier(load(ROOT / 'configs' / 'imagenet' / f'{name}.py')).backbone
        se_convs = [m for n, m in backbone.named_modules()
                    if n.endswith(('se_layer.conv1.conv', 'se_layer.conv2.conv'))]
        assert len(se_convs) == 2 * 16 and all(c.bias is None for c in se_convs), name


def test_rkan_adds_exactly_the_block() -> None:
    """The RKAN stage-4 block is the only difference from each baseline."""
    assert num_params('rkanet50_8xb32_in1k') - num_params('resnet50_8xb32_in1k') \
        == RKAN_STAGE4_PARAMS
    assert num_params('rkan-senet50_8xb32_in1k') - num_params('seresnet50_8xb32_in1k') \
        == RKAN_STAGE4_PARAMS
    # DenseNet-169's last stage: 640 -> 320 -> 1664 (docs/families.md §3)
    assert num_params('rkan-densenet169_8xb32_in1k') - num_params('densenet169_8xb32_in1k') \
        == 640 * 320 + 320 * 1664 + 2 * (320 + 1664) + 99
    # RegNetY-3.2GF / 8GF last stages 576 -> 1512 and 896 -> 2016; PyramidNet-50 904 -> 1056
    for name, c_in, c_out in (('regnety-3.2gf', 576, 1512), ('regnety-8gf', 896, 2016),
                              ('pyramidnet50', 904, 1056)):
        assert num_params(f'rkan-{name}_8xb32_in1k') - num_params(f'{name}_8xb32_in1k') \
            == c_in * c_in // 2 + c_in // 2 * c_out + 2 * (c_in // 2 + c_out) + 99, name


def test_demo_config_shrinks_only_sizes() -> None:
    demo, full = load(DEMO_CONFIG), load(ROOT / 'configs' / 'imagenet' / 'rkanet50_8xb32_in1k.py')
    assert demo.model.backbone.type == 'RKANResNet' and demo.model.backbone.depth == 18
    det_demo = load(ROOT / 'configs' / 'demo' / 'mask_rcnn_rkanet18_demo.py')
    assert demo.model.backbone.norm_cfg == det_demo.model.backbone.norm_cfg
    classes = demo.train_dataloader.dataset.metainfo.classes
    assert list(classes) == sorted(classes)  # labels follow sorted folders
    assert demo.model.head.num_classes == len(classes) == demo.data_preprocessor.num_classes
    assert demo.model.train_cfg == full.model.train_cfg
    assert demo.optim_wrapper.optimizer.type == 'SGD'
    assert [s.type for s in demo.param_scheduler] == [s.type for s in full.param_scheduler]
    assert 'RandAugment' in [t.type for t in demo.train_dataloader.dataset.pipeline]
    model = build_classifier(demo)
    assert millions(model) < 12
