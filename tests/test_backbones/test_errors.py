"""Every bad RKAN argument raises a one-line ValueError that names the argument and the value."""
import pytest

from rkan_mmdet.models import RKANResNet


@pytest.mark.parametrize('kwargs,message', [
    (dict(rkan_mechanisms=(None, 'addition')),
     r"rkan_mechanisms has 2 entries but ResNet has 4 stages \(layer1, layer2, layer3, layer4\); "
     r"give 4, or a dict such as \{-1: 'addition'\} for the last stage"),
    (dict(rkan_mechanisms='addition'),
     r"rkan_mechanisms must be a list with one entry per stage or a dict "
     r"\{stage index: mechanism\}, got 'addition' \(str\)"),
    (dict(rkan_mechanisms={'last': 'addition'}),
     r"rkan_mechanisms keys must be stage indices \(int, negative from the end\), got 'last'"),
    (dict(rkan_mechanisms={-5: 'addition'}),
     r'rkan_mechanisms index -5 is outside the 4 stages of ResNet \(layer1, .*, layer4\)'),
    (dict(rkan_mechanisms={0: 'concat'}), "unknown RKAN mechanism 'concat'"),
    (dict(reduce_factor=(2, 2, 2)), r'reduce_factor has 3 entries but ResNet has 4 stages'),
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
    (dict(num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1), out_indices=(0, 1, 2),
          rkan_mechanisms=(None, None, None, 'addition')),
     r'rkan_mechanisms has 4 entries but ResNet has 3 stages \(layer1, layer2, layer3\)'),
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


@pytest.mark.parametrize('mechanisms', [None, {-1: 'addition'}, {2: 'addition'},
                                        (None, None, 'addition')])
def test_the_last_stage_needs_no_stage_count(mechanisms) -> None:
    model = RKANResNet(depth=18, num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1),
                       out_indices=(0, 1, 2), rkan_mechanisms=mechanisms)
    assert list(model.rkan_layers) == ['layer3']
    assert model.rkan_layers['layer3'].kan_conv_last is not None  # the backbone's last stage


def test_rkan_l_on_two_stages_warns() -> None:
    with pytest.warns(UserWarning, match='RKAN-L .* on 2 stages'):
        RKANResNet(depth=18, inv_factor=2, rkan_mechanisms=(None, None, 'addition', 'addition'))


def test_the_last_two_stages_by_negative_index() -> None:
    model = RKANResNet(depth=18, rkan_mechanisms={-2: 'gating', -1: 'addition'})
    assert {k: type(b.mechanism).__name__ for k, b in model.rkan_layers.items()} == {
        'layer3': 'Gating', 'layer4': 'Addition'}
