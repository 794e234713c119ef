r"""KANConv2d: RKAN's channel-shared depthwise 3x3 KAN convolution, without unfold.

For input ``x`` (B, C, H, W), every channel and output position sums the 9
per-tap functions of its zero-padded 3x3 window ``u_0..u_8`` (RKAN_SPEC §2):

.. math::  y = \sum_{k=0}^{8} f_k(u_k),\qquad
           f_k(u) = a_k u + \sum_f c_{k,f}\,\psi_f(u)\;(+\,b)

One set of ``f_k`` is shared by all channels. Writing
``phi_f = psi_f - psi_f(0)`` (so ``phi_f(0) = 0``) gives the exact fast form

.. math::  y = \mathrm{conv2d}\big(\Phi(x),\ K\big) + \beta,\qquad
           K_f[k] = c_{k,f},\ \beta = \sum_{k,f} c_{k,f}\,\psi_f(0)\;(+\,b)

where ``Phi(x)`` is (B*C, 1+NF, H, W) (feature 0 is ``u`` itself, weighted by
``a``) and ``K`` is (1, 1+NF, 3, 3). Because ``phi(0) = 0``, the conv's own
zero padding equals zero padding in input space: a padded tap contributes
exactly ``f_k(0)``, folded into ``beta``. The op reads O(NF) feature maps
instead of 9 unfolded copies of every basis.

Shapes: ``(B, C, H, W) -> (B, C, floor((H - 1) / s) + 1, floor((W - 1) / s) + 1)``.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor, nn

from .kan_bases import KAN_TYPES, TAPS, KANBasis, build_basis


@MODELS.register_module()
class KANConv2d(nn.Module):
    """Channel-shared depthwise 3x3 KAN conv; padding equals dilation.

    Args:
        kan_type: one of ``chebyshev, legendre, jacobi, hermite, rbf,
            b_spline, rswaf, rational``.
        degree: polynomial degree D (polynomial types), >= 1.
        grid_size: G for rbf, rswaf and b_spline, >= 2.
        spline_order: B-spline order K (b_spline), >= 1.
        stride: spatial stride s.
        dilation: dilation of the 3x3 taps (and the zero padding).
        alpha, beta: Jacobi parameters.
        num_degree, den_degree: degrees m, n of the rational type.

    Parameters (public names, the checkpoint format): ``base_weight`` (1, 9)
    for every type, Kaiming-normal (std sqrt(2/9)), plus the basis' own (see
    :mod:`.kan_bases`).
    """

    def __init__(self, kan_type: str = 'chebyshev', degree: int = 3,
                 grid_size: int = 3, spline_order: int = 3, stride: int = 1,
                 dilation: int = 1, alpha: float = 0.5, beta: float = 0.5,
                 num_degree: int = 5, den_degree: int = 4) -> None:
        super().__init__()
        if kan_type not in KAN_TYPES:
            raise ValueError(f'unknown kan_type {kan_type!r}; expected one of '
                             f'{", ".join(KAN_TYPES)}')
        for name, value in (('stride', stride), ('dilation', dilation)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'{name} must be an int >= 1, got {value!r}')
        self.kan_type = kan_type
        self.stride = stride
        self.dilation = dilation
        self.basis: KANBasis = build_basis(
            kan_type, degree=degree, grid_size=grid_size,
            spline_order=spline_order, alpha=alpha, beta=beta,
            num_degree=num_degree, den_degree=den_degree)
        self.base_weight = nn.Parameter(
            nn.init.kaiming_normal_(torch.empty(1, TAPS), nonlinearity='relu'))
        self.basis.init_parameters(self)

    @property
    def num_features(self) -> int:
        """Feature maps per channel: ``u`` itself plus the basis' NF."""
        return 1 + self.basis.num_features

    def kernel_and_bias(self) -> Tuple[Tensor, Tensor]:
        """``K`` (1, 1+NF, 3, 3) and ``beta`` (1,) of the fast form."""
        coef = torch.cat([self.base_weight, self.basis.coefficients(self)], 0)
        bias = self.basis.tap_constants(self).sum() + self.basis.output_bias(self)
        return coef.reshape(1, -1, 3, 3), bias.reshape(1)

    def tap_functions(self, u: Tensor) -> Tensor:
        """The literal per-tap functions ``f_k(u)`` (without rbf's ``b``).

        ``u`` (N,) -> (N, 9); for docs and plots, not used by forward.
        """
        feats = torch.stack([u] + self.basis.features(self, u), -1)
        coef = torch.cat([self.base_weight, self.basis.coefficients(self)], 0)
        return feats @ coef + self.basis.tap_constants(self)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, C, H, W) -> (B, C, H', W')``."""
        b, c, h, w = x.shape
        channels_last = x.dim() == 4 and x.is_contiguous(
            memory_format=torch.channels_last) and not x.is_contiguous()
        feats = torch.stack([x] + self.basis.features(self, x), 2)
        kernel, bias = self.kernel_and_bias()
        y = F.conv2d(feats.reshape(b * c, self.num_features, h, w),
                     kernel.to(feats.dtype), bias.to(feats.dtype),
                     stride=self.stride, padding=self.dilation,
                     dilation=self.dilation)
        y = y.reshape(b, c, y.shape[-2], y.shape[-1])
        return y.contiguous(memory_format=torch.channels_last) if channels_last else y

    def extra_repr(self) -> str:
        return (f'kan_type={self.kan_type}, features={self.num_features}, '
                f'stride={self.stride}, dilation={self.dilation}')

    def flops(self, x_shape: Tuple[int, ...]) -> int:
        """Hand count (multiply-adds, mmengine's convention) for input ``x_shape``.

        ``B*C*H'*W'*9*(1+NF)`` for the conv plus ``B*C*H*W*NF`` for the
        feature expansion (one op per feature and input value).
        """
        b, c, h, w = x_shape
        ho = (h - 1) // self.stride + 1
        wo = (w - 1) // self.stride + 1
        return b * c * ho * wo * TAPS * self.num_features + \
            b * c * h * w * self.basis.num_features
