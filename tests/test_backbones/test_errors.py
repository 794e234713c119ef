"""Every bad RKAN argument raises a ValueError that names the value."""
import pytest

from rkan_mmdet.models import RKANResNet


@pytest.mark.parametrize('kwargs,message', [
    (dict(rkan_mechanisms=(None, 'addition')),
     r"rkan_mechanisms must have one entry per stage \(4\), got 2"),
    (dict(reduce_factor=(2, 2, 2)), r'reduce_factor must have one entry per stage \(4\), got 3'),
    (dict(rkan_mechanisms=(None, None, None, 'concat')), "unknown RKAN mechanism 'concat'"),
    (dict(reduce_factor=3), 'reduce_factor 3 does not divide the 256 input channels of stage 4'),
    (dict(num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1), out_indices=(0, 1, 2)),
     'rkan_mechanisms enables stage 4 but num_stages is 3'),
    (dict(kan_type='wavelet'), "unknown kan_type 'wavelet'"),
    (dict(kan_orders=(3,)), r'kan_orders must have one entry per KAN conv \(2\), got 1'),
])
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RKANResNet(depth=18, **kwargs)


def test_rkan_l_on_two_stages_warns() -> None:
    with pytest.warns(UserWarning, match='RKAN-L .* on 2 stages'):
        RKANResNet(depth=18, inv_factor=2, rkan_mechanisms=(None, None, 'addition', 'addition'))
