r"""SimAM: a parameter-free attention module (Yang et al., ICML 2021).

docs/families.md §4. For ``x`` (B, C, H, W), per sample and channel:

.. code-block:: text

    n   = H W - 1
    d   = (x - mean_HW(x))^2
    e   = d / (4 (sum_HW(d) / n + lambda)) + 1/2
    out = x * sigmoid(e)                   (B, C, H, W)

Paper default: lambda = 1e-4. No parameters. Needs H W >= 2 (n > 0).
"""
from typing import Optional

import torch
from mmengine.registry import MODELS
from torch import Tensor, nn

from ._checks import check_channels


@MODELS.register_module()
class SimAM(nn.Module):
    """SimAM attention as an mmdet plugin (see the module docstring).

    Args:
        in_channels: C, passed by mmdet's plugin builder; SimAM does not need
            it (it is checked when given).
        e_lambda: lambda > 0, the energy's regulariser.
    """

    _abbr_ = 'simam'

    def __init__(self, in_channels: Optional[int] = None, e_lambda: float = 1e-4) -> None:
        super().__init__()
        if in_channels is not None:
            check_channels('SimAM', in_channels)
        if isinstance(e_lambda, bool) or not isinstance(e_lambda, (int, float)) \
                or not e_lambda > 0:
            raise ValueError(f'SimAM: e_lambda must be a number > 0, got {e_lambda!r}')
        self.e_lambda = float(e_lambda)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        h, w = x.shape[-2:]
        n = h * w - 1
        if n < 1:
            raise ValueError(f'SimAM: input of {h}x{w} pixels; needs H*W >= 2 '
                             '(n = H*W - 1 divides the variance)')
        d = (x - x.mean((2, 3), keepdim=True)).pow(2)
        e = d / (4 * (d.sum((2, 3), keepdim=True) / n + self.e_lambda)) + 0.5
        return x * torch.sigmoid(e)

    def extra_repr(self) -> str:
        return f'e_lambda={self.e_lambda}'
