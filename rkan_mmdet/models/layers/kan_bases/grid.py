r"""Fixed-grid KAN bases: one bump or spline per grid point.

* rbf (FastKAN): Gaussian bumps ``exp(-((u - mu_g) / h)^2)`` plus a bias;
* rswaf (FasterKAN): ``1 - tanh((u - mu_g) / h)^2``;
* b_spline (efficient KAN): ``G+K`` B-splines of order ``K``.

docs/spec.md §2. Grid points ``mu = linspace(-1, 1, G)``, ``h = 2 / (G - 1)``.
Every feature has the shape of ``u``; weights are (1, 9, G) or (1, 9, G+K).
"""
import math
from typing import List, Tuple

import torch
from torch import Tensor, nn

from .basis import TAPS, KANBasis, check_min

def _uniform_grid(grid_size: int) -> Tuple[Tensor, float]:
    """``mu = linspace(-1, 1, G)`` and ``h = 2 / (G - 1)``."""
    check_min('grid_size', grid_size, 2)
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
        check_min('grid_size', grid_size, 2)
        check_min('spline_order', spline_order, 1)
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
