"""The literal KAN conv of docs/spec.md §2, as the paper's code words it.

It unfolds every 3x3 window (zero padding in input space), applies the nine
per-tap functions ``f_k`` to the nine values, and sums. Every basis is
written out here from the spec, independently of ``rkan_mmdet``: this file is
the reference the fast op is tested against, and the slow side of the
benchmark. It reads the parameters of a ``KANConv2d`` by their public names.
"""
import torch
import torch.nn.functional as F
from torch import Tensor


def chebyshev(t: Tensor, degree: int, **_) -> list:
    polys = [torch.ones_like(t), t]
    for _n in range(2, degree + 1):
        polys.append(2 * t * polys[-1] - polys[-2])
    return polys[:degree + 1]


def legendre(t: Tensor, degree: int, **_) -> list:
    polys = [torch.ones_like(t), t]
    for n in range(2, degree + 1):
        polys.append(((2 * n - 1) * t * polys[-1] - (n - 1) * polys[-2]) / n)
    return polys[:degree + 1]


def hermite(t: Tensor, degree: int, **_) -> list:
    polys = [torch.ones_like(t), 2 * t]
    for n in range(2, degree + 1):
        polys.append(2 * t * polys[-1] - 2 * (n - 1) * polys[-2])
    return polys[:degree + 1]


def jacobi(t: Tensor, degree: int, a: float = 0.5, b: float = 0.5) -> list:
    polys = [torch.ones_like(t), (a - b + (a + b + 2) * t) / 2]
    for n in range(2, degree + 1):
        A = (2 * n + a + b - 1) * ((2 * n + a + b) * (2 * n + a + b - 2) * t + a * a - b * b)
        B = 2 * (n + a - 1) * (n + b - 1) * (2 * n + a + b)
        C = 2 * n * (n + a + b) * (2 * n + a + b - 2)
        polys.append((A * polys[-1] - B * polys[-2]) / C)
    return polys[:degree + 1]


POLYS = dict(chebyshev=chebyshev, legendre=legendre, hermite=hermite, jacobi=jacobi)


def bspline_bases(u: Tensor, grid: int, order: int) -> Tensor:
    """Cox-de Boor on knots t_i = -1 + (i - K) 2/G, i = 0..G+2K -> (..., G+K)."""
    knots = [-1 + (i - order) * 2 / grid for i in range(grid + 2 * order + 1)]
    bases = [((u >= knots[i]) & (u < knots[i + 1])).to(u.dtype)
             for i in range(len(knots) - 1)]
    for p in range(1, order + 1):
        bases = [(u - knots[i]) / (knots[i + p] - knots[i]) * bases[i]
                 + (knots[i + p + 1] - u) / (knots[i + p + 1] - knots[i + 1]) * bases[i + 1]
                 for i in range(len(bases) - 1)]
    return torch.stack(bases, -1)


def rational_fn(u: Tensor, p: Tensor, q: Tensor) -> Tensor:
    num = sum(p[i] * u ** i for i in range(len(p)))
    den = sum(q[j - 1] * u ** j for j in range(1, len(q) + 1))
    return num / (1 + den.abs())


def tap_function(conv, k: int, u: Tensor, alpha: float = 0.5, beta: float = 0.5,
                 spline_order: int = 3) -> Tensor:
    """f_k(u) of docs/spec.md §2, literally (rbf's scalar bias excluded).

    ``alpha``, ``beta`` and ``spline_order`` are the constructor arguments the
    parameters' shapes do not reveal.
    """
    kan_type = conv.kan_type
    out = conv.base_weight[0, k] * u
    if kan_type in POLYS:
        w = conv.poly_weight[0, k]
        polys = POLYS[kan_type](torch.tanh(u), w.numel() - 1,
                                a=alpha, b=beta)
        return out + conv.scaler[0, k] * sum(w[d] * polys[d] for d in range(w.numel()))
    if kan_type in ('rbf', 'rswaf'):
        w = getattr(conv, f'{kan_type}_weight')[0, k]
        g = w.numel()
        mu = torch.linspace(-1, 1, g, dtype=torch.float64).tolist()
        h = 2 / (g - 1)
        if kan_type == 'rbf':
            bumps = [torch.exp(-((u - m) / h) ** 2) for m in mu]
        else:
            bumps = [1 - torch.tanh((u - m) / h) ** 2 for m in mu]
        return out + sum(w[i] * bumps[i] for i in range(g))
    if kan_type == 'b_spline':
        w = conv.spline_weight[0, k]
        order = spline_order
        bases = bspline_bases(u, w.numel() - order, order)
        return out + conv.scaler[0, k] * (bases * w).sum(-1)
    if kan_type == 'rational':
        return out + conv.scaler[0, k] * rational_fn(u, conv.numerator, conv.denominator)
    raise AssertionError(kan_type)


def reference_kan_conv(conv, x: Tensor, **hparams) -> Tensor:
    """Unfold, apply f_k to tap k of every window, sum: (B, C, H, W) -> (B, C, H', W')."""
    b, c, h, w = x.shape
    s, d = conv.stride, conv.dilation
    cols = F.unfold(x.reshape(b * c, 1, h, w), 3, dilation=d, padding=d, stride=s)
    y = sum(tap_function(conv, k, cols[:, k], **hparams) for k in range(9))
    if conv.kan_type == 'rbf':
        y = y + conv.bias[0]
    ho = (h - 1) // s + 1
    wo = (w - 1) // s + 1
    return y.reshape(b, c, ho, wo)


def paper_unfold_kan_conv(conv, x: Tensor) -> Tensor:
    """The paper code's formulation of a polynomial KAN conv, vectorised.

    Unfold every 3x3 window of ``x`` (B, C, H, W) into a row of (B*C*L, 9),
    then ``u a^T + sum_{k,d} s_k W_{k,d} P_d(tanh u_k)`` per row, all rows in
    one einsum: the memory layout of the paper's code (every window's basis
    values materialised), used as the "unfold" side of the GPU benchmark.
    """
    b, c, h, w = x.shape
    s, d = conv.stride, conv.dilation
    cols = F.unfold(x, 3, dilation=d, padding=d, stride=s)               # (B, C*9, L)
    u = cols.view(b, c, 9, -1).permute(0, 1, 3, 2).reshape(-1, 9)
    degree = conv.poly_weight.shape[-1] - 1
    bases = torch.stack(POLYS[conv.kan_type](torch.tanh(u), degree), -1)  # (N, 9, D+1)
    weight = conv.poly_weight * conv.scaler.unsqueeze(-1)
    out = u @ conv.base_weight.t() + torch.einsum('nkd,okd->no', bases, weight)
    return out.view(b, c, (h - 1) // s + 1, (w - 1) // s + 1)
