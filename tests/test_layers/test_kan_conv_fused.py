"""The fused C++ CPU kernel (kan_conv_fused.py): built, dispatched, exact."""
import pytest
import torch

from rkan_mmdet.models import KANConv2d
from rkan_mmdet.models.layers import kan_conv_fused
from rkan_mmdet.models.layers.kan_conv_fused import FusedPolyKANConv, fused_kan_conv_available
from .reference import reference_kan_conv

POLYNOMIALS = ['chebyshev', 'legendre', 'hermite', 'jacobi']


#: The tests of the kernel itself; a portable install (no compiler) has none.
needs_extension = pytest.mark.skipif(
    kan_conv_fused._ext is None,
    reason='rkan_mmdet._poly_kan_conv is not built (portable install): the chunked op runs')


@pytest.mark.parametrize('kan_type', POLYNOMIALS)
def test_without_the_extension_the_portable_op_runs(kan_type: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A portable install: no fused dispatch, and the chunked op gives the
    literal reference's output and input gradient (float64, 1e-12)."""
    monkeypatch.setattr(kan_conv_fused, '_ext', None)
    gen = torch.Generator().manual_seed(7)
    conv = KANConv2d(kan_type, degree=3, stride=2).double()
    x = torch.randn(2, 3, 9, 8, generator=gen, dtype=torch.float64)
    assert not fused_kan_conv_available(conv, x)
    grads = []
    for literal in (False, True):
        xr = x.clone().requires_grad_()
        y = reference_kan_conv(conv, xr) if literal else conv(xr)
        if not literal:
            assert type(y.grad_fn).__name__ != 'FusedPolyKANConvBackward'
        y.backward(torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view_as(y))
        grads.append((y.detach(), xr.grad))
    for got, expected in zip(*grads):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@needs_extension
@pytest.mark.parametrize('kan_type,degree,dtype,expected', [
    ('chebyshev', 3, torch.float32, True),
    ('jacobi', 6, torch.float64, True),
    ('legendre', 7, torch.float32, False),  # recurrence features, not powers
    ('rbf', 3, torch.float32, False),
    ('rational', 3, torch.float32, False),
    ('chebyshev', 3, torch.bfloat16, False),
])
def test_availability(kan_type: str, degree: int, dtype: torch.dtype, expected: bool) -> None:
    conv = KANConv2d(kan_type, degree=degree)
    x = torch.zeros(1, 1, 4, 4, dtype=dtype)
    assert fused_kan_conv_available(conv, x) is expected
    grad_fn = conv.to(dtype)(x.requires_grad_()).grad_fn
    assert (type(grad_fn).__name__ == 'FusedPolyKANConvBackward') is expected


def test_not_under_autocast() -> None:
    conv = KANConv2d()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert not fused_kan_conv_available(conv, torch.zeros(1, 1, 4, 4))


@needs_extension
@pytest.mark.parametrize('kan_type', POLYNOMIALS)
@pytest.mark.parametrize('degree', [1, 3, 6])
@pytest.mark.parametrize('stride,dilation,shape', [
    (1, 1, (2, 3, 7, 9)), (2, 1, (2, 3, 8, 7)), (3, 2, (1, 4, 11, 10)),
    (1, 2, (2, 2, 5, 6)), (2, 1, (3, 1, 1, 1)),
])
def test_float64_equals_reference_and_chunked(kan_type: str, degree: int, stride: int,
                                              dilation: int, shape: tuple) -> None:
    """Output and every gradient equal the literal unfold reference and the
    portable chunked op to 1e-12 in float64."""
    gen = torch.Generator().manual_seed(degree * 10 + stride)
    conv = KANConv2d(kan_type, degree=degree, stride=stride, dilation=dilation).double()
    with torch.no_grad():
        for p in conv.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    x = 1.5 * torch.randn(shape, generator=gen, dtype=torch.float64)
    results = []
    for run in ('fused', 'chunked', 'reference'):
        conv.use_fused = run == 'fused'
        conv.zero_grad()
        xr = x.clone().requires_grad_()
        y = reference_kan_conv(conv, xr) if run == 'reference' else conv(xr)
        if run == 'fused':
            assert type(y.grad_fn).__name__ == 'FusedPolyKANConvBackward'
        y.backward(torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view_as(y))
        results.append([y.detach(), xr.grad] + [p.grad for p in conv.parameters()])
    for other in results[1:]:
        for got, expected in zip(results[0], other):
            torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@needs_extension
def test_gradcheck() -> None:
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(1, 2, 6, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    kernel = torch.randn(1, 4, 3, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(1, generator=gen, dtype=torch.float64, requires_grad=True)
    for stride in (1, 2):
        assert torch.autograd.gradcheck(
            lambda *a: FusedPolyKANConv.apply(*a, stride, 1), (x, kernel, bias))


@needs_extension
def test_float32_matches_float64() -> None:
    """The float32 kernel (AVX2 clone where the CPU has it) agrees with float64
    to float32 rounding; kernel grads accumulate in double."""
    gen = torch.Generator().manual_seed(5)
    conv = KANConv2d(degree=3, stride=2)
    x = torch.randn(2, 64, 20, 20, generator=gen)
    grads = []
    for dtype in (torch.float32, torch.float64):
        conv.to(dtype).zero_grad()
        xr = x.to(dtype).detach().requires_grad_()
        y = conv(xr)
        y.backward(torch.ones_like(y))
        grads.append([y.detach(), xr.grad, conv.base_weight.grad, conv.poly_weight.grad])
    for got, expected in zip(*grads):
        scale = expected.abs().max()
        assert (got.double() - expected).abs().max() <= 2e-6 * scale


@needs_extension
def test_bad_input_is_a_one_line_error() -> None:
    x = torch.zeros(2, 4, 4)
    with pytest.raises(RuntimeError, match=r'coef must be \(1 \+ D, 9\)'):
        kan_conv_fused._ext.forward(x, x, torch.zeros(1, 9), 0.0, 1, 1)
    with pytest.raises(RuntimeError, match='dtype must be float32 or float64'):
        h = x.half()
        kan_conv_fused._ext.forward(h, h, torch.zeros(2, 9).half(), 0.0, 1, 1)
