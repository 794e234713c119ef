"""Where the stages are found (docs/any_backbone.md): by the backbone's contract, Swin's
token stages, DenseNet's final activation; and the taps' hooks, kept and removable."""
import copy
from typing import List

import pytest
import torch
from mmengine.registry import MODELS
from mmpretrain.models.backbones import DenseNet
from torch import nn

import rkan_mmdet  # noqa: F401  (registers RKAN)
from rkan_mmdet.models.backbones import rkan_class
from rkan_mmdet.models.backbones.attach import map_to_tokens, tokens_to_map

SMALL_REPLKNET = dict(large_kernel_sizes=[7, 7, 7, 5], layers=[1, 1, 1, 1],
                      channels=[16, 32, 64, 128], small_kernel=3, dw_ratio=1)
SMALL_REPMLP = dict(channels=[16, 32, 64, 128], depths=[1, 1, 1, 1],
                    sharesets_nums=[1, 2, 4, 8])
SMALL_DENSENET = dict(growth_rate=8, depths=[2, 2, 2, 2], init_channels=16)
SMALL_SWIN = dict(type='mmdet.SwinTransformer', embed_dims=16, depths=(1, 1, 1, 1),
                  num_heads=(1, 1, 1, 1), window_size=4)


def layout(model: nn.Module) -> List[tuple]:
    """(key, entry path, exit path, C_in, C_out, KAN stride) of every block."""
    names = {id(m): n for n, m in model.named_modules()}
    return [(t.stage.key, names[id(t.stage.entry)], names[id(t.stage.exit)],
             t.block.reduce.in_channels, t.block.expand.out_channels, t.block.kan_conv.stride)
            for t in model.rkan_taps]


EVERY = ('addition',) * 4


@pytest.mark.parametrize('cfg,expected', [
    # RepLKNet: 4 stages, 3 transitions before stages 2-4
    (dict(type='mmpretrain.RepLKNet', arch=SMALL_REPLKNET), [
        ('stages_0', 'stages.0', 'stages.0', 16, 16, 1),
        ('stages_1', 'transitions.0', 'stages.1', 16, 32, 2),
        ('stages_2', 'transitions.1', 'stages.2', 32, 64, 2),
        ('stages_3', 'transitions.2', 'stages.3', 64, 128, 2)]),
    # RepMLPNet: stages run before their downsampling layers
    (dict(type='mmpretrain.RepMLPNet', arch=SMALL_REPMLP, img_size=64,
          reparam_conv_kernels=(3,)), [
        ('downsample_layers_0', 'stages.0', 'downsample_layers.0', 16, 32, 2),
        ('downsample_layers_1', 'stages.1', 'downsample_layers.1', 32, 64, 2),
        ('downsample_layers_2', 'stages.2', 'downsample_layers.2', 64, 128, 2),
        ('stages_3', 'stages.3', 'stages.3', 128, 128, 1)]),
    # CSPDarknet (YOLOX): out index 0 is the stem, by its contract
    (dict(type='mmdet.CSPDarknet', deepen_factor=0.33, widen_factor=0.125), [
        ('stem', 'stem', 'stem', 3, 8, 2), ('stage1', 'stage1', 'stage1', 8, 16, 2),
        ('stage2', 'stage2', 'stage2', 16, 32, 2), ('stage3', 'stage3', 'stage3', 32, 64, 2),
        ('stage4', 'stage4', 'stage4', 64, 128, 2)]),
], ids=['RepLKNet', 'RepMLPNet', 'CSPDarknet'])
def test_stages_follow_the_returned_feature_maps(cfg: dict, expected: List[tuple]) -> None:
    model = MODELS.build(dict(type='RKAN', backbone=cfg, rkan_mechanisms=(
        'addition',) * len(expected), reduce_factor=1))
    assert layout(model) == expected


def test_vgg_stages_are_ranges_of_its_sequential() -> None:
    model = MODELS.build(dict(type='RKAN', backbone=dict(type='mmpretrain.VGG', depth=11),
                              rkan_mechanisms={-2: 'addition', -1: 'addition'}))
    (start4, end4), (start5, end5) = model.range_sub_modules[-2:]
    assert layout(model) == [
        (f'features_{end4 - 1}', f'features.{start4}', f'features.{end4 - 1}', 256, 512, 2),
        (f'features_{end5 - 1}', f'features.{start5}', f'features.{end5 - 1}', 512, 512, 2)]


def test_wrong_count_names_the_stages() -> None:
    with pytest.raises(ValueError, match=r'^rkan_mechanisms has 4 entries but CSPDarknet has 5 '
                       r'stages \(stem, stage1, stage2, stage3, stage4\); give 5'):
        MODELS.build(dict(type='RKAN', backbone=dict(
            type='mmdet.CSPDarknet', deepen_factor=0.33, widen_factor=0.125),
            rkan_mechanisms=(None, None, None, 'addition')))


def test_frozen_stages_freeze_the_blocks_of_contract_stages() -> None:
    model = MODELS.build(dict(type='RKAN', backbone=dict(
        type='mmdet.CSPDarknet', deepen_factor=0.33, widen_factor=0.125, frozen_stages=2),
        rkan_mechanisms=('addition',) * 5, reduce_factor=1))
    model.train()
    frozen = {key: not any(p.requires_grad for p in block.parameters())
              for key, block in model.rkan_layers.items()}
    assert frozen == {'stem': True, 'stage1': True, 'stage2': True, 'stage3': False,
                      'stage4': False}


def swin_reference(model: nn.Module, image: torch.Tensor, stage_index: int) -> List[torch.Tensor]:
    """mmdet Swin's forward, written out, with ``mechanism(y, r)`` on stage
    ``stage_index``'s output tokens before its patch merging."""
    plain = copy.deepcopy(model)
    for tap in plain.rkan_taps:
        tap.remove()
    block = plain.rkan_layers[f'stage{stage_index + 1}']
    x, hw = plain.patch_embed(image)
    x = plain.drop_after_pos(x)
    outs = []
    for i, stage in enumerate(plain.stages):
        x_in = x
        for swin_block in stage.blocks:
            x = swin_block(x, hw)
        if i == stage_index:
            x = map_to_tokens(block(tokens_to_map(x_in, hw), tokens_to_map(x, hw)))
        out, out_hw = x, hw
        if stage.downsample is not None:
            x, hw = stage.downsample(x, hw)
        norm = getattr(plain, f'norm{i}')(out)
        outs.append(norm.view(-1, *out_hw, plain.num_features[i]).permute(0, 3, 1, 2))
    return outs


def test_swin_residual_enters_the_next_stages_token_stream() -> None:
    torch.manual_seed(0)
    model = MODELS.build(dict(type='RKAN', backbone=SMALL_SWIN, rkan_mechanisms={1: 'se'},
                              rkan_zero_init=False))
    model.eval()
    image = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ours = model(image)
        expected = swin_reference(model, image, 1)
    for a, b in zip(ours, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    block = model.rkan_layers['stage2']
    assert (block.reduce.in_channels, block.expand.out_channels) == (32, 32)
    assert block.kan_conv.stride == 1 and block.kan_conv_last is not None  # as RKAN_Swin
    assert isinstance(block.out_norm, nn.BatchNorm2d)  # Swin's LN works on tokens


class NoFinalReLU(DenseNet):
    """DenseNet whose final transition's activation is an nn.Identity (the paper's head)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.transitions[-1][1] = nn.Identity()


@pytest.mark.parametrize('parent,final', [(DenseNet, torch.relu), (NoFinalReLU, lambda t: t)],
                         ids=['final-relu', 'identity'])
def test_densenet_last_stage_adds_before_its_final_activation(parent: type, final) -> None:
    torch.manual_seed(0)
    model = rkan_class(parent)(arch=SMALL_DENSENET, rkan_zero_init=False).eval()
    plain = copy.deepcopy(model)
    for tap in plain.rkan_taps:
        tap.remove()
    seen = {}
    plain.stages[-1].register_forward_pre_hook(lambda m, a: seen.update(x=a[0]))
    plain.transitions[-1][1].register_forward_pre_hook(lambda m, a: seen.update(y=a[0]))
    image = torch.randn(2, 3, 67, 93)
    with torch.no_grad():
        plain(image)
        r = plain.rkan_layers['stage4'].residual(seen['x'])
        assert torch.equal(model(image)[-1], final(seen['y'] + r))


def test_taps_are_kept_shown_and_removable() -> None:
    torch.manual_seed(0)
    model = MODELS.build(dict(type='RKANResNet', depth=18, rkan_zero_init=False,
                              rkan_mechanisms={-2: 'addition', -1: 'gating'}))
    model.eval()
    text = repr(model)
    assert '(rkan tap) StageTap(layer3: ResLayer; exit: forward hook)' in text
    assert '(rkan tap) StageTap(layer4: ResLayer; exit: forward hook)' in text
    plain = MODELS.build(dict(type='mmdet.ResNet', depth=18))
    plain.eval()  # mmdet's train() returns None
    plain.load_state_dict(model.state_dict(), strict=False)
    image = torch.randn(1, 3, 64, 64)
    twin = copy.deepcopy(model)
    with torch.no_grad():
        with_rkan = model(image)[-1]
        for tap in twin.rkan_taps:
            tap.remove()
        assert repr(twin.rkan_taps[0]) == 'StageTap(layer3: ResLayer; removed)'
        assert torch.equal(twin(image)[-1], plain(image)[-1])  # the copy alone lost its blocks
        assert torch.equal(model(image)[-1], with_rkan)
        assert not torch.equal(with_rkan, plain(image)[-1])
