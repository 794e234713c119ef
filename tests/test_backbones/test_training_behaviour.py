"""No unused parameters, only used modules, freezing, norm_eval and with_cp."""
import pytest
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from rkan_mmdet.models import RKANResNet, RKANSENet


def one_step(model) -> None:
    model.train()
    outs = model(torch.randn(2, 3, 64, 64))
    sum(o.square().mean() for o in outs).backward()


@pytest.mark.parametrize('factory', [
    lambda: RKANResNet(depth=50),
    lambda: RKANResNet(depth=18, rkan_mechanisms=('gating', 'se', 'addition', 'se'),
                       rkan_shortcut=True),
    lambda: RKANSENet(depth=50, out_indices=(0, 1, 2, 3)),
])
def test_every_parameter_gets_a_gradient(factory) -> None:
    model = factory()
    one_step(model)
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == []


def test_only_used_modules_are_built() -> None:
    model = RKANResNet(depth=50, rkan_mechanisms=(None, 'addition', None, 'addition'))
    assert list(model.rkan_layers) == ['layer2', 'layer4']
    assert model.rkan_layers['layer2'].kan_conv_last is None
    assert model.rkan_layers['layer4'].kan_conv_last is not None
    assert model.rkan_layers['layer4'].shortcut is None
    assert not any('gate' in n or 'squeeze' in n for n, _ in model.named_parameters())


def test_frozen_stages_freeze_rkan_blocks() -> None:
    model = RKANResNet(depth=18, frozen_stages=2, norm_eval=False,
                       rkan_mechanisms=('addition', 'addition', 'addition', None))
    model.train()
    for name, frozen in (('layer1', True), ('layer2', True), ('layer3', False)):
        block = model.rkan_layers[name]
        assert all(p.requires_grad is not frozen for p in block.parameters()), name
        assert block.training is not frozen, name


def rkan_norms(model) -> list:
    return [m for m in model.rkan_layers.modules() if isinstance(m, _BatchNorm)]


def test_rkan_norms_train_under_norm_eval_unless_asked() -> None:
    model = RKANResNet(depth=18, norm_eval=True)
    model.train()
    assert len(rkan_norms(model)) == 2 and all(m.training for m in rkan_norms(model))
    assert not any(m.training for n, m in model.named_modules()
                   if isinstance(m, _BatchNorm) and not n.startswith('rkan_layers'))
    model = RKANResNet(depth=18, norm_eval=True, rkan_norm_eval=True)
    model.train()
    assert not any(m.training for m in rkan_norms(model))
    model = RKANResNet(depth=18, norm_eval=False, rkan_norm_eval=True)
    model.train()
    assert all(m.training for m in rkan_norms(model))


@pytest.mark.parametrize('rkan_norm_eval', [False, True])
def test_rkan_statistics_learn_from_plain_weights_under_norm_eval(rkan_norm_eval: bool) -> None:
    """mmdet's default norm_eval=True, started from plain ResNet weights: the
    backbone's statistics stay, the fresh RKAN block's move (unless rkan_norm_eval)."""
    from mmdet.models.backbones import ResNet
    torch.manual_seed(0)
    plain = ResNet(depth=18)
    model = RKANResNet(depth=18, norm_eval=True, rkan_norm_eval=rkan_norm_eval)
    model.load_state_dict(plain.state_dict(), strict=False)
    before = {k: v.clone() for k, v in model.state_dict().items() if 'running' in k}
    for _ in range(2):
        one_step(model)
    moved = {k for k, v in model.state_dict().items() if 'running' in k
             and not torch.equal(v, before[k])}
    expected = {f'rkan_layers.layer4.{norm}.running_{stat}' for norm in ('mid_norm', 'out_norm')
                for stat in ('mean', 'var')}
    assert moved == (set() if rkan_norm_eval else expected)


def test_caffe_style_frozen_norms_still_train_the_rkan_block() -> None:
    """mmdet's *-caffe* / FCOS backbones: BN with requires_grad=False and norm_eval.
    The block builds trainable BNs of the same type, so its zero scale can move."""
    torch.manual_seed(0)
    model = RKANResNet(depth=18, style='caffe', frozen_stages=1, norm_eval=True,
                       norm_cfg=dict(type='BN', requires_grad=False))
    block = model.rkan_layers['layer4']
    assert type(block.out_norm) is nn.BatchNorm2d and block.out_norm.weight.requires_grad
    assert not model.layer3[0].bn1.weight.requires_grad
    watched = {'out_norm.weight': block.out_norm.weight,
               'kan_conv.poly_weight': block.kan_conv.poly_weight,
               'kan_conv_last.poly_weight': block.kan_conv_last.poly_weight,
               'kan_conv.base_weight': block.kan_conv.base_weight,
               'reduce.weight': block.reduce.weight}
    start = {name: p.detach().clone() for name, p in watched.items()}
    assert torch.equal(start['out_norm.weight'], torch.zeros(512))
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                                lr=0.1, momentum=0.9)
    model.train()
    x, target = torch.randn(2, 3, 64, 64), torch.randn(2, 512, 2, 2)
    for _ in range(3):  # step 1 moves the zero scale; then gradients reach the rest
        optimizer.zero_grad()
        (model(x)[-1] * target).sum().backward()
        optimizer.step()
    moved = {name for name, p in watched.items() if not torch.equal(p, start[name])}
    assert moved == set(watched)


def test_with_cp_gives_the_same_gradients() -> None:
    grads = []
    for with_cp in (False, True):
        torch.manual_seed(0)
        model = RKANResNet(depth=18, with_cp=with_cp, norm_eval=False,
                           rkan_mechanisms=(None, 'addition', None, 'addition'))
        torch.manual_seed(1)
        one_step(model)
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], rtol=1e-5, atol=1e-6)


def test_zero_init_residual_starts_as_the_plain_resnet() -> None:
    from mmdet.models.backbones import ResNet
    torch.manual_seed(0)
    model = RKANResNet(depth=18, rkan_mechanisms=('addition', None, 'se', 'addition'))
    model.init_weights()
    plain = ResNet(depth=18)
    plain.load_state_dict(model.state_dict(), strict=False)
    model.eval()
    plain.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for ours, ref in zip(model(x), plain(x)):
            assert torch.equal(ours, ref)


def test_zero_init_off_keeps_the_paper_init() -> None:
    model = RKANResNet(depth=18, zero_init_residual=False)
    model.init_weights()
    assert torch.equal(model.rkan_layers['layer4'].out_norm.weight, torch.ones(512))
