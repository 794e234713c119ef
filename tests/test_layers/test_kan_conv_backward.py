"""The KAN conv's hand-written backward pieces against autograd."""
import pytest
import torch
import torch.nn.functional as F

from rkan_mmdet.models.layers import KANConv2d
from rkan_mmdet.models.layers.kan_bases import KAN_TYPES
from rkan_mmdet.models.layers.kan_conv_op import conv_input_grad


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


@pytest.mark.parametrize('use_fused', [True, False], ids=['fused', 'chunked'])
@pytest.mark.parametrize('kan_type', KAN_TYPES)
def test_parameter_grads_do_not_depend_on_input_requiring_grad(kan_type: str,
                                                               use_fused: bool) -> None:
    """A KAN conv on a frozen input (no input gradient) takes the
    ``need_x=False`` branch; its parameter gradients must be the same."""
    conv = KANConv2d(kan_type, stride=2).double()
    conv.use_fused = use_fused
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(2, 3, 9, 9, generator=gen, dtype=torch.float64)
    grad_y = torch.randn(2, 3, 5, 5, generator=gen, dtype=torch.float64)
    grads = []
    for needs in (True, False):
        conv.zero_grad()
        conv(x.clone().requires_grad_(needs)).backward(grad_y)
        grads.append({n: p.grad.clone() for n, p in conv.named_parameters()})
    assert grads[0].keys() == grads[1].keys() and len(grads[0]) >= 2
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name], rtol=0, atol=1e-12)
