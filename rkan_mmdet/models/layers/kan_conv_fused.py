r"""The fused CPU path of :class:`~.kan_conv.KANConv2d` for polynomial bases.

With the power features of :class:`~.kan_bases.PolynomialBasis`
(``Phi = [u, t, t^2, .., t^D]``, ``t = tanh u``) the whole KAN conv, forward
and backward, is one pass per channel plane in C++
(``rkan_mmdet/csrc/poly_kan_conv.cpp``): the features are built in a
cache-sized buffer, convolved and, in backward, differentiated in closed form

.. math::  \partial u = G_0 + (1 - t^2) \sum_{j=1}^{D} j\, t^{j-1} G_j,

where ``G_f`` is the transposed 3x3 conv of the output gradient by the
kernel's feature-f taps. ``tanh`` is torch's vectorised one, computed once
in forward and saved (one extra map of the input's size) instead of being
recomputed in backward.

The extension is built by ``pip install`` (see ``setup.py``). Where it is
missing, or the call is not a float32/float64 CPU call outside autocast, the
portable :class:`~.kan_conv_op.ChunkedKANConv` runs instead;
:func:`fused_kan_conv_available` says which.

Shapes: ``x`` (B, C, H, W), ``kernel`` (1, 1+D, 3, 3), ``bias`` (1,) ->
(B, C, H', W').
"""
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from .kan_bases import TAPS, PolynomialBasis

try:
    from rkan_mmdet import _poly_kan_conv as _ext
except ImportError:  # not built: the portable path runs
    _ext = None


def fused_kan_conv_available(conv: torch.nn.Module, x: Tensor) -> bool:
    """Whether :class:`FusedPolyKANConv` can run ``conv`` on ``x``."""
    basis = conv.basis
    return (_ext is not None and x.device.type == 'cpu'
            and x.dtype in (torch.float32, torch.float64)
            and isinstance(basis, PolynomialBasis) and basis.use_powers
            and not torch.is_autocast_enabled('cpu'))


class FusedPolyKANConv(torch.autograd.Function):
    """``y = conv2d([u, t, .., t^D], kernel) + bias`` with zero padding =
    dilation, computed plane by plane by the C++ extension."""

    @staticmethod
    def forward(ctx, x: Tensor, kernel: Tensor, bias: Tensor, stride: int,
                dilation: int) -> Tensor:
        b, c, h, w = x.shape
        planes = x.contiguous().view(b * c, h, w)
        t = torch.tanh(planes)
        coef = kernel.detach().to(x.dtype).reshape(-1, TAPS).contiguous()
        y = _ext.forward(planes, t, coef, float(bias.detach()), stride, dilation)
        ctx.save_for_backward(planes, t, coef)
        ctx.geometry = (stride, dilation, x.shape, kernel.dtype, bias.dtype)
        return y.view(b, c, y.shape[-2], y.shape[-1])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y: Tensor) -> Tuple[Optional[Tensor], ...]:
        planes, t, coef = ctx.saved_tensors
        stride, dilation, shape, kernel_dtype, bias_dtype = ctx.geometry
        grad_planes = grad_y.to(planes.dtype).contiguous().view(planes.shape[0], -1,
                                                                grad_y.shape[-1])
        grad_x, grad_coef, grad_bias = _ext.backward(
            planes, t, coef, grad_planes, stride, dilation, ctx.needs_input_grad[0])
        grad_x = grad_x.view(shape) if ctx.needs_input_grad[0] else None
        grad_kernel = grad_coef.view(1, -1, 3, 3).to(kernel_dtype)
        return grad_x, grad_kernel, grad_bias.reshape(1).to(bias_dtype), None, None
