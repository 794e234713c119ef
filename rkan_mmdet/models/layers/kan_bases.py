r"""KAN bases: the pointwise features one KAN type expands a value into.

Every KAN type of docs/spec.md §2 writes its per-tap function as a linear
combination of a few pointwise features of the input value ``u``:

.. math::  f_k(u) = a_k u + \sum_f c_{k,f}\, \psi_f(u)  \quad (+\, b)

:class:`~rkan_mmdet.models.layers.KANConv2d` owns the base term ``a_k u``; a
basis here supplies everything else:

* :meth:`KANBasis.init_parameters` registers the basis' parameters (public
  names: they are the checkpoint format) and fixed buffers on the conv;
* :meth:`KANBasis.features` returns ``phi_f(u) = psi_f(u) - psi_f(0)``, each
  of the shape of ``u``. Shifting by the value at 0 makes ``phi_f(0) = 0`` so
  ordinary zero padding of the conv equals zero padding in input space;
* :meth:`KANBasis.coefficients` returns ``c`` as ``(NF, 9)``;
* :meth:`KANBasis.tap_constants` returns what the shift moved out of each
  tap, ``sum_f c_{k,f} psi_f(0)``, as ``(9,)``;
* :meth:`KANBasis.output_bias` is a bias added once to the output (rbf's
  ``b``; 0 for the other types);
* :meth:`KANBasis.feature_parameters` lists the parameters the features
  themselves read (only rational's); the rest enter through the kernel;
* :meth:`KANBasis.features_vjp` gives the features with their backward, for
  the KAN conv's hand-written backward (autograd by default, closed form for
  the polynomial powers).

Parameter-side maths uses broadcast products, not matmul, so that mmengine's
FLOP counter sees only the conv's own work (see ``KANConv2d.flops``).

A basis is a stateless strategy object; parameters live on the conv so that
their names are flat (``poly_weight``, not ``basis.poly_weight``).
"""
import math
from functools import lru_cache
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Type

import torch
from torch import Tensor, nn

TAPS = 9  # 3x3 kernel, tap k = 3 * di + dj (torch.nn.Unfold order)
FeaturesVJP = Callable[[List[Tensor]], Tuple[Optional[Tensor], ...]]


class KANBasis:
    """Interface of a KAN basis; see the module docstring."""

    num_features: int  # NF: number of non-constant features phi_f

    def init_parameters(self, conv: nn.Module) -> None:
        raise NotImplementedError

    def features(self, conv: nn.Module, u: Tensor) -> List[Tensor]:
        raise NotImplementedError

    def coefficients(self, conv: nn.Module) -> Tensor:
        raise NotImplementedError

    def tap_constants(self, conv: nn.Module) -> Tensor:
        raise NotImplementedError

    def output_bias(self, conv: nn.Module) -> Tensor:
        return conv.base_weight.new_zeros(())

    def feature_parameters(self, conv: nn.Module) -> List[Tensor]:
        """Parameters that :meth:`features` reads (so gradients reach them)."""
        return []

    def features_vjp(self, conv: nn.Module, u: Tensor,
                     need_u: bool) -> Tuple[List[Tensor], FeaturesVJP]:
        """:meth:`features` of ``u`` (detached) and their vector-Jacobian product.

        ``vjp(grads)`` takes one gradient per feature (each of ``u``'s shape)
        and returns ``(grad_u or None, *grads of the feature parameters that
        require grad)``. This default records :meth:`features` under autograd;
        a basis with a closed-form derivative overrides it.
        """
        params = [p for p in self.feature_parameters(conv) if p.requires_grad]
        with torch.enable_grad():
            u = u.detach().requires_grad_(need_u)
            feats = self.features(conv, u)

        def vjp(grads: List[Tensor]) -> Tuple[Optional[Tensor], ...]:
            wrt = ([u] if need_u else []) + params
            out = torch.autograd.grad(feats, wrt, grads, allow_unused=True)
            return (out[0], *out[1:]) if need_u else (None, *out)

        return [f.detach() for f in feats], vjp


def _check_min(name: str, value: int, minimum: int) -> None:
    if not isinstance(value, int) or value < minimum:
        raise ValueError(f'{name} must be an int >= {minimum}, got {value!r}')


# --------------------------------------------------------------------------
# Orthogonal polynomials of t = tanh(u), by a three-term recurrence
#   P_0 = 1,  P_1 = alpha_1 t + beta_1,
#   P_n = (alpha_n t + beta_n) P_{n-1} - gamma_n P_{n-2}.
# --------------------------------------------------------------------------
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
        _check_min('degree', degree, 1)
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


# --------------------------------------------------------------------------
# Fixed-grid bases: rbf (FastKAN), rswaf (FasterKAN), b_spline (efficient KAN)
# --------------------------------------------------------------------------
def _uniform_grid(grid_size: int) -> Tuple[Tensor, float]:
    """``mu = linspace(-1, 1, G)`` and ``h = 2 / (G - 1)``."""
    _check_min('grid_size', grid_size, 2)
    return (torch.linspace(-1.0, 1.0, grid_size, dtype=torch.float64),
            2.0 / (grid_size - 1))


class GridBasis(KANBasis):
    """A bump ``g((u - mu_g) / h)`` per grid point; subclasses pick ``g``.

    Weights ``<name>_weight`` have shape (1, 9, G).
    """

    weight_name = ''

    def __init__(self, grid_size: int) -> None:
        grid, self.h = _uniform_grid(grid_size)
        self.centres = grid.tolist()
        self.at_zero = [self.bump(torch.tensor(-c / self.h, dtype=torch.float64)).item()
                        for c in self.centres]
        self.num_features = grid_size

    @staticmethod
    def bump(z: Tensor) -> Tensor:
        raise NotImplementedError

    def init_parameters(self, conv: nn.Module) -> None:
        conv.register_buffer('grid', torch.tensor(self.centres, dtype=torch.float32))

    def features(self, conv: nn.Module, u: Tensor) -> List[Tensor]:
        inv_h = 1.0 / self.h
        return [self.bump((u - c) * inv_h) - z
                for c, z in zip(self.centres, self.at_zero)]

    def _weight(self, conv: nn.Module) -> Tensor:
        return getattr(conv, self.weight_name)[0]  # (9, G)

    def coefficients(self, conv: nn.Module) -> Tensor:
        return self._weight(conv).t()

    def tap_constants(self, conv: nn.Module) -> Tensor:
        return (self._weight(conv) * self._weight(conv).new_tensor(self.at_zero)).sum(-1)


class RBFBasis(GridBasis):
    """Gaussian RBF (FastKAN): ``exp(-((u - mu_g) / h)^2)`` plus a scalar bias.

    ``rbf_weight`` (1, 9, G) ~ truncated N(0, 1); ``bias`` (1,) = 0.
    """

    weight_name = 'rbf_weight'

    @staticmethod
    def bump(z: Tensor) -> Tensor:
        return torch.exp(-z * z)

    def init_parameters(self, conv: nn.Module) -> None:
        super().init_parameters(conv)
        conv.rbf_weight = nn.Parameter(
            nn.init.trunc_normal_(torch.empty(1, TAPS, self.num_features), std=1.0))
        conv.bias = nn.Parameter(torch.zeros(1))

    def output_bias(self, conv: nn.Module) -> Tensor:
        return conv.bias[0]


class RSWAFBasis(GridBasis):
    """Reflectional switch (FasterKAN): ``1 - tanh((u - mu_g) / h)^2``.

    ``rswaf_weight`` (1, 9, G) ~ N(0, 1/sqrt(9 G)).
    """

    weight_name = 'rswaf_weight'

    @staticmethod
    def bump(z: Tensor) -> Tensor:
        return 1.0 - torch.tanh(z) ** 2

    def init_parameters(self, conv: nn.Module) -> None:
        super().init_parameters(conv)
        g = self.num_features
        conv.rswaf_weight = nn.Parameter(
            torch.randn(1, TAPS, g) / math.sqrt(TAPS * g))


class BSplineBasis(KANBasis):
    r"""``f_k(u) = a_k u + s_k sum_j C_{k,j} B_j(u)``: G+K B-splines of order K.

    Knots ``t_i = -1 + (i - K) 2/G``, ``i = 0..G+2K`` (buffer ``knots``),
    Cox-de Boor with half-open intervals. ``spline_weight`` (1, 9, G+K)
    ~ N(0, 1/sqrt(9 (G+K))), ``scaler`` (1, 9) = 1.
    """

    def __init__(self, grid_size: int, spline_order: int) -> None:
        _check_min('grid_size', grid_size, 2)
        _check_min('spline_order', spline_order, 1)
        self.order = spline_order
        step = 2.0 / grid_size
        self.knots = [-1.0 + (i - spline_order) * step
                      for i in range(grid_size + 2 * spline_order + 1)]
        self.num_features = grid_size + spline_order
        self.at_zero = self.evaluate(torch.zeros(1, dtype=torch.float64)
                                     ).flatten().tolist()

    def evaluate(self, u: Tensor) -> Tensor:
        """``B_0(u)..B_{G+K-1}(u)`` stacked on a new last dim."""
        t = u.new_tensor(self.knots)
        x = u.unsqueeze(-1)
        bases = ((x >= t[:-1]) & (x < t[1:])).to(u.dtype)
        for p in range(1, self.order + 1):
            left = (x - t[:-(p + 1)]) / (t[p:-1] - t[:-(p + 1)])
            right = (t[p + 1:] - x) / (t[p + 1:] - t[1:-p])
            bases = left * bases[..., :-1] + right * bases[..., 1:]
        return bases

    def init_parameters(self, conv: nn.Module) -> None:
        n = self.num_features
        conv.register_buffer('knots', torch.tensor(self.knots))
        conv.spline_weight = nn.Parameter(
            torch.randn(1, TAPS, n) / math.sqrt(TAPS * n))
        conv.scaler = nn.Parameter(torch.ones(1, TAPS))

    def features(self, conv: nn.Module, u: Tensor) -> List[Tensor]:
        bases = self.evaluate(u)
        return [b - z for b, z in zip(bases.unbind(-1), self.at_zero)]

    def coefficients(self, conv: nn.Module) -> Tensor:
        return (conv.scaler[0, :, None] * conv.spline_weight[0]).t()

    def tap_constants(self, conv: nn.Module) -> Tensor:
        z = conv.spline_weight.new_tensor(self.at_zero)
        return conv.scaler[0] * (conv.spline_weight[0] * z).sum(-1)


# --------------------------------------------------------------------------
# Safe Padé rational (KAT's group-rational KAN), one R shared by the conv.
# --------------------------------------------------------------------------
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
        _check_min('num_degree', num_degree, 1)
        _check_min('den_degree', den_degree, 1)
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


KAN_TYPES: Sequence[str] = ('chebyshev', 'legendre', 'jacobi', 'hermite',
                            'rbf', 'b_spline', 'rswaf', 'rational')


def build_basis(kan_type: str, degree: int = 3, grid_size: int = 3,
                spline_order: int = 3, alpha: float = 0.5, beta: float = 0.5,
                num_degree: int = 5, den_degree: int = 4) -> KANBasis:
    """Make the basis of one KAN type; the arguments a type does not use are ignored."""
    if kan_type in POLYNOMIALS:
        return PolynomialBasis(kan_type, degree, alpha, beta)
    builders: Dict[str, Type] = dict(rbf=RBFBasis, rswaf=RSWAFBasis)
    if kan_type in builders:
        return builders[kan_type](grid_size)
    if kan_type == 'b_spline':
        return BSplineBasis(grid_size, spline_order)
    if kan_type == 'rational':
        return RationalBasis(num_degree, den_degree)
    raise ValueError(f'unknown kan_type {kan_type!r}; expected one of {", ".join(KAN_TYPES)}')
