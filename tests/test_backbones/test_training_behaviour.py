"""No unused parameters, only used modules, freezing, norm_eval and with_cp."""
import pytest
import torch
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


def test_norm_eval_covers_rkan_norms() -> None:
    model = RKANResNet(depth=18, norm_eval=True)
    model.train()
    norms = [m for m in model.rkan_layers.modules() if isinstance(m, _BatchNorm)]
    assert len(norms) == 2 and not any(m.training for m in norms)
    model = RKANResNet(depth=18, norm_eval=False)
    model.train()
    assert all(m.training for m in model.rkan_layers.modules() if isinstance(m, _BatchNorm))


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
