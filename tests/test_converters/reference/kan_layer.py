"""The paper code's KAN conv layer, as its checkpoints name it (docs/families.md §6).

``KAN_Convolutional_Layer(n_convs=1)`` holds one channel-shared 3x3 KAN
kernel at ``convs.0.conv``; its tensors are named by the KAN library the type
comes from (polynomial: ``base_linear``, ``polynomial_weight``, ``scaler``;
rbf: ``base_linear`` with bias, ``spline_linear``, ``rbf.grid``; b_spline:
``base_weight``, ``spline_weight``, ``spline_scaler``, ``grid``). The forward
is the literal unfold of tests/test_layers/reference.py fed with these tensors
under their documented meaning, not rkan_mmdet's op.
"""
from types import SimpleNamespace
from typing import Optional

import torch
from torch import Tensor, nn

from tests.test_layers.reference import POLYS, reference_kan_conv


class Kernel(nn.Module):
    """``convs.0.conv``: the tensors of one KAN kernel (random, as after training)."""

    def __init__(self, kind: str, order: Optional[int], grid: Optional[int],
                 g: torch.Generator) -> None:
        super().__init__()
        self.kind = kind
        if kind in POLYS:
            self.base_linear = nn.Linear(9, 1, bias=False)
            self.polynomial_weight = nn.Parameter(torch.randn(1, 9, order + 1, generator=g) * 0.3)
            self.scaler = nn.Parameter(torch.rand(1, 9, generator=g) + 0.5)
        elif kind == 'rbf':
            self.base_linear = nn.Linear(9, 1)
            self.spline_linear = nn.Linear(9 * grid, 1, bias=False)
            self.rbf = nn.Module()
            self.rbf.grid = nn.Parameter(torch.linspace(-1, 1, grid), requires_grad=False)
            with torch.no_grad():
                self.base_linear.bias.copy_(torch.randn(1, generator=g))
                self.spline_linear.weight.copy_(torch.randn(1, 9 * grid, generator=g) * 0.3)
        else:
            self.base_weight = nn.Parameter(torch.randn(1, 9, generator=g) * 0.5)
            self.spline_weight = nn.Parameter(torch.randn(1, 9, grid + order, generator=g) * 0.3)
            self.spline_scaler = nn.Parameter(torch.rand(1, 9, generator=g) + 0.5)
            knots = torch.arange(-order, grid + order + 1) * (2 / grid) - 1
            self.register_buffer('grid', knots.expand(9, -1).contiguous())
        if hasattr(self, 'base_linear'):
            with torch.no_grad():
                self.base_linear.weight.copy_(torch.randn(1, 9, generator=g) * 0.5)

    def forward(self, x: Tensor, stride: int) -> Tensor:
        conv = SimpleNamespace(kan_type=self.kind, stride=stride, dilation=1)
        hparams = {}
        if self.kind in POLYS:
            conv.base_weight, conv.poly_weight = self.base_linear.weight, self.polynomial_weight
            conv.scaler = self.scaler
        elif self.kind == 'rbf':
            size = self.rbf.grid.numel()
            conv.base_weight, conv.bias = self.base_linear.weight, self.base_linear.bias
            conv.rbf_weight = self.spline_linear.weight.reshape(1, 9, size)  # column k*G + g
        else:
            conv.base_weight, conv.spline_weight = self.base_weight, self.spline_weight
            conv.scaler = self.spline_scaler
            hparams['spline_order'] = self.grid.shape[1] - 1 - self.spline_weight.shape[2]
        return reference_kan_conv(conv, x, **hparams)


class KANConvLayer(nn.Module):
    """``KAN_Convolutional_Layer``: 3x3, padding 1, one kernel shared by all channels."""

    def __init__(self, kind: str, order: Optional[int], grid: Optional[int], stride: int,
                 g: torch.Generator) -> None:
        super().__init__()
        self.stride = stride
        self.convs = nn.ModuleList([nn.Module()])
        self.convs[0].conv = Kernel(kind, order, grid, g)

    def forward(self, x: Tensor) -> Tensor:
        return self.convs[0].conv(x, self.stride)
