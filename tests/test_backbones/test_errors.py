"""Every bad RKAN argument raises a one-line ValueError that names the argument and the value."""
import pytest

from rkan_mmdet.models import RKANResNet


@pytest.mark.parametrize('kwargs,message', [
    (dict(rkan_mechanisms=(None, 'addition')),
     r"rkan_mechanisms must have one entry per stage \(4\), got 2"),
    (dict(rkan_mechanisms='addition'),
     r"rkan_mechanisms must be a list with one entry per stage, got 'addition' \(str\)"),
    (dict(reduce_factor=(2, 2, 2)), r'reduce_factor must have one entry per stage \(4\), got 3'),
    (dict(rkan_mechanisms=(None, None, None, 'concat')), "unknown RKAN mechanism 'concat'"),
    (dict(reduce_factor=3), 'reduce_factor 3 does not divide the 256 input channels of stage 4'),
    (dict(reduce_factor=0), r'reduce_factor must be a positive int, got 0 \(int\)'),
    (dict(reduce_factor=-2), r'reduce_factor must be a positive int, got -2 \(int\)'),
    (dict(reduce_factor='2'), r"reduce_factor must be a positive int, got '2' \(str\)"),
    (dict(reduce_factor=2.0), r'reduce_factor must be a positive int, got 2.0 \(float\)'),
    (dict(reduce_factor=True), r'reduce_factor must be a positive int, got True \(bool\)'),
    (dict(reduce_factor=(2, 2, 0, 2)), r'reduce_factor must be a positive int, got 0 \(int\)'),
    (dict(inv_factor=0), r'inv_factor must be a positive int, got 0 \(int\)'),
    (dict(inv_factor=-1), r'inv_factor must be a positive int, got -1 \(int\)'),
    (dict(num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1), out_indices=(0, 1, 2)),
     'rkan_mechanisms enables stage 4 but the backbone has 3 stages'),
    (dict(kan_type='wavelet'), "unknown kan_type 'wavelet'"),
    (dict(kan_orders=(3,)), r'kan_orders must have one entry per KAN conv \(2\), got 1'),
    (dict(kan_orders=(3, 0)), r'kan_orders must be a positive int, got 0 \(int\)'),
    (dict(kan_grids=3), r'kan_grids must be a list with one entry per KAN conv, got 3 \(int\)'),
    (dict(rkan_shortcut='yes'), r"rkan_shortcut must be True or False, got 'yes' \(str\)"),
    (dict(rkan_norm_eval=1), r'rkan_norm_eval must be True or False, got 1 \(int\)'),
    (dict(rkan_zero_init='no'), r"rkan_zero_init must be None, True or False, got 'no'"),
    (dict(rkan_norm_cfg='BN'), r"rkan_norm_cfg must be a norm config dict with a type, got 'BN'"),
])
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        RKANResNet(depth=18, **kwargs)
    assert '\n' not in str(info.value)


def test_a_three_stage_backbone_takes_the_default_mechanisms_when_the_last_is_none() -> None:
    model = RKANResNet(depth=18, num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1),
                       out_indices=(0, 1, 2), rkan_mechanisms=(None, None, 'addition', None))
    assert list(model.rkan_layers) == ['layer3']
    assert model.rkan_layers['layer3'].kan_conv_last is not None  # the backbone's last stage


def test_rkan_l_on_two_stages_warns() -> None:
    with pytest.warns(UserWarning, match='RKAN-L .* on 2 stages'):
        RKANResNet(depth=18, inv_factor=2, rkan_mechanisms=(None, None, 'addition', 'addition'))
