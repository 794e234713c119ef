"""Each plugin against the literal formula of docs/families.md §4 (reference.py):
forward and gradients (input and every parameter) on odd-sized random input,
to 1e-5 in float32."""
from typing import Callable, Dict

import pytest
import torch
from torch import Tensor, nn

from rkan_mmdet.models.plugins import (CBAM, ECA, ELA, ShuffleAttention, SimAM,
                                       eca_kernel_size)

from . import reference

TOL = dict(rtol=1e-5, atol=1e-5)


def randomise(module: nn.Module, seed: int) -> None:
    """Random parameters, so no term hides behind a 0 or 1 init."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.2 + 0.05)


def check(module: nn.Module, formula: Callable[[Tensor], Tensor], shape: tuple,
          seed: int = 0) -> None:
    """``module(x)`` equals ``formula(x)``, and so do the gradients of a random
    projection of the output with respect to x and every parameter."""
    randomise(module, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(shape, generator=gen).requires_grad_()
    grad_out = torch.randn(shape, generator=gen)
    params: Dict[str, Tensor] = dict(module.named_parameters())
    inputs = [x, *params.values()]
    ours = module(x)
    ref = formula(x)
    assert ours.shape == ref.shape == shape
    torch.testing.assert_close(ours, ref, **TOL)
    our_grads = torch.autograd.grad((ours * grad_out).sum(), inputs)
    ref_grads = torch.autograd.grad((ref * grad_out).sum(), inputs)
    for name, a, b in zip(['x', *params], our_grads, ref_grads):
        torch.testing.assert_close(a, b, **TOL, msg=lambda m, name=name: f'grad {name}: {m}')
        assert b.abs().sum() > 0, f'grad {name} is zero: the check would be empty'


@pytest.mark.parametrize('channels,kernel', [(37, 3), (256, 5)])
def test_eca(channels: int, kernel: int) -> None:
    module = ECA(channels)
    assert module.conv.weight.shape == (1, 1, kernel)
    check(module, lambda x: reference.eca(x, module.conv.weight), (3, channels, 7, 5))


def test_eca_kernel_from_channels() -> None:
    """docs/families.md §4: 5 for C = 256, 512, 1024 and 7 for 2048."""
    assert [eca_kernel_size(c) for c in (256, 512, 1024, 2048)] == [5, 5, 5, 7]
    assert [eca_kernel_size(c) for c in (1, 2, 8, 64)] == [1, 1, 3, 3]
    assert ECA(64, kernel_size=9).conv.weight.shape == (1, 1, 9)


@pytest.mark.parametrize('channels,ratio,kernel', [(48, 16, 7), (20, 4, 3)])
def test_cbam(channels: int, ratio: int, kernel: int) -> None:
    module = CBAM(channels, ratio=ratio, kernel_size=kernel)
    w1, w2 = module.channel_mlp[0].weight, module.channel_mlp[2].weight
    hidden = channels // ratio
    assert w1.shape == (hidden, channels, 1, 1) and w2.shape == (channels, hidden, 1, 1)
    assert module.spatial_conv.weight.shape == (1, 2, kernel, kernel)
    check(module, lambda x: reference.cbam(x, w1, w2, module.spatial_conv.weight),
          (3, channels, 9, 7))


@pytest.mark.parametrize('channels,groups', [(24, 4), (128, 64), (30, 1)])
def test_shuffle_attention(channels: int, groups: int) -> None:
    module = ShuffleAttention(channels, groups=groups)
    m = module
    check(module, lambda x: reference.shuffle_attention(
        x, groups, m.channel_weight, m.channel_bias, m.spatial_weight, m.spatial_bias,
        m.norm.weight, m.norm.bias), (3, channels, 7, 5))


def test_shuffle_attention_init() -> None:
    """cw, cb, sw, sb start at 0, 1, 0, 1; so SA starts as x * sigmoid(1), shuffled."""
    module = ShuffleAttention(256)
    half = 256 // 128
    for name, value in [('channel_weight', 0), ('channel_bias', 1), ('spatial_weight', 0),
                        ('spatial_bias', 1)]:
        assert torch.equal(getattr(module, name), torch.full((1, half, 1, 1), float(value)))
    x = torch.randn(2, 256, 5, 3)
    expected = (x * torch.sigmoid(torch.tensor(1.)))
    expected = expected.reshape(2, 2, 128, 5, 3).transpose(1, 2).reshape(2, 256, 5, 3)
    torch.testing.assert_close(module(x), expected)


@pytest.mark.parametrize('e_lambda', [1e-4, 0.5])
def test_simam(e_lambda: float) -> None:
    module = SimAM(13, e_lambda=e_lambda)
    assert list(module.parameters()) == []
    check(module, lambda x: reference.simam(x, e_lambda), (3, 13, 7, 5))
    check(module, lambda x: reference.simam(x, e_lambda), (2, 3, 1, 2))  # n = 1


@pytest.mark.parametrize('channels,kwargs', [(32, {}), (48, {}),
                                             (12, dict(kernel_size=3, groups=3, norm_groups=4))])
def test_ela(channels: int, kwargs: dict) -> None:
    module = ELA(channels, **kwargs)
    k = kwargs.get('kernel_size', 7)
    per_group = channels // kwargs.get('groups', channels // 8)
    assert module.conv.weight.shape == (channels, per_group, k)
    assert module.norm.num_groups == kwargs.get('norm_groups', 16)
    check(module, lambda x: reference.ela(x, module.conv.weight, module.norm.num_groups,
                                          module.norm.weight, module.norm.bias),
          (3, channels, 9, 5))
