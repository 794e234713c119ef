"""Output shapes and strides for depths, out_indices, dilation and variants."""
import pytest
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

from rkan_mmdet.models import RKANResNet, RKANResNeXt, RKANSENet

ALL = ('addition', 'addition', 'addition', 'addition')


def shapes(model, size=(67, 93)) -> list:
    model.eval()
    with torch.no_grad():
        return [tuple(o.shape) for o in model(torch.randn(1, 3, *size))]


def expected(channels, strides, size=(67, 93)) -> list:
    out, h, w = [], (size[0] - 1) // 2 + 1, (size[1] - 1) // 2 + 1   # conv1
    h, w = (h - 1) // 2 + 1, (w - 1) // 2 + 1                         # maxpool
    for c, s in zip(channels, strides):
        h, w = (h - 1) // s + 1, (w - 1) // s + 1
        out.append((1, c, h, w))
    return out


@pytest.mark.parametrize('depth,channels', [(18, (64, 128, 256, 512)),
                                            (50, (256, 512, 1024, 2048)),
                                            (101, (256, 512, 1024, 2048))])
def test_depths_all_stages(depth: int, channels: tuple) -> None:
    model = RKANResNet(depth=depth, rkan_mechanisms=ALL)
    assert shapes(model) == expected(channels, (1, 2, 2, 2))


@pytest.mark.parametrize('out_indices', [(3,), (0, 2), (1, 2, 3)])
def test_out_indices(out_indices: tuple) -> None:
    model = RKANResNet(depth=18, out_indices=out_indices, rkan_mechanisms=ALL)
    full = expected((64, 128, 256, 512), (1, 2, 2, 2))
    assert shapes(model) == [full[i] for i in out_indices]


def test_dilated_c5_keeps_the_residual_shape() -> None:
    model = RKANResNet(depth=50, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2),
                       rkan_mechanisms=ALL)
    assert model.rkan_layers['layer4'].kan_conv.stride == 1
    assert model.rkan_layers['layer4'].kan_conv.dilation == 2
    assert model.rkan_layers['layer2'].kan_conv.stride == 2
    assert shapes(model) == expected((256, 512, 1024, 2048), (1, 2, 2, 1))


@pytest.mark.parametrize('kwargs', [dict(style='caffe'), dict(deep_stem=True, avg_down=True),
                                    dict(rkan_shortcut=True),
                                    dict(rkan_mechanisms=('gating', 'se', None, 'gating'))])
def test_resnet_options_keep_shapes(kwargs: dict) -> None:
    model = RKANResNet(depth=18, **kwargs)
    assert shapes(model) == expected((64, 128, 256, 512), (1, 2, 2, 2))


def test_resnext_and_senet() -> None:
    resnext = RKANResNeXt(depth=50, groups=32, base_width=4, rkan_mechanisms=ALL)
    assert shapes(resnext) == expected((256, 512, 1024, 2048), (1, 2, 2, 2))
    senet = RKANSENet(depth=50, out_indices=(0, 1, 2, 3), rkan_mechanisms=ALL)
    assert shapes(senet) == expected((256, 512, 1024, 2048), (1, 2, 2, 2))


def test_found_by_mmdet_and_mmpretrain_registries() -> None:
    for registry in (MMDET_MODELS, MMPRETRAIN_MODELS):
        for name in ('RKANResNet', 'RKANSENet', 'RKANResNeXt', 'KANConv2d', 'RKANBlock'):
            assert registry.get(name) is not None, (registry.name, name)
    model = MMDET_MODELS.build(dict(type='RKANResNet', depth=18))
    assert isinstance(model, RKANResNet)
    assert isinstance(MMPRETRAIN_MODELS.build(dict(type='RKANSENet', depth=50)), RKANSENet)
