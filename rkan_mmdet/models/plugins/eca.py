r"""ECA: efficient channel attention (Wang et al., ECA-Net, CVPR 2020).

docs/families.md §4. For ``x`` (B, C, H, W):

.. code-block:: text

    a   = mean_HW(x)                       (B, C), read as a length-C sequence
    w   = sigmoid(conv1d_k(a))             1 -> 1 channel, kernel k, padding (k-1)/2, no bias
    out = x * w[:, :, None, None]          (B, C, H, W)

    k = t if t is odd else t + 1,  t = int(|(log2(C) + 1) / 2|)
      = 5 for C = 256, 512, 1024 and 7 for C = 2048

Parameters: k.
"""
import math
from typing import Optional

import torch
from mmengine.registry import MODELS
from torch import Tensor, nn

from ._checks import check_channels, check_odd_kernel


def eca_kernel_size(channels: int) -> int:
    """ECA's adaptive kernel size for ``channels`` (gamma 2, b 1)."""
    t = int(abs((math.log2(channels) + 1) / 2))
    return t if t % 2 else t + 1


@MODELS.register_module()
class ECA(nn.Module):
    """ECA attention as an mmdet plugin (see the module docstring).

    Args:
        in_channels: C, passed by mmdet's plugin builder.
        kernel_size: k; None (default) derives it from C as the paper does.
    """

    _abbr_ = 'eca'

    def __init__(self, in_channels: int, kernel_size: Optional[int] = None) -> None:
        super().__init__()
        check_channels('ECA', in_channels)
        k = eca_kernel_size(in_channels) if kernel_size is None else kernel_size
        check_odd_kernel('ECA', k)
        self.conv = nn.Conv1d(1, 1, k, padding=(k - 1) // 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        a = x.mean((2, 3)).unsqueeze(1)                     # (B, 1, C)
        w = torch.sigmoid(self.conv(a)).squeeze(1)          # (B, C)
        return x * w[:, :, None, None]
