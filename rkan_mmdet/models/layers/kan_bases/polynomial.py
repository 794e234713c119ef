r"""Polynomial KAN bases: orthogonal polynomials of ``t = tanh(u)``.

Chebyshev, Legendre, Hermite and Jacobi (docs/spec.md §2), each by its
three-term recurrence

.. math::  P_0 = 1,\quad P_1 = \alpha_1 t + \beta_1,\quad
           P_n = (\alpha_n t + \beta_n) P_{n-1} - \gamma_n P_{n-2}.

:class:`PolynomialBasis` turns the shifted polynomials into features, as
powers of ``t`` up to degree 6 (see its docstring). Shapes: every feature has
the shape of ``u``; ``poly_weight`` is (1, 9, D+1).
"""
import math
from typing import List, Optional, Tuple

import torch
from torch import Tensor, nn

from .basis import TAPS, FeaturesVJP, KANBasis, check_min

Recurrence = List[Tuple[float, float, float]]  # (alpha_n, beta_n, gamma_n), n = 1..D


def _chebyshev(degree: int, **_: float) -> Recurrence:
    return [(1.0, 0.0, 0.0)] + [(2.0, 0.0, 1.0)] * (degree - 1)


def _legendre(degree: int, **_: float) -> Recurrence:
    return [(1.0, 0.0, 0.0)] + [((2 * n - 1) / n, 0.0, (n - 1) / n)
                                for n in range(2, degree + 1)]


def _hermite(degree: int, **_: float) -> Recurrence:
    return [(2.0, 0.0, 0.0)] + [(2.0, 0.0, 2.0 * (n - 1))
                                for n in range(2, degree + 1)]


def _jacobi(degree: int, alpha: float = 0.5, beta: float = 0.5) -> Recurrence:
    a, b = float(alpha), float(beta)
    rec = [((a + b + 2) / 2, (a - b) / 2, 0.0)]
    for n in range(2, degree + 1):
        s = 2 * n + a + b
        c = 2 * n * (n + a + b) * (s - 2)
        rec.append(((s - 1) * s * (s - 2) / c, (s - 1) * (a * a - b * b) / c,
                    2 * (n + a - 1) * (n + b - 1) * s / c))
    return rec


POLYNOMIALS = dict(chebyshev=_chebyshev, legendre=_legendre,
                   hermite=_hermite, jacobi=_jacobi)


class PolynomialBasis(KANBasis):
    r"""``f_k(u) = a_k u + s_k sum_{d=0..D} W_{k,d} P_d(tanh u)``.

    Parameters: ``poly_weight`` (1, 9, D+1) ~ N(0, 1/sqrt(9 (D+1))) and
    ``scaler`` (1, 9) = 1. P_0 = 1 is constant, so it only enters
    :meth:`tap_constants`.

    Features. Each shifted ``P_d(t) - P_d(0)`` is a polynomial in t without a
    constant term, ``sum_{j=1..d} M[d, j] t^j``. So, exactly, the features can
    be the powers ``t, t^2, .., t^D`` (zero at 0 with no shift) and the kernel
    absorbs the fixed matrix M: ``e_{k,j} = s_k sum_d W_{k,d} M[d, j]``. That
    costs D-1 multiplies instead of a recurrence of ~5 passes per degree. The
    power basis loses float32 accuracy as 2^D grows, so above
    ``MAX_POWER_DEGREE`` (float32 error <= 1.2e-6 relative up to there) the
    features are the shifted recurrence values themselves.
    """

    MAX_POWER_DEGREE = 6

    def __init__(self, family: str, degree: int, alpha: float = 0.5,
                 beta: float = 0.5) -> None:
        check_min('degree', degree, 1)
        self.degree = degree
        self.recurrence = POLYNOMIALS[family](degree, alpha=alpha, beta=beta)
        self.at_zero = self.evaluate(0.0)  # P_0(0)..P_D(0), python floats
        self.power_matrix = self.evaluate_coefficients()  # M[d][j], d, j = 0..D
        self.use_powers = degree <= self.MAX_POWER_DEGREE
        self.num_features = degree

    def evaluate(self, t):
        """P_0(t)..P_D(t) by the recurrence (tensor or float ``t``)."""
        polys = [1.0, self.recurrence[0][0] * t + self.recurrence[0][1]]
        for a, b, g in self.recurrence[1:]:
            polys.append((a * t + b) * polys[-1] - g * polys[-2] if b else
                         a * t * polys[-1] - g * polys[-2])
        if isinstance(t, Tensor):  # P_0 stayed a python 1.0 inside the recurrence
            polys[0] = torch.ones_like(t)
        return polys[:self.degree + 1]

    def evaluate_coefficients(self) -> List[List[float]]:
        """Power-basis coefficients: P_d(t) = sum_j M[d][j] t^j."""
        d1 = self.degree + 1
        coeffs = [[1.0] + [0.0] * self.degree]
        prev2 = [0.0] * d1
        for a, b, g in self.recurrence:
            prev = coeffs[-1]
            coeffs.append([b * prev[j] - g * prev2[j] + (a * prev[j - 1] if j else 0.0)
                           for j in range(d1)])
            prev2 = prev
        return coeffs

    def init_parameters(self, conv: nn.Module) -> None:
        d1 = self.degree + 1
        conv.poly_weight = nn.Parameter(
            torch.randn(1, TAPS, d1) / math.sqrt(TAPS * d1))
        conv.scaler = nn.Parameter(torch.ones(1, TAPS))

    def features_vjp(self, conv: nn.Module, u: Tensor,
                     need_u: bool) -> Tuple[List[Tensor], FeaturesVJP]:
        """Closed form for the powers: ``d t^f / du = f t^(f-1) (1 - t^2)``,
        summed over f by Horner's rule."""
        if not self.use_powers:
            return super().features_vjp(conv, u, need_u)
        powers = self.features(conv, u)
        t = powers[0]

        def vjp(grads: List[Tensor]) -> Tuple[Optional[Tensor], ...]:
            acc = grads[-1] * float(self.degree)  # a fresh tensor: updated in place
            for f in range(self.degree - 1, 0, -1):
                acc.mul_(t).add_(grads[f - 1], alpha=float(f))
            return (acc.mul_(1.0 - t * t),)

        return powers, vjp

    def features(self, conv: nn.Module, u: Tensor) -> List[Tensor]:
        t = torch.tanh(u)
        if self.use_powers:
            powers = [t]
            for _ in range(1, self.degree):
                powers.append(powers[-1] * t)
            return powers
        polys = self.evaluate(t)[1:]
        return [p - z if z != 0 else p for p, z in zip(polys, self.at_zero[1:])]

    def coefficients(self, conv: nn.Module) -> Tensor:
        coef = conv.scaler[0, :, None] * conv.poly_weight[0, :, 1:]  # (9, D)
        if self.use_powers:
            matrix = coef.new_tensor(self.power_matrix)[1:, 1:]
            coef = (coef[:, :, None] * matrix).sum(1)
        return coef.t()

    def tap_constants(self, conv: nn.Module) -> Tensor:
        p0 = conv.poly_weight.new_tensor(self.at_zero)
        return conv.scaler[0] * (conv.poly_weight[0] * p0).sum(-1)
