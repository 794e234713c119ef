"""The KAN conv's hand-written backward pieces against autograd."""
import pytest
import torch
import torch.nn.functional as F

from rkan_mmdet.models.layers import KANConv2d
from rkan_mmdet.models.layers.kan_bases import KAN_TYPES
from rkan_mmdet.models.layers.kan_conv import conv_input_grad


@pytest.mark.parametrize('stride', [1, 2, 3])
@pytest.mark.parametrize('dilation', [1, 2])
@pytest.mark.parametrize('size', [(7, 7), (8, 5)])
def test_conv_input_grad_equals_autograd(stride: int, dilation: int, size: tuple) -> None:
    gen = torch.Generator().manual_seed(stride * 10 + dilation)
    phi = torch.randn(3, 4, *size, generator=gen, dtype=torch.float64, requires_grad=True)
    kernel = torch.randn(1, 4, 3, 3, generator=gen, dtype=torch.float64)
    y = F.conv2d(phi, kernel, stride=stride, padding=dilation, dilation=dilation)
    grad_y = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    expected, = torch.autograd.grad(y, phi, grad_y)
    got = conv_input_grad(grad_y, kernel, stride, dilation, size)
    assert got.shape == expected.shape == (3, 4, *size)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize('kan_type', KAN_TYPES)
def test_features_vjp_equals_autograd_of_features(kan_type: str) -> None:
    conv = KANConv2d(kan_type).double()
    u = torch.linspace(-3, 3, 61, dtype=torch.float64).view(1, 1, 61, 1)
    feats, vjp = conv.basis.features_vjp(conv, u, True)
    grads = [torch.full_like(f, float(i + 1)) for i, f in enumerate(feats)]
    got = vjp(grads)[0]
    leaf = u.clone().requires_grad_()
    expected, = torch.autograd.grad(conv.basis.features(conv, leaf), leaf, grads)
    torch.testing.assert_close(torch.cat(feats), torch.cat(conv.basis.features(conv, u)))
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
