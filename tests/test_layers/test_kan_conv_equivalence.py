"""KANConv2d (fast, no unfold) == the literal unfold reference, forward and backward.

Float32 agreement is held to 1e-5 of each tensor's largest value. Gradients of
parameters are sums over every position, so summation order alone moves them
by up to ~2e-5 on rare inputs (a 300-seed scan: only rational's denominator and
rbf's scalar bias ever exceed 1e-5); seeds are therefore fixed per case, and
``test_kan_conv_options.test_float64_matches_reference_tightly`` shows the two
agree to 1e-12 when rounding is out of the way.
"""
import zlib

import pytest
import torch

from rkan_mmdet.models import KAN_TYPES, KANConv2d
from .reference import reference_kan_conv

GEOMETRIES = [  # (stride, dilation, (B, C, H, W))
    (1, 1, (2, 3, 7, 9)),
    (2, 1, (2, 3, 7, 9)),
    (2, 1, (1, 2, 8, 6)),
    (1, 2, (2, 2, 9, 7)),
    (2, 2, (1, 3, 11, 5)),
    (1, 1, (3, 1, 1, 1)),
    (2, 1, (1, 2, 1, 4)),
]


def randomize(conv: KANConv2d, generator: torch.Generator) -> None:
    """Move every parameter off its init so that no term is trivially zero."""
    with torch.no_grad():
        for p in conv.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=generator, dtype=p.dtype))


def assert_close_rel(actual: torch.Tensor, expected: torch.Tensor, rtol: float) -> None:
    scale = expected.abs().max().clamp_min(1e-12)
    err = (actual - expected).abs().max()
    assert err <= rtol * scale, f'max error {err:.3e} > {rtol:g} x {scale:.3e}'


@pytest.mark.parametrize('use_fused', [True, False], ids=['fused', 'chunked'])
@pytest.mark.parametrize('kan_type', KAN_TYPES)
@pytest.mark.parametrize('stride,dilation,shape', GEOMETRIES)
def test_forward_and_gradients_match_reference(kan_type: str, stride: int,
                                               dilation: int, shape: tuple,
                                               use_fused: bool) -> None:
    """Both CPU paths: the fused C++ kernel (polynomial types; the others
    fall back to the chunked op either way) and the chunked op."""
    gen = torch.Generator().manual_seed(zlib.crc32(repr((kan_type, stride, dilation, shape)).encode()))
    torch.manual_seed(0)
    conv = KANConv2d(kan_type, degree=3, grid_size=4, spline_order=3,
                     stride=stride, dilation=dilation)
    conv.use_fused = use_fused
    randomize(conv, gen)
    x = (1.5 * torch.randn(shape, generator=gen)).requires_grad_(True)
    grad_out = None

    outputs = {}
    for name, fn in (('fast', lambda: conv(x)),
                     ('reference', lambda: reference_kan_conv(conv, x))):
        conv.zero_grad()
        x.grad = None
        y = fn()
        if grad_out is None:
            grad_out = torch.randn(y.shape, generator=gen)
        (y * grad_out).sum().backward()
        outputs[name] = (y.detach(), x.grad.clone(),
                         {n: p.grad.clone() for n, p in conv.named_parameters()})

    (y_fast, gx_fast, gp_fast), (y_ref, gx_ref, gp_ref) = outputs['fast'], outputs['reference']
    assert y_fast.shape == y_ref.shape
    assert_close_rel(y_fast, y_ref, 1e-5)
    assert_close_rel(gx_fast, gx_ref, 1e-5)
    assert set(gp_fast) == set(gp_ref) and gp_fast
    for name in gp_ref:
        assert_close_rel(gp_fast[name], gp_ref[name], 1e-5)


@pytest.mark.parametrize('kan_type', ['chebyshev', 'legendre', 'hermite', 'jacobi'])
@pytest.mark.parametrize('degree', [1, 2, 7])
def test_power_and_recurrence_paths_match_reference(kan_type: str, degree: int) -> None:
    """Degrees <= 6 use the exact power-basis form, higher ones the recurrence."""
    gen = torch.Generator().manual_seed(degree)
    conv = KANConv2d(kan_type, degree=degree, stride=2)
    assert conv.basis.use_powers is (degree <= 6)
    randomize(conv, gen)
    x = torch.randn(2, 3, 9, 8, generator=gen)
    assert_close_rel(conv(x), reference_kan_conv(conv, x), 1e-5)


@pytest.mark.parametrize('kan_type', ['chebyshev', 'jacobi', 'b_spline', 'rational'])
def test_padded_border_is_f_of_zero(kan_type: str) -> None:
    """On a 1x1 map every output is f_4(x) + sum_{k != 4} f_k(0) (+ b)."""
    conv = KANConv2d(kan_type).double()
    randomize(conv, torch.Generator().manual_seed(1))
    x = torch.tensor([[[[0.7]]]], dtype=torch.float64)
    expected = reference_kan_conv(conv, x)
    assert conv(x).item() == pytest.approx(expected.item(), rel=1e-12)
    # and the literal per-tap functions of the module agree with the reference
    u = torch.linspace(-3, 3, 31, dtype=torch.float64)
    taps = conv.tap_functions(u)
    from .reference import tap_function
    for k in range(9):
        torch.testing.assert_close(taps[:, k], tap_function(conv, k, u), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('kan_type', ['chebyshev', 'rational', 'b_spline'])
@pytest.mark.parametrize('input_grad', [True, False])
def test_chunked_execution_is_exact(kan_type: str, input_grad: bool) -> None:
    """One plane per chunk (forward and recomputed backward) == the reference."""
    gen = torch.Generator().manual_seed(7)
    conv = KANConv2d(kan_type, stride=2).double()
    randomize(conv, gen)
    conv.use_fused = False
    conv.cpu_chunk_elements = 10  # < H*W: every plane is its own chunk
    x = torch.randn(2, 5, 6, 7, generator=gen, dtype=torch.float64).requires_grad_(input_grad)
    grads = []
    for fn in (lambda: conv(x), lambda: reference_kan_conv(conv, x)):
        conv.zero_grad()
        x.grad = None
        y = fn()
        (y * torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view_as(y)).sum().backward()
        grads.append([y.detach()] + ([x.grad] if input_grad else []) +
                     [p.grad for p in conv.parameters()])
    for fast, ref in zip(*grads):
        torch.testing.assert_close(fast, ref, rtol=1e-11, atol=1e-11)
