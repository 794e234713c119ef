r"""CBAM: convolutional block attention module (Woo et al., ECCV 2018).

docs/families.md §4: channel attention, then spatial attention. For ``x`` (B, C, H, W):

.. code-block:: text

    MLP(v) = W2 relu(W1 v)                 1x1 convs C -> C/r -> C, no biases, shared
    Mc  = sigmoid(MLP(mean_HW(x)) + MLP(max_HW(x)))           (B, C, 1, 1)
    x1  = x * Mc
    Ms  = sigmoid(conv_kxk([mean_C(x1); max_C(x1)]))          (B, 1, H, W)
          2 -> 1 channels, padding (k-1)/2, no bias
    out = x1 * Ms                          (B, C, H, W)

Paper defaults: r = 16, k = 7. Parameters: 2 C (C // r) + 2 k^2.
"""
import torch
from mmengine.registry import MODELS
from torch import Tensor, nn

from ._checks import check_channels, check_odd_kernel, check_positive_int


@MODELS.register_module()
class CBAM(nn.Module):
    """CBAM attention as an mmdet plugin (see the module docstring).

    Args:
        in_channels: C, passed by mmdet's plugin builder.
        ratio: r; the MLP's hidden width is ``C // r`` (at least 1 needed).
        kernel_size: k of the spatial conv (odd).
    """

    _abbr_ = 'cbam'

    def __init__(self, in_channels: int, ratio: int = 16, kernel_size: int = 7) -> None:
        super().__init__()
        check_channels('CBAM', in_channels)
        check_positive_int('CBAM', 'ratio', ratio)
        if in_channels // ratio < 1:
            raise ValueError(f'CBAM: in_channels={in_channels} // ratio={ratio} leaves no '
                             'hidden channel in the channel MLP')
        check_odd_kernel('CBAM', kernel_size)
        hidden = in_channels // ratio
        self.channel_mlp = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 1, bias=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, in_channels, 1, bias=False))
        self.spatial_conv = nn.Conv2d(2, 1, kernel_size, padding=(kernel_size - 1) // 2,
                                      bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        avg = self.channel_mlp(x.mean((2, 3), keepdim=True))
        peak = self.channel_mlp(x.amax((2, 3), keepdim=True))
        x = x * torch.sigmoid(avg + peak)
        pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial_conv(pooled))
