"""Every registered family and the generic form: plain weights load, a zero-init
RKAN backbone is bit-exactly its plain backbone, no unused parameters, frozen
stages freeze the blocks, and the parameters added by the last-stage block, exactly.

Added parameters of a last-stage block (C_in -> M = C_in / 2 -> C_out, BN
norms, Chebyshev 3/2 KAN convs of 54 + 45 parameters):
``C_in*M + M*C_out + 2*M + 2*C_out + 99``.
"""
from typing import Callable, Dict

import pytest
import torch
from mmengine.registry import MODELS

import rkan_mmdet  # noqa: F401  (registers the backbones)


def block_params(c_in: int, c_out: int) -> int:
    mid = c_in // 2
    return c_in * mid + mid * c_out + 2 * mid + 2 * c_out + 99


R50_WIDTH = block_params(1024, 2048)
assert R50_WIDTH == 1_578_083  # docs/spec.md §3
REGNETX_32GF = block_params(432, 1008)    # docs/families.md §5: widths 96, 192, 432, 1008
DENSENET_169 = block_params(640, 1664)    # docs/families.md §3
CONVNEXT_TINY = block_params(384, 768)    # downsample_layers[3] input -> stages[3] output

# id: (plain backbone config, RKAN config, parameters the RKAN block adds)
CASES: Dict[str, tuple] = {
    'RKANResNet': (dict(type='mmdet.ResNet', depth=50), dict(type='RKANResNet', depth=50),
                   R50_WIDTH),
    'RKANResNetV1d': (dict(type='mmdet.ResNetV1d', depth=50),
                      dict(type='RKANResNetV1d', depth=50), R50_WIDTH),
    'RKANResNeXt': (dict(type='mmdet.ResNeXt', depth=50, groups=32, base_width=4),
                    dict(type='RKANResNeXt', depth=50, groups=32, base_width=4), R50_WIDTH),
    'RKANRes2Net': (dict(type='mmdet.Res2Net', depth=50), dict(type='RKANRes2Net', depth=50),
                    R50_WIDTH),
    'RKANResNeSt': (dict(type='mmdet.ResNeSt', depth=50), dict(type='RKANResNeSt', depth=50),
                    R50_WIDTH),
    'RKANRegNet': (dict(type='mmdet.RegNet', arch='regnetx_3.2gf'),
                   dict(type='RKANRegNet', arch='regnetx_3.2gf'), REGNETX_32GF),
    'RKANRegNetY': (dict(type='RegNetY', arch='regnety_400mf'),
                    dict(type='RKANRegNet', arch='regnety_400mf'), block_params(208, 440)),
    'RKANPyramidNet': (dict(type='PyramidNet', depth=18), dict(type='RKANPyramidNet', depth=18),
                       block_params(100, 112)),
    'RKANDenseNet-paper-head': (dict(type='PlainDenseNet', arch='121', final_relu=False),
                                dict(type='RKANDenseNet', arch='121', final_relu=False),
                                block_params(512, 1024)),
    'RKANSENet': (dict(type='mmpretrain.SEResNet', depth=50),
                  dict(type='RKANSENet', depth=50), R50_WIDTH),
    'RKANSEResNeXt': (dict(type='mmpretrain.SEResNeXt', depth=50, groups=32, width_per_group=4),
                      dict(type='RKANSEResNeXt', depth=50, groups=32, width_per_group=4),
                      R50_WIDTH),
    'RKANDenseNet': (dict(type='mmpretrain.DenseNet', arch='169'),
                     dict(type='RKANDenseNet', arch='169'), DENSENET_169),
}
GENERIC = {
    'WideResNet50-2': dict(type='mmpretrain.ResNet', depth=50, base_channels=128, expansion=2),
    'RegNetX-3.2GF': dict(type='mmdet.RegNet', arch='regnetx_3.2gf'),
    'DenseNet169': dict(type='mmpretrain.DenseNet', arch='169'),
    'ConvNeXt-T': dict(type='mmpretrain.ConvNeXt', arch='tiny', gap_before_final_norm=False,
                       out_indices=(0, 1, 2, 3)),
}
CASES.update({f'RKAN({name})': (cfg, dict(type='RKAN', backbone=cfg),
                                {'WideResNet50-2': R50_WIDTH, 'RegNetX-3.2GF': REGNETX_32GF,
                                 'DenseNet169': DENSENET_169,
                                 'ConvNeXt-T': CONVNEXT_TINY}[name])
              for name, cfg in GENERIC.items()})


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def rkan_keys(model: torch.nn.Module) -> set:
    """RKAN keys a load reports missing (BN fills in a missing num_batches_tracked)."""
    return {k for k in model.state_dict()
            if k.startswith('rkan_layers.') and not k.endswith('num_batches_tracked')}


def outputs(model: torch.nn.Module, x: torch.Tensor, train: bool) -> tuple:
    model.train(train)
    with torch.no_grad():
        out = model(x)
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize('plain_cfg,rkan_cfg,added', CASES.values(), ids=list(CASES))
def test_rkan_is_its_plain_backbone_at_zero_init(plain_cfg: dict, rkan_cfg: dict,
                                                added: int) -> None:
    torch.manual_seed(0)
    plain = MODELS.build(plain_cfg)
    rkan = MODELS.build(rkan_cfg)
    assert count(rkan) - count(plain) == added
    result = rkan.load_state_dict(plain.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert set(result.missing_keys) == rkan_keys(rkan) != set()
    x = torch.randn(2, 3, 67, 93)  # odd sizes: floor-rounding stages crop the residual
    for train in (False, True):
        for ours, ref in zip(outputs(rkan, x, train), outputs(plain, x, train), strict=True):
            assert torch.equal(ours, ref), (train, ours.shape)
    rkan.train()
    sum(o.float().square().mean() for o in rkan(x)).backward()
    unused = [n for n, p in rkan.named_parameters() if p.requires_grad and p.grad is None]
    assert unused == []
    rkan.frozen_stages = len(rkan.rkan_stage_index)  # every stage: the family's own freezing
    rkan.train()
    assert not any(p.requires_grad for p in rkan.rkan_layers.parameters())
    assert not any(m.training for block in rkan.rkan_layers.values() for m in block.modules())


@pytest.mark.parametrize('cfg', [
    dict(type='RKANResNet', depth=18, frozen_stages=2),
    dict(type='RKANRegNet', arch='regnetx_400mf', frozen_stages=2),
    dict(type='RKAN', backbone=dict(type='mmpretrain.DenseNet', arch=dict(
        growth_rate=8, depths=[2, 2, 2, 2], init_channels=16), frozen_stages=2)),
    dict(type='RKAN', backbone=dict(type='mmpretrain.ConvNeXt', arch=dict(
        depths=[1, 1, 1, 1], channels=[16, 32, 64, 128]), frozen_stages=2)),
], ids=['ResNet', 'RegNet', 'DenseNet', 'ConvNeXt'])
def test_frozen_stages_cover_rkan_blocks(cfg: dict) -> None:
    # reduce factor 1: ConvNeXt's stage 1 starts at the 3-channel image
    model = MODELS.build({**cfg, 'rkan_mechanisms': ('addition',) * 4, 'reduce_factor': 1})
    model.train()
    assert len(model.rkan_layers) == 4
    for index, block in enumerate(model.rkan_layers.values()):
        frozen = index < 2
        assert all(p.requires_grad is not frozen for p in block.parameters()), index
        assert all(m.training is not frozen for m in block.modules()), index


@pytest.mark.parametrize('factory,expected', [
    (lambda: MODELS.build(dict(type='RKANRegNet', arch='regnetx_3.2gf')),
     {'layer4': (432, 216, 1008, 2)}),
    (lambda: MODELS.build(dict(type='RKANDenseNet', arch='169', rkan_mechanisms=(
        None, None, 'addition', 'addition'))),
     {'stage3': (256, 128, 640, 2), 'stage4': (640, 320, 1664, 1)}),
    (lambda: MODELS.build(dict(type='RKANResNet', depth=50, strides=(1, 2, 2, 1),
                               dilations=(1, 1, 1, 2))),
     {'layer4': (1024, 512, 2048, 1)}),
], ids=['RegNet', 'DenseNet', 'dilated-ResNet'])
def test_channels_and_strides_come_from_the_backbone(factory: Callable, expected: dict) -> None:
    """(C_in, M, C_out, KAN stride) of each block: RegNet's widths come from its
    arch, DenseNet's from its growth rate; the second KAN conv is on the last stage."""
    model = factory()
    found = {key: (b.reduce.in_channels, b.reduce.out_channels, b.expand.out_channels,
                   b.kan_conv.stride) for key, b in model.rkan_layers.items()}
    dilations = getattr(model, 'dilations', (1,) * 4)
    assert [b.kan_conv.dilation for b in model.rkan_layers.values()] == [
        dilations[model.rkan_stage_index[key]] for key in model.rkan_layers]
    assert found == expected
    last = list(model.rkan_layers)[-1]
    assert [k for k, b in model.rkan_layers.items() if b.kan_conv_last is not None] == [last]
