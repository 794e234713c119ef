r"""The rational KAN basis: one safe Padé ``R`` shared by the conv (KAT's
group-rational KAN, docs/spec.md §2), started as a fit to SiLU.

.. math::  R(u) = \frac{p_0 + p_1 u + \dots + p_m u^m}{1 + |q_1 u + \dots + q_n u^n|}

Shapes: ``numerator`` (m+1,), ``denominator`` (n,); the one feature has the
shape of ``u``.
"""
from functools import lru_cache
from typing import List, Tuple

import torch
from torch import Tensor, nn

from .basis import TAPS, KANBasis, check_min

def rational(u: Tensor, numerator: Tensor, denominator: Tensor) -> Tensor:
    """``R(u) = (p_0 + p_1 u + .. + p_m u^m) / (1 + |q_1 u + .. + q_n u^n|)``.

    The denominator is >= 1, so R has no poles; d|z|/dz = sign(z) is finite
    (0) at the kink z = 0.
    """
    num = numerator[-1] * torch.ones_like(u)
    for p in numerator.flip(0)[1:]:
        num = num * u + p
    den = denominator[-1] * u
    for q in denominator.flip(0)[1:]:
        den = (den + q) * u
    return num / (1.0 + den.abs())


@lru_cache(maxsize=None)
def silu_rational_fit(num_degree: int, den_degree: int) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
    """Least-squares fit of :func:`rational` to SiLU on [-3, 3] (float64).

    A linearised solve ``P(u) ~= y (1 + Q(u))`` gives the start; L-BFGS then
    minimises the true squared error. Cached: computed once per degree pair.
    """
    u = torch.linspace(-3.0, 3.0, 601, dtype=torch.float64)
    y = torch.nn.functional.silu(u)
    powers_p = torch.stack([u ** i for i in range(num_degree + 1)], 1)
    powers_q = torch.stack([u ** i for i in range(1, den_degree + 1)], 1)
    design = torch.cat([powers_p, -y[:, None] * powers_q], 1)
    sol = torch.linalg.lstsq(design, y[:, None]).solution[:, 0]
    p = sol[:num_degree + 1].clone().requires_grad_(True)
    q = sol[num_degree + 1:].clone().requires_grad_(True)
    opt = torch.optim.LBFGS([p, q], max_iter=500, tolerance_grad=1e-12,
                            tolerance_change=1e-15, line_search_fn='strong_wolfe')

    def closure() -> Tensor:
        opt.zero_grad()
        loss = ((rational(u, p, q) - y) ** 2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    return tuple(p.detach().tolist()), tuple(q.detach().tolist())


class RationalBasis(KANBasis):
    """``f_k(u) = a_k u + s_k R(u)`` with one rational R per conv.

    ``numerator`` (m+1,) and ``denominator`` (n,) start as the SiLU fit;
    ``scaler`` (1, 9) = 1. Feature: ``R(u) - R(0)``, ``R(0) = p_0``.
    """

    def __init__(self, num_degree: int, den_degree: int) -> None:
        check_min('num_degree', num_degree, 1)
        check_min('den_degree', den_degree, 1)
        self.degrees = (num_degree, den_degree)
        self.num_features = 1

    def init_parameters(self, conv: nn.Module) -> None:
        p, q = silu_rational_fit(*self.degrees)
        conv.numerator = nn.Parameter(torch.tensor(p, dtype=torch.float32))
        conv.denominator = nn.Parameter(torch.tensor(q, dtype=torch.float32))
        conv.scaler = nn.Parameter(torch.ones(1, TAPS))

    def features(self, conv: nn.Module, u: Tensor) -> List[Tensor]:
        p = conv.numerator.to(u.dtype)
        return [rational(u, p, conv.denominator.to(u.dtype)) - p[0]]

    def coefficients(self, conv: nn.Module) -> Tensor:
        return conv.scaler

    def feature_parameters(self, conv: nn.Module) -> List[Tensor]:
        return [conv.numerator, conv.denominator]

    def tap_constants(self, conv: nn.Module) -> Tensor:
        return conv.numerator[0] * conv.scaler[0]
