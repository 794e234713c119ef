"""Inputs a plugin cannot take: a ValueError whose message names the value."""
import pytest
import torch

from rkan_mmdet.models.plugins import CBAM, ECA, ELA, ShuffleAttention, SimAM


@pytest.mark.parametrize('build,message', [
    (lambda: ShuffleAttention(64),
     'in_channels=64 is not divisible by 128 = 2 * groups (groups=64)'),
    (lambda: ShuffleAttention(24, groups=5), 'in_channels=24 is not divisible by 10'),
    (lambda: ShuffleAttention(24, groups=0), 'groups must be a positive int, got 0'),
    (lambda: ELA(60), 'in_channels=60 is not divisible by 8 (the default groups'),
    (lambda: ELA(24), 'in_channels=24 is not divisible by 16 = norm_groups'),
    (lambda: ELA(32, groups=5), 'in_channels=32 is not divisible by 5 = groups'),
    (lambda: ELA(32, kernel_size=6),
     'kernel_size must be a positive odd int (same padding), got 6'),
    (lambda: ELA(32, norm_groups=0), 'norm_groups must be a positive int, got 0'),
    (lambda: CBAM(8), 'in_channels=8 // ratio=16 leaves no hidden channel'),
    (lambda: CBAM(64, kernel_size=4), 'got 4'),
    (lambda: CBAM(64, ratio=-2), 'ratio must be a positive int, got -2'),
    (lambda: ECA(0), 'in_channels must be a positive int, got 0'),
    (lambda: ECA(64, kernel_size=2), 'got 2'),
    (lambda: ECA(64.0), 'in_channels must be a positive int, got 64.0'),
    (lambda: ECA(True), 'got True'),
    (lambda: SimAM(16, e_lambda=0), 'e_lambda must be a number > 0, got 0'),
    (lambda: SimAM(16, e_lambda=float('nan')), 'got nan'),
    (lambda: SimAM(-3), 'in_channels must be a positive int, got -3'),
], ids=lambda v: v if isinstance(v, str) else '')
def test_bad_arguments(build, message: str) -> None:
    with pytest.raises(ValueError) as info:
        build()
    assert message in str(info.value)
    assert str(info.value).split(':')[0] in ('ECA', 'CBAM', 'ShuffleAttention', 'SimAM', 'ELA')


def test_simam_single_pixel() -> None:
    """n = H W - 1 = 0 would divide by zero: refused with the input's size."""
    with pytest.raises(ValueError, match=r'SimAM: input of 1x1 pixels; needs H\*W >= 2'):
        SimAM()(torch.randn(2, 4, 1, 1))


def test_shuffle_attention_wrong_input_channels() -> None:
    with pytest.raises(ValueError, match='ShuffleAttention: input has 128 channels, built for '
                                         'in_channels=256'):
        ShuffleAttention(256)(torch.randn(1, 128, 3, 3))
