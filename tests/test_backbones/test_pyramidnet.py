"""PyramidNet against a reference written from the paper's RKAN_PyramidNet.py (same weights)."""
import pytest
import torch

from rkan_mmdet.models import PyramidNet, RKANPyramidNet

from .paper_reference import RefPyramidNet, randomise_norms


@pytest.mark.parametrize('depth,layers,alpha,bottleneck,widths', [
    (18, [2, 2, 2, 2], 48, False, [76, 88, 100, 112]),
    (50, [3, 4, 6, 3], 200, True, [408, 608, 904, 1056]),
], ids=['18-basic', '50-bottleneck'])
def test_same_function_and_keys_as_the_reference(depth, layers, alpha, bottleneck,
                                                  widths) -> None:
    torch.manual_seed(0)
    ours = PyramidNet(depth=depth, out_indices=(0, 1, 2, 3))
    assert ours.alpha == alpha and ours.stage_channels == widths
    reference = RefPyramidNet(layers, alpha, bottleneck)
    randomise_norms(reference)
    ours.load_state_dict(reference.state_dict())  # strict: the reference's key names
    x = torch.randn(2, 3, 64, 96)
    for train in (False, True):
        ours.train(train), reference.train(train)
        with torch.no_grad():
            feats = ours(x)
            expected = reference(x)
        assert [f.shape[1] for f in feats] == widths
        assert [f.shape[-2:] for f in feats] == [(16, 24), (8, 12), (4, 6), (2, 3)]
        assert torch.allclose(feats[-1].mean((2, 3)), expected, rtol=1e-5, atol=1e-5)


def test_rkan_pyramidnet_equals_the_reference_with_rkan() -> None:
    """RKAN beside layer4, added before the final BN + ReLU (the paper's order)."""
    torch.manual_seed(0)
    model = RKANPyramidNet(depth=18, out_indices=(3, ), rkan_zero_init=False)
    block = model.rkan_layers['layer4']
    assert (block.reduce.in_channels, block.reduce.out_channels, block.expand.out_channels,
            block.kan_conv.stride) == (100, 50, 112, 2)
    reference = RefPyramidNet([2, 2, 2, 2], 48, False)
    randomise_norms(reference)
    result = model.load_state_dict(reference.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert {k.split('.')[0] for k in result.missing_keys} == {'rkan_layers'}
    randomise_norms(model.rkan_layers)
    model.eval()
    reference.eval()
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        ours = model(x)[0].mean((2, 3))
        plain = reference(x)
        expected = reference(x, rkan_block=block)
    assert torch.allclose(ours, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(ours, plain, atol=1e-3)


def test_pyramidnet50_size() -> None:
    """PyramidNet-50, alpha 200: 8,702,140 trunk parameters; RKAN adds 904 -> 452 -> 1056."""
    plain, rkan = PyramidNet(depth=50), RKANPyramidNet(depth=50)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(plain) == 8_702_140
    assert count(rkan) - count(plain) == 904 * 452 + 452 * 1056 + 2 * (452 + 1056) + 99


def test_frozen_stages_and_norm_eval() -> None:
    model = PyramidNet(depth=18, frozen_stages=2, norm_eval=True)
    model.train()
    frozen = [model.conv1, model.bn1, model.layer1, model.layer2]
    assert all(not p.requires_grad for m in frozen for p in m.parameters())
    assert all(p.requires_grad for m in (model.layer3, model.layer4, model.bn_final)
               for p in m.parameters())
    assert not any(m.training for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert all(p.requires_grad for p in PyramidNet(depth=18).parameters())


def test_with_cp_same_gradients() -> None:
    torch.manual_seed(0)
    a, b = PyramidNet(depth=18), PyramidNet(depth=18, with_cp=True)
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    for model in (a, b):
        model.train()
        sum(f.sum() for f in model(x)).backward()
    assert all(torch.allclose(p.grad, q.grad, atol=1e-5)
               for p, q in zip(a.parameters(), b.parameters(), strict=True))
