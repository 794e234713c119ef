"""Memory formats, dtypes, autocast, large inputs and the FLOPs handle."""
import pytest
import torch
from mmengine.analysis import get_model_complexity_info
from torch import nn

from rkan_mmdet.models import KAN_TYPES, KANConv2d
from .reference import reference_kan_conv


def test_channels_last_gives_same_values_and_keeps_format() -> None:
    torch.manual_seed(0)
    conv = KANConv2d(stride=2)
    x = torch.randn(2, 4, 9, 8)
    y = conv(x)
    y_cl = conv(x.contiguous(memory_format=torch.channels_last))
    assert y_cl.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y_cl, y, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('kan_type', KAN_TYPES)
def test_float64_matches_reference_tightly(kan_type: str) -> None:
    torch.manual_seed(0)
    conv = KANConv2d(kan_type, dilation=2).double()
    x = torch.randn(1, 2, 6, 7, dtype=torch.float64)
    torch.testing.assert_close(conv(x), reference_kan_conv(conv, x), rtol=1e-12, atol=1e-12)


def test_bfloat16_autocast_is_close_to_float32() -> None:
    torch.manual_seed(0)
    conv = KANConv2d()
    x = torch.randn(2, 8, 10, 10, requires_grad=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y = conv(x)
    assert y.dtype == torch.bfloat16
    y.float().sum().backward()
    assert torch.isfinite(x.grad).all()
    ref = conv(x.detach())
    assert (y.float() - ref).abs().max() < 0.05 * ref.abs().max()


@pytest.mark.parametrize('kan_type', KAN_TYPES)
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_output_finite_for_huge_inputs(kan_type: str, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    conv = KANConv2d(kan_type).to(dtype)
    x = (torch.rand(1, 2, 6, 6) * 2e4 - 1e4).to(dtype)
    assert torch.isfinite(conv(x)).all()


class OneConv(nn.Module):
    def __init__(self, **kwargs) -> None:
        super().__init__()
        self.kan = KANConv2d(**kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.kan(x)


@pytest.mark.parametrize('kwargs,features', [
    (dict(kan_type='chebyshev', degree=3, stride=1), 4),
    (dict(kan_type='chebyshev', degree=2, stride=2), 3),
    (dict(kan_type='b_spline', grid_size=3, spline_order=3), 7),
    (dict(kan_type='rational'), 2),
])
def test_flops_match_hand_count(kwargs: dict, features: int) -> None:
    model = OneConv(**kwargs)
    b, c, h, w = 2, 16, 20, 20
    s = kwargs.get('stride', 1)
    ho, wo = (h - 1) // s + 1, (w - 1) // s + 1
    # 9 taps x features multiply-adds per output, + one op per feature per input
    hand = b * c * ho * wo * 9 * features + b * c * h * w * (features - 1)
    info = get_model_complexity_info(model, inputs=(torch.randn(b, c, h, w),),
                                     show_table=False, show_arch=False)
    assert info['flops'] == hand
    assert model.kan.flops((b, c, h, w)) == hand
