"""The paper architectures' own arguments: each bad value gets one line naming it."""
from typing import Callable

import pytest
import torch

from rkan_mmdet.models import (PlainDenseNet, PlainSEResNet, PyramidNet, RegNetY, RKANRegNet,
                               RKANSENet)

TINY_DENSENET = dict(growth_rate=8, depths=[2, 2, 2, 2], init_channels=16)
Y400 = dict(w0=48, wa=27.89, wm=2.09, group_w=8, depth=16, bot_mul=1.0, se_ratio=0.25)


@pytest.mark.parametrize('build,message', [
    (lambda: PlainDenseNet(arch=TINY_DENSENET, final_relu='no'),
     r"final_relu must be True or False, got 'no' \(str\)"),
    (lambda: PlainSEResNet(depth=18, se_bias=0),
     r'se_bias must be True or False, got 0 \(int\)'),
    (lambda: RKANSENet(depth=18, se_bias=None),
     r'se_bias must be True or False, got None \(NoneType\)'),
    (lambda: RegNetY(arch=dict(Y400, width_rule='timm')),
     r"RegNet arch width_rule must be 'pycls' or 'torchvision', got 'timm'"),
    (lambda: PyramidNet(depth=42),
     r'PyramidNet depth must be one of \[18, 34, 50, 101, 152, 200\], got 42'),
    (lambda: PyramidNet(depth=18, out_indices=(4, )),
     r'PyramidNet out_indices must lie in 0..3, got \(4,\)'),
], ids=['final_relu', 'se_bias', 'rkan-se_bias', 'width_rule', 'depth', 'out_indices'])
def test_bad_arguments(build: Callable, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        build()
    assert '\n' not in str(info.value)


def test_custom_regnety_arch_dict() -> None:
    """A dict arch with se_ratio and torchvision's width rule is regnety_400mf."""
    custom = RegNetY(arch=dict(Y400, width_rule='torchvision'))
    named = RegNetY(arch='regnety_400mf')
    assert {k: v.shape for k, v in custom.state_dict().items()} == \
        {k: v.shape for k, v in named.state_dict().items()}


def test_regnety_frozen_stages_and_norm_eval() -> None:
    """mmdet's options hold for the SE layers and the RKAN block too."""
    model = RKANRegNet(arch='regnety_400mf', frozen_stages=2, norm_eval=True,
                       rkan_mechanisms=(None, 'addition', None, 'addition'))
    model.train()
    for stage in (1, 2):
        layer = getattr(model, f'layer{stage}')
        assert all(not p.requires_grad for p in layer.parameters())
        assert all(not block.se.training for block in layer)
    assert not any(p.requires_grad for p in model.rkan_layers['layer2'].parameters())
    assert all(p.requires_grad for p in model.layer3.parameters())
    assert all(p.requires_grad for p in model.rkan_layers['layer4'].parameters())
    assert not any(m.training for m in model.layer4.modules()
                   if isinstance(m, torch.nn.BatchNorm2d))
    assert model.rkan_layers['layer4'].out_norm.training  # rkan_norm_eval=False: the block trains
