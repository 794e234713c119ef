r"""ELA: efficient local attention (Xu and Wan, 2024), the RKAN paper's ELA-L.

docs/families.md §4. For ``x`` (B, C, H, W):

.. code-block:: text

    xh  = mean_W(x)                        (B, C, H)
    xw  = mean_H(x)                        (B, C, W)
    f   = sigmoid . GN . conv1d            one conv and one GN shared by both:
          conv1d: C -> C, kernel k, padding (k-1)/2, groups C/8 (g), no bias
          GN:     GroupNorm(16, C), affine, statistics per sequence
    ah  = f(xh),  aw = f(xw)
    out = x * ah[..., None] * aw[..., None, :]          (B, C, H, W)

ELA-L defaults: k = 7, g = C / 8, 16 norm groups. Parameters:
C (C/g) k (conv) + 2C (GN) = 58 C with the defaults; a profiler that skips
GroupNorm (the RKAN paper's count, docs/families.md §5) sees only the 56 C.
"""
from typing import Optional

import torch
from mmengine.registry import MODELS
from torch import Tensor, nn

from ._checks import check_channels, check_odd_kernel, check_positive_int


@MODELS.register_module()
class ELA(nn.Module):
    """ELA attention as an mmdet plugin (see the module docstring).

    Args:
        in_channels: C, passed by mmdet's plugin builder.
        kernel_size: k of the shared Conv1d (odd).
        groups: g, the Conv1d's groups; None (default) means C // 8, which
            needs C divisible by 8.
        norm_groups: groups of the GroupNorm; must divide C.
    """

    _abbr_ = 'ela'

    def __init__(self, in_channels: int, kernel_size: int = 7,
                 groups: Optional[int] = None, norm_groups: int = 16) -> None:
        super().__init__()
        if groups is None:
            check_channels('ELA', in_channels, 8, ' (the default groups = in_channels // 8)')
            groups = in_channels // 8
        check_positive_int('ELA', 'groups', groups)
        check_channels('ELA', in_channels, groups, ' = groups of the Conv1d')
        check_positive_int('ELA', 'norm_groups', norm_groups)
        check_channels('ELA', in_channels, norm_groups, ' = norm_groups of the GroupNorm')
        check_odd_kernel('ELA', kernel_size)
        self.conv = nn.Conv1d(in_channels, in_channels, kernel_size,
                              padding=(kernel_size - 1) // 2, groups=groups, bias=False)
        self.norm = nn.GroupNorm(norm_groups, in_channels)

    def attend(self, seq: Tensor) -> Tensor:
        """(B, C, L) -> (B, C, L) attention weights in (0, 1)."""
        return torch.sigmoid(self.norm(self.conv(seq)))

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        ah = self.attend(x.mean(3))                          # (B, C, H)
        aw = self.attend(x.mean(2))                          # (B, C, W)
        return x * ah[..., None] * aw[..., None, :]
