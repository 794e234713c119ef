"""The vectorised unfold formulation the GPU benchmark compares against computes
the same function as KANConv2d (so its timings compare like with like)."""
import pytest
import torch

from rkan_mmdet.models import KANConv2d
from .reference import paper_unfold_kan_conv, reference_kan_conv


@pytest.mark.parametrize('kan_type', ['chebyshev', 'legendre', 'hermite'])
@pytest.mark.parametrize('stride,degree', [(1, 2), (2, 3)])
def test_paper_unfold_equals_kan_conv(kan_type: str, stride: int, degree: int) -> None:
    torch.manual_seed(0)
    conv = KANConv2d(kan_type, degree=degree, stride=stride).double()
    with torch.no_grad():
        for p in conv.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(2, 3, 7, 9, dtype=torch.float64, requires_grad=True)
    unfolded = paper_unfold_kan_conv(conv, x)
    assert unfolded.shape == (2, 3, (7 - 1) // stride + 1, (9 - 1) // stride + 1)
    torch.testing.assert_close(unfolded, conv(x), rtol=0, atol=1e-12)
    torch.testing.assert_close(unfolded, reference_kan_conv(conv, x), rtol=0, atol=1e-12)
    grad_unfold, = torch.autograd.grad(unfolded.square().sum(), x)
    grad_conv, = torch.autograd.grad(conv(x).square().sum(), x)
    torch.testing.assert_close(grad_unfold, grad_conv, rtol=0, atol=1e-11)
