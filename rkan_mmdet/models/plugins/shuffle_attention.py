r"""SA: shuffle attention (Zhang and Yang, ICASSP 2021).

docs/families.md §4. For ``x`` (B, C, H, W) and G groups, with c = C / (2G):

.. code-block:: text

    x       -> (B G, C/G, H, W), split into halves x0, x1 of c channels each
    x0'     = x0 * sigmoid(cw * mean_HW(x0) + cb)        channel half
    x1'     = x1 * sigmoid(sw * GN(x1) + sb)             spatial half
              GN: GroupNorm with c groups (one per channel), affine
    out     = channel_shuffle([x0'; x1'] -> (B, C, H, W), 2 groups)
              out[:, 2j + g] = in[:, g C/2 + j]

``cw, cb, sw, sb`` are (1, c, 1, 1), initialised to 0, 1, 0, 1 (so SA
starts as ``x * sigmoid(1)`` before the shuffle). Paper default: G = 64, so
C must be divisible by 128 (not ResNet-18/34's 64-channel stage).
Parameters: 6c = 3 C / G.
"""
import torch
from mmengine.registry import MODELS
from torch import Tensor, nn

from ._checks import check_channels, check_positive_int


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """(B, C, H, W) -> (B, C, H, W), channel ``g C/groups + j`` moved to ``j groups + g``."""
    b, c, h, w = x.shape
    return x.reshape(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


@MODELS.register_module()
class ShuffleAttention(nn.Module):
    """Shuffle attention as an mmdet plugin (see the module docstring).

    Args:
        in_channels: C, passed by mmdet's plugin builder; divisible by 2G.
        groups: G.
    """

    _abbr_ = 'shuffle_attention'

    def __init__(self, in_channels: int, groups: int = 64) -> None:
        super().__init__()
        check_positive_int('ShuffleAttention', 'groups', groups)
        check_channels('ShuffleAttention', in_channels, 2 * groups,
                       f' = 2 * groups (groups={groups})')
        self.groups, self.in_channels = groups, in_channels
        half = in_channels // (2 * groups)
        self.channel_weight = nn.Parameter(torch.zeros(1, half, 1, 1))
        self.channel_bias = nn.Parameter(torch.ones(1, half, 1, 1))
        self.spatial_weight = nn.Parameter(torch.zeros(1, half, 1, 1))
        self.spatial_bias = nn.Parameter(torch.ones(1, half, 1, 1))
        self.norm = nn.GroupNorm(half, half)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        b, c, h, w = x.shape
        if c != self.in_channels:  # else broadcasting against the gates fails obscurely
            raise ValueError(f'ShuffleAttention: input has {c} channels, built for '
                             f'in_channels={self.in_channels}')
        x = x.reshape(b * self.groups, c // self.groups, h, w)
        x0, x1 = x.chunk(2, dim=1)
        x0 = x0 * torch.sigmoid(self.channel_weight * x0.mean((2, 3), keepdim=True)
                                + self.channel_bias)
        x1 = x1 * torch.sigmoid(self.spatial_weight * self.norm(x1) + self.spatial_bias)
        return channel_shuffle(torch.cat([x0, x1], dim=1).reshape(b, c, h, w), 2)

    def extra_repr(self) -> str:
        return f'in_channels={self.in_channels}, groups={self.groups}'
