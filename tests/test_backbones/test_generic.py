"""The generic form ``dict(type='RKAN', backbone=...)``: what it builds and what it refuses."""
import pytest
from mmengine.registry import MODELS, DefaultScope

from rkan_mmdet.models.backbones import rkan_class


def test_builds_the_same_class_as_the_mixin_would() -> None:
    model = MODELS.build(dict(type='RKAN', backbone=dict(type='mmpretrain.ConvNeXt',
                                                          arch='tiny'), inv_factor=2))
    assert type(model).__name__ == 'RKANConvNeXt'
    assert type(model) is rkan_class(type(model).__mro__[2])  # one class per parent
    block = model.rkan_layers['stage4']
    assert (block.reduce.in_channels, block.reduce.out_channels) == (384, 768)  # RKAN-L


def test_default_scope_resolves_unscoped_types() -> None:
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(dict(type='RKAN', backbone=dict(type='ResNet', depth=18)))
    assert type(model).__mro__[2].__module__ == 'mmdet.models.backbones.resnet'
    assert list(model.rkan_layers) == ['layer4']


# HRNet, TridentResNet, DetectoRS: test_backbone_sweep.py, with every registered backbone
@pytest.mark.parametrize('cfg,message', [
    (dict(type='mmpretrain.HorNet', arch='tiny-gf', with_cp=True),
     'RKAN cannot attach to HorNet: with with_cp=True it runs each stage'),
], ids=['HorNet-with_cp'])
def test_refuses_backbones_whose_stages_cannot_carry_rkan(cfg: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        MODELS.build(dict(type='RKAN', backbone=cfg))
    assert '\n' not in str(info.value)


def test_hornet_without_checkpointing_is_accepted() -> None:
    model = MODELS.build(dict(type='RKAN', backbone=dict(type='mmpretrain.HorNet',
                                                          arch='tiny-gf')))
    assert list(model.rkan_layers) == ['stage4']


@pytest.mark.parametrize('cfg,message', [
    (dict(backbone=dict(type='NoSuchNet')),
     "RKAN: backbone type 'NoSuchNet' is not registered in scope 'mmengine'"),
    (dict(backbone=dict(type='RKANResNet', depth=18)),
     'RKAN: backbone RKANResNet already carries RKAN blocks'),
    (dict(backbone=dict(type='mmdet.ResNet', depth=18), depth=50),
     "RKAN: unknown argument 'depth'; RKAN takes rkan_mechanisms, .*backbone=dict"),
    (dict(backbone='mmdet.ResNet'), 'RKAN: backbone must be a backbone config dict'),
    (dict(backbone=dict(type='mmdet.FPN', in_channels=[8], out_channels=8, num_outs=1)),
     'RKAN cannot attach to FPN'),
], ids=['unregistered', 'already-rkan', 'misplaced-argument', 'not-a-dict', 'not-a-backbone'])
def test_bad_generic_configs(cfg: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(type='RKAN', **cfg))
