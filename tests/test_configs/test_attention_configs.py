"""ELA-L-50 / RKAN-ELA-L-50 ImageNet configs and the GCNet plugin fragment."""
import copy
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmcv.cnn import ContextBlock

from mmpretrain.registry import MODELS

import rkan_mmdet  # noqa: F401
from rkan_mmdet.analysis.param_count import all_params, profiler_params

from .. import ROOT

IMAGENET = ROOT / 'configs' / 'imagenet'
RKAN = 1_578_083
FC = 2048 * 1000 + 1000


def build(path: Path) -> torch.nn.Module:
    cfg = Config.fromfile(str(path))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.setdefault('data_preprocessor', copy.deepcopy(cfg.data_preprocessor))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(model_cfg)


def profiled(model: torch.nn.Module) -> int:
    return profiler_params(model, lambda m: m(torch.zeros(1, 3, 64, 64)))


def test_ela_configs_build_the_papers_models() -> None:
    """docs/families.md §5: 26.40M and 27.98M by the paper's profiler count."""
    ela = build(IMAGENET / 'ela-l50_8xb32_in1k.py')
    rkan = build(IMAGENET / 'rkan-ela-l50_8xb32_in1k.py')
    assert type(ela.backbone).__name__ == 'ResNet' and not hasattr(ela.backbone, 'rkan_layers')
    assert type(rkan.backbone).__name__ == 'RKANResNet'
    assert list(rkan.backbone.rkan_layers) == ['layer4']
    for backbone in (ela.backbone, rkan.backbone):
        blocks = [b for name in backbone.res_layers for b in getattr(backbone, name)]
        assert len(blocks) == 16
        assert all(b.after_conv3_plugin_names == ['ela'] for b in blocks)
        assert backbone.layer4[0].ela.conv.kernel_size == (7, )
    # ResNet-50 classifier 25,557,032 + ELA 58 * 15,104 (tests/test_plugins)
    assert all_params(ela) == 26_433_064 and all_params(rkan) - all_params(ela) == RKAN
    assert (round(profiled(ela) / 1e6, 2), round(profiled(rkan) / 1e6, 2)) == (26.40, 27.98)
    assert ela.head.fc.weight.numel() + ela.head.fc.bias.numel() == FC


def test_ela_configs_differ_only_in_the_backbone() -> None:
    """One recipe: both configs equal RKANet-50's but for the backbone."""
    def rest(name: str) -> dict:
        cfg = Config.fromfile(str(IMAGENET / name)).to_dict()
        cfg['model'].pop('backbone')
        cfg.pop('ela_plugins', None)
        return cfg
    reference = rest('rkanet50_8xb32_in1k.py')
    assert rest('ela-l50_8xb32_in1k.py') == reference == rest('rkan-ela-l50_8xb32_in1k.py')


def test_gcnet_fragment(tmp_path: Path) -> None:
    """ContextBlock, ratio 1/4, after conv3 of every bottleneck of stages 2-4."""
    config = tmp_path / 'rkan_gc_r50.py'
    config.write_text(
        f"_base_ = ['{ROOT}/configs/_base_/imagenet_100e.py', "
        f"'{ROOT}/configs/_base_/gcnet_plugin.py']\n"
        "model = dict(backbone=dict(plugins=_base_.gcnet_plugins))\n")
    model = build(config)
    backbone = model.backbone
    assert type(backbone).__name__ == 'RKANResNet'
    assert not any(hasattr(b, 'context_block') for b in backbone.layer1)
    blocks = [b for name in ('layer2', 'layer3', 'layer4') for b in getattr(backbone, name)]
    assert len(blocks) == 13
    for block in blocks:
        assert block.after_conv3_plugin_names == ['context_block']
        gc = block.context_block
        assert isinstance(gc, ContextBlock) and gc.ratio == 0.25
        assert gc.planes == gc.in_channels // 4 == block.conv3.out_channels // 4
    # per block C^2/2 + 2.75 C + 1 (the fragment's docstring) over C = 512 x 4,
    # 1024 x 6, 2048 x 3; the ResNet-50 classifier has 25,557,032
    gc_params = sum(c * c // 2 + 11 * c // 4 + 1 for c in [512] * 4 + [1024] * 6 + [2048] * 3)
    assert gc_params == 10_000_909
    assert all_params(model) == 25_557_032 + gc_params + RKAN
