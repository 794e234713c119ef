r"""The RKAN block: a KAN residual path from a stage's input to its output.

docs/spec.md §1. For stage input ``x`` (B, C_in, H, W) and stage output ``y``
(B, C_out, H', W'):

.. code-block:: text

    r = SiLU(reduce(x))                  1x1, C_in -> M
    r = mid_norm(kan_conv(r))            KAN 3x3, stride s, dilation d
    r = SiLU(expand(r))                  1x1, M -> C_out
    r = kan_conv_last(r)                 KAN 3x3, stride 1 (last stage only)
    r = out_norm(r)
    r = r + shortcut(x)                  optional: BN(1x1 conv, stride s)
    y' = mechanism(y, r)                 addition | gating | se (r cropped to y's size)

The block knows nothing of ResNet beyond its channels, stride, dilation and
whether it is the last stage.
"""
from typing import Optional, Sequence

import torch
from mmcv.cnn import build_norm_layer
from mmengine.registry import MODELS
from torch import Tensor, nn

from .kan_conv import KANConv2d

MECHANISMS = ('addition', 'gating', 'se')


def conv1x1(in_channels: int, out_channels: int, stride: int = 1,
            bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=bias)


class Addition(nn.Module):
    """``y + r``."""

    def forward(self, y: Tensor, r: Tensor) -> Tensor:
        return y + r


class Gating(nn.Module):
    """``g = sigmoid(conv1x1(r) + b)``; ``y g + r (1 - g)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gate = conv1x1(channels, channels, bias=True)

    def forward(self, y: Tensor, r: Tensor) -> Tensor:
        g = torch.sigmoid(self.gate(r))
        return y * g + r * (1 - g)


class SqueezeExcite(nn.Module):
    """``y + r * SE(r)``; SE = GAP, 1x1 (C -> C/16), ReLU, 1x1 (C/16 -> C), sigmoid.

    ``bias=True`` gives both 1x1 convs a bias, as the SE of the paper code's
    ResNeXt and Wide ResNet files has (docs/families.md §6); its other files,
    and the default here, have none.
    """

    def __init__(self, channels: int, ratio: int = 16, bias: bool = False) -> None:
        super().__init__()
        squeezed = max(channels // ratio, 1)
        self.squeeze = conv1x1(channels, squeezed, bias=bias)
        self.excite = conv1x1(squeezed, channels, bias=bias)

    def forward(self, y: Tensor, r: Tensor) -> Tensor:
        w = r.mean((2, 3), keepdim=True)
        w = torch.sigmoid(self.excite(torch.relu(self.squeeze(w))))
        return y + r * w


def build_mechanism(name: str, channels: int, se_bias: bool = False) -> nn.Module:
    """The mechanism ``name``; ``se_bias`` gives the SE convs biases."""
    if name == 'addition':
        return Addition()
    if name == 'gating':
        return Gating(channels)
    if name == 'se':
        return SqueezeExcite(channels, bias=se_bias)
    raise ValueError(f'unknown RKAN mechanism {name!r}; expected one of {", ".join(MECHANISMS)}')


@MODELS.register_module()
class RKANBlock(nn.Module):
    """RKAN residual path beside one backbone stage; see the module docstring.

    Args:
        in_channels: C_in, channels of the stage input.
        out_channels: C_out, channels of the stage output.
        mid_channels: M (``C_in // reduce_factor``, or ``C_in * inv_factor``
            for RKAN-L).
        stride, dilation: those of the stage, used by the first KAN conv.
        last_stage: adds the second KAN conv on C_out channels.
        kan_type: KAN basis of both KAN convs.
        kan_orders: degree (or B-spline order) of the first and second conv.
        kan_grids: grid sizes of the first and second conv (rbf, rswaf,
            b_spline).
        mechanism: ``addition``, ``gating`` or ``se``.
        se_bias: give the ``se`` mechanism's two 1x1 convs biases.
        shortcut: add ``BN(conv1x1(x))`` to the residual.
        norm_cfg: the backbone's norm (BN, SyncBN, GN, ...).
        zero_init: start ``out_norm``'s scale at 0, so that the block adds
            nothing until it has learned something (the zero_init_residual
            convention of ResNet's own blocks).

    ``forward(x, y)``: x (B, C_in, H, W), y (B, C_out, H', W') -> (B, C_out, H', W').
    """

    def __init__(self, in_channels: int, out_channels: int, mid_channels: int,
                 stride: int = 1, dilation: int = 1, last_stage: bool = False,
                 kan_type: str = 'chebyshev', kan_orders: Sequence[int] = (3, 2),
                 kan_grids: Sequence[int] = (3, 2), mechanism: str = 'addition',
                 se_bias: bool = False, shortcut: bool = False,
                 norm_cfg: Optional[dict] = None,
                 zero_init: bool = False) -> None:
        super().__init__()
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)

        def kan(index: int, kan_stride: int) -> KANConv2d:
            return KANConv2d(kan_type, degree=kan_orders[index],
                             grid_size=kan_grids[index],
                             spline_order=kan_orders[index],
                             stride=kan_stride, dilation=dilation)

        # The norms are registered before the convs: mmcv's fuse_conv_bn (mmdet's
        # --fuse-conv-bn) folds each BN child into the last Conv2d child registered
        # before it, which here would be reduce/expand across a KAN conv.
        self.mid_norm = build_norm_layer(norm_cfg, mid_channels)[1]
        self.out_norm = build_norm_layer(norm_cfg, out_channels)[1]
        self.reduce = conv1x1(in_channels, mid_channels)
        self.act = nn.SiLU(inplace=True)
        self.kan_conv = kan(0, stride)
        self.expand = conv1x1(mid_channels, out_channels)
        self.kan_conv_last = kan(1, 1) if last_stage else None
        self.shortcut = nn.Sequential(
            conv1x1(in_channels, out_channels, stride),
            build_norm_layer(norm_cfg, out_channels)[1]) if shortcut else None
        self.mechanism = build_mechanism(mechanism, out_channels, se_bias=se_bias)
        if zero_init:
            self.zero_init_residual()

    def zero_init_residual(self) -> None:
        """Zero the residual's last scale: the block then starts as a no-op."""
        nn.init.zeros_(self.out_norm.weight)

    def residual(self, x: Tensor) -> Tensor:
        """``r``: (B, C_in, H, W) -> (B, C_out, H', W')."""
        r = self.act(self.reduce(x))
        r = self.mid_norm(self.kan_conv(r))
        r = self.act(self.expand(r))
        if self.kan_conv_last is not None:
            r = self.kan_conv_last(r)
        r = self.out_norm(r)
        if self.shortcut is not None:
            r = r + self.shortcut(x)
        return r

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """``mechanism(y, r)``. A stage that downsamples with floor rounding
        (a 2x2 stride-2 pool or conv: DenseNet's transitions, ConvNeXt's
        downsampling) gives odd inputs one row/column less than the 3x3 KAN
        conv's ``(H - 1) // s + 1``; ``r`` is cropped to ``y``: both grids
        start at the top-left pixel, so the kept positions are aligned."""
        r = self.residual(x)[..., :y.shape[-2], :y.shape[-1]]  # a view; no branch to trace
        return self.mechanism(y, r)
