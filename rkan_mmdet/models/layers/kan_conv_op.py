r"""The KAN conv as a functional op: the exact fast form and its chunked autograd.

:class:`~.kan_conv.KANConv2d` (the module) owns the parameters; here, for
input ``x`` (B, C, H, W), the per-tap sum of docs/spec.md §2

.. math::  y = \sum_{k=0}^{8} f_k(u_k),\qquad
           f_k(u) = a_k u + \sum_f c_{k,f}\,\psi_f(u)\;(+\,b)

over each zero-padded 3x3 window ``u_0..u_8`` is computed without unfold.
Writing ``phi_f = psi_f - psi_f(0)`` (so ``phi_f(0) = 0``) gives the exact
fast form

.. math::  y = \mathrm{conv2d}\big(\Phi(x),\ K\big) + \beta,\qquad
           K_f[k] = c_{k,f},\ \beta = \sum_{k,f} c_{k,f}\,\psi_f(0)\;(+\,b)

where ``Phi(x)`` is (B*C, 1+NF, H, W) (feature 0 is ``u`` itself, weighted by
``a``) and ``K`` is (1, 1+NF, 3, 3). Because ``phi(0) = 0``, the conv's own
zero padding equals zero padding in input space: a padded tap contributes
exactly ``f_k(0)``, folded into ``beta``. See :func:`kan_conv2d`.

:class:`ChunkedKANConv` is the portable execution: channel planes share the
kernel, so they are processed in chunks of about ``chunk_elements`` values.
Forward keeps no feature maps; backward recomputes each chunk's features and
forms its gradients directly (:func:`_direct_backward`) without re-running
the conv. Peak memory is O(chunk) instead of O(NF * input), and the
elementwise feature passes run in cache.

Shapes: ``(B, C, H, W) -> (B, C, floor((H - 1) / s) + 1, floor((W - 1) / s) + 1)``.
"""
from typing import TYPE_CHECKING, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

if TYPE_CHECKING:  # the module imports this file; annotations only
    from .kan_conv import KANConv2d


def kan_conv2d(conv: 'KANConv2d', x: Tensor, kernel: Tensor, bias: Tensor) -> Tensor:
    """The exact fast form, in plain differentiable ops: (B, C, H, W) -> (B, C, H', W')."""
    b, c, h, w = x.shape
    feats = torch.stack([x] + conv.basis.features(conv, x), 2)
    y = F.conv2d(feats.reshape(b * c, -1, h, w), kernel.to(feats.dtype),
                 bias.to(feats.dtype), stride=conv.stride, padding=conv.dilation,
                 dilation=conv.dilation)
    return y.reshape(b, c, y.shape[-2], y.shape[-1])


class ChunkedKANConv(torch.autograd.Function):
    """:func:`kan_conv2d` over chunks of channel planes, recomputed in backward.

    Inputs: ``x`` (B, C, H, W), ``kernel``, ``bias``, the module, then the
    basis' feature parameters (rational's ``numerator``/``denominator``), so
    that their gradients flow. Autocast state is replayed in backward.
    """

    @staticmethod
    def forward(ctx, x: Tensor, kernel: Tensor, bias: Tensor, conv: 'KANConv2d',
                *feature_params: Tensor) -> Tensor:
        b, c, h, w = x.shape
        planes = x.contiguous().view(b * c, 1, h, w)
        step = max(1, conv.chunk_elements // (h * w))
        out: Optional[Tensor] = None
        for start in range(0, b * c, step):
            y = kan_conv2d(conv, planes[start:start + step], kernel, bias)
            if out is None:
                out = y.new_empty(b * c, 1, y.shape[-2], y.shape[-1])
            out[start:start + step] = y
        device = x.device.type
        ctx.autocast = (device, torch.is_autocast_enabled(device),
                        torch.get_autocast_dtype(device))
        ctx.conv, ctx.step = conv, step
        ctx.save_for_backward(x, kernel, bias)
        return out.view(b, c, out.shape[-2], out.shape[-1])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: Tensor):
        x, kernel, bias = ctx.saved_tensors
        conv, step = ctx.conv, ctx.step
        b, c, h, w = x.shape
        planes = x.detach().contiguous().view(b * c, 1, h, w)
        grad_planes = grad_out.contiguous().view(b * c, 1, *grad_out.shape[-2:])
        params = conv.basis.feature_parameters(conv)
        need_x = ctx.needs_input_grad[0]
        grads: List[Optional[Tensor]] = [None] * (2 + len(params))
        grad_x = torch.empty_like(planes) if need_x else None
        chunk_backward = _replay_backward if ctx.autocast[1] else _direct_backward
        for start in range(0, b * c, step):
            chunk = chunk_backward(ctx, planes[start:start + step], kernel, bias,
                                   grad_planes[start:start + step], params, need_x)
            if grad_x is not None:
                grad_x[start:start + step] = chunk[0]
            _accumulate(grads, chunk[1:], [True, True] + [p.requires_grad for p in params])
        grad_x = None if grad_x is None else grad_x.view(b, c, h, w)
        return (grad_x, grads[0], grads[1], None, *grads[2:])


def _direct_backward(ctx, xc: Tensor, kernel: Tensor, bias: Tensor, grad_y: Tensor,
                     params: List[Tensor], need_x: bool) -> Tuple[Optional[Tensor], ...]:
    """One chunk's gradients without re-running the conv.

    ``Phi`` is recomputed. The kernel gradient is oneDNN's weight-only conv
    backward; the feature gradient is :func:`conv_input_grad` (oneDNN's input
    backward of a single-output-channel conv is about 3x slower); the
    features' own backward is the basis'
    :meth:`~.kan_bases.KANBasis.features_vjp` (closed form where it has one).
    Returns ``(grad_x, grad_kernel, grad_bias, *grad_feature_params)``.
    """
    conv = ctx.conv
    feats, vjp = conv.basis.features_vjp(conv, xc, need_x)
    phi = torch.cat([xc] + feats, 1)
    weight = kernel.to(phi.dtype)
    s, d = [conv.stride] * 2, [conv.dilation] * 2
    grad_kernel = torch.ops.aten.convolution_backward(
        grad_y, phi, weight, None, s, d, d, False, [0, 0], 1, [False, True, False])[1]
    grads = (grad_kernel.to(kernel.dtype), grad_y.sum().reshape(1).to(bias.dtype))
    if not (need_x or any(p.requires_grad for p in params)):
        return (None, *grads)
    grad_phi = conv_input_grad(grad_y, weight, conv.stride, conv.dilation, xc.shape[-2:])
    grad_u, *grad_params = vjp(list(grad_phi[:, 1:].split(1, 1)))
    grad_u = grad_phi[:, :1] + grad_u if need_x else None
    return (grad_u, *grads, *grad_params)


def conv_input_grad(grad_y: Tensor, kernel: Tensor, stride: int, dilation: int,
                    size: Tuple[int, int]) -> Tensor:
    r"""Gradient wrt ``Phi`` of ``conv2d(Phi, K, stride=s, padding=d, dilation=d)``.

    ``grad_y`` (m, 1, H', W'), ``K`` (1, F, 3, 3) -> (m, F, H, W), H, W = ``size``.
    Output position p reads padded input ``s p + d k`` through tap k, so
    ``dPhi_pad[f, s p + d k] += K[f, k] dy[p]``: for s = 1 that is a conv of
    ``dy`` (one input channel, F outputs) with the flipped kernel; for s > 1,
    nine strided scaled adds into the zero-padded gradient, cropped by d.
    """
    nf, d = kernel.shape[1], dilation
    if stride == 1:
        return F.conv2d(grad_y, kernel.flip(-1, -2).transpose(0, 1), padding=d, dilation=d)
    (h, w), (ho, wo) = size, grad_y.shape[-2:]
    out = grad_y.new_zeros(grad_y.shape[0], nf, h + 2 * d, w + 2 * d)
    for ki in range(3):
        for kj in range(3):
            out[:, :, ki * d:ki * d + stride * (ho - 1) + 1:stride,
                kj * d:kj * d + stride * (wo - 1) + 1:stride].addcmul_(
                    grad_y, kernel[0, :, ki, kj].view(1, nf, 1, 1))
    return out[:, :, d:d + h, d:d + w]


def _replay_backward(ctx, xc: Tensor, kernel: Tensor, bias: Tensor, grad_y: Tensor,
                     params: List[Tensor], need_x: bool) -> Tuple[Optional[Tensor], ...]:
    """One chunk's gradients by re-running :func:`kan_conv2d` under autograd,
    in the forward's autocast state (so the low-precision casts match)."""
    device, enabled, dtype = ctx.autocast
    leaves = [kernel.detach().requires_grad_(), bias.detach().requires_grad_()]
    with torch.enable_grad(), torch.autocast(device, dtype=dtype, enabled=enabled):
        xc = xc.requires_grad_(need_x)
        wrt = ([xc] if need_x else []) + leaves + [p for p in params if p.requires_grad]
        y = kan_conv2d(ctx.conv, xc, *leaves)
        chunk = torch.autograd.grad(y, wrt, grad_y, allow_unused=True)
    if not need_x:
        return (None, *chunk)
    return chunk


def _accumulate(total: List[Optional[Tensor]], new: Tuple[Optional[Tensor], ...],
                present: List[bool]) -> None:
    values = iter(new)
    for i, has in enumerate(present):
        g = next(values) if has else None
        if g is not None:
            total[i] = g if total[i] is None else total[i] + g
