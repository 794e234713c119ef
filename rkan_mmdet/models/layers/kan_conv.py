r"""KANConv2d: RKAN's channel-shared depthwise 3x3 KAN convolution, without unfold.

For input ``x`` (B, C, H, W), every channel and output position sums the 9
per-tap functions of its zero-padded 3x3 window ``u_0..u_8`` (docs/spec.md §2):

.. math::  y = \sum_{k=0}^{8} f_k(u_k),\qquad
           f_k(u) = a_k u + \sum_f c_{k,f}\,\psi_f(u)\;(+\,b)

One set of ``f_k`` is shared by all channels. The module holds the
parameters (``base_weight`` ``a`` and the basis' own, :mod:`.kan_bases`) and
picks the execution of the exact fast form ``conv2d(Phi(x), K) + beta``
(derived in :mod:`.kan_conv_op`): on CPU, polynomial bases run the fused C++
kernel of :mod:`.kan_conv_fused` when it is built; everywhere else the
portable :class:`~.kan_conv_op.ChunkedKANConv`. ONNX export and
torch.compile trace the plain :func:`~.kan_conv_op.kan_conv2d`.

Shapes: ``(B, C, H, W) -> (B, C, floor((H - 1) / s) + 1, floor((W - 1) / s) + 1)``.
"""
from typing import Tuple

import torch
from mmengine.registry import MODELS
from torch import Tensor, nn

from .kan_bases import TAPS, KANBasis, build_basis, check_min
from .kan_conv_fused import FusedPolyKANConv, fused_kan_conv_available
from .kan_conv_op import ChunkedKANConv, kan_conv2d


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

    Attributes:
        use_fused: run the fused C++ CPU kernel (:mod:`.kan_conv_fused`)
            where it applies (default True); otherwise, or where it does not
            apply, :class:`~.kan_conv_op.ChunkedKANConv`.
        chunk_elements: input values per chunk of
            :class:`~.kan_conv_op.ChunkedKANConv`
            (CPU default 2**17, about cache-sized; CUDA 2**25, which rarely
            splits).
    """

    def __init__(self, kan_type: str = 'chebyshev', degree: int = 3,
                 grid_size: int = 3, spline_order: int = 3, stride: int = 1,
                 dilation: int = 1, alpha: float = 0.5, beta: float = 0.5,
                 num_degree: int = 5, den_degree: int = 4) -> None:
        super().__init__()
        check_min('stride', stride, 1)
        check_min('dilation', dilation, 1)
        self.basis: KANBasis = build_basis(  # checks kan_type and the basis' arguments
            kan_type, degree=degree, grid_size=grid_size,
            spline_order=spline_order, alpha=alpha, beta=beta,
            num_degree=num_degree, den_degree=den_degree)
        self.kan_type = kan_type
        self.stride = stride
        self.dilation = dilation
        self.use_fused = True
        self.cpu_chunk_elements = 2**17
        self.cuda_chunk_elements = 2**25
        self.base_weight = nn.Parameter(
            nn.init.kaiming_normal_(torch.empty(1, TAPS), nonlinearity='relu'))
        self.basis.init_parameters(self)

    @property
    def num_features(self) -> int:
        """Feature maps per channel: ``u`` itself plus the basis' NF."""
        return 1 + self.basis.num_features

    @property
    def chunk_elements(self) -> int:
        return self.cuda_chunk_elements if self.base_weight.is_cuda else self.cpu_chunk_elements

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
        kernel, bias = self.kernel_and_bias()
        if torch.onnx.is_in_onnx_export() or torch.compiler.is_compiling():
            return kan_conv2d(self, x, kernel, bias)
        if self.use_fused and fused_kan_conv_available(self, x):
            y = FusedPolyKANConv.apply(x, kernel, bias, self.stride, self.dilation)
        else:
            y = ChunkedKANConv.apply(x, kernel, bias, self,
                                     *self.basis.feature_parameters(self))
        if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
            y = y.contiguous(memory_format=torch.channels_last)
        return y

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


def kan_conv_flop_jit(inputs: list, outputs: list) -> int:
    """mmengine FLOP handle of a traced :class:`ChunkedKANConv` or
    :class:`~.kan_conv_fused.FusedPolyKANConv` (see ``KANConv2d.flops``)."""
    from mmengine.analysis.jit_handles import get_shape
    b, c, h, w = get_shape(inputs[0])
    features = get_shape(inputs[1])[1]
    ho, wo = get_shape(outputs[0])[-2:]
    return b * c * ho * wo * TAPS * features + b * c * h * w * (features - 1)


def register_complexity_handles() -> None:
    """Teach ``mmengine.analysis`` (FLOPs and activations) the KAN conv op.

    mmengine has no public registry for handles of custom ops; its analyzers
    start from these module-level tables, so an entry there is what makes
    ``get_model_complexity_info`` count RKAN models right.
    """
    from mmengine.analysis import complexity_analysis
    from mmengine.analysis.jit_handles import generic_activation_jit
    for op in (ChunkedKANConv, FusedPolyKANConv):
        name = f'prim::PythonOp.{op.__name__}'
        complexity_analysis._DEFAULT_SUPPORTED_FLOP_OPS[name] = kan_conv_flop_jit
        complexity_analysis._DEFAULT_SUPPORTED_ACT_OPS[name] = generic_activation_jit()


register_complexity_handles()
