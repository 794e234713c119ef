"""The plugins are in MMEngine's root MODELS and mmdet's plugin builder finds
and names them from any default scope; state-dict keys read ``layerI.J.<abbr>.*``."""
import pytest
from mmcv.cnn import build_plugin_layer
from mmdet.models.backbones import ResNet
from mmengine.registry import MODELS, DefaultScope

from rkan_mmdet.models import plugins

NAMES = {'ECA': 'eca', 'CBAM': 'cbam', 'ShuffleAttention': 'shuffle_attention',
         'SimAM': 'simam', 'ELA': 'ela'}


def test_registered_in_root_models() -> None:
    for type_name in NAMES:
        assert MODELS.get(type_name) is getattr(plugins, type_name)
        assert MODELS.module_dict[type_name].__module__.startswith('rkan_mmdet.models.plugins.')


@pytest.mark.parametrize('scope', [None, 'mmdet', 'mmpretrain'])
@pytest.mark.parametrize('type_name', sorted(NAMES))
def test_plugin_builder_names_and_builds(scope, type_name: str) -> None:
    with DefaultScope.overwrite_default_scope(scope):
        name, layer = build_plugin_layer(dict(type=type_name), in_channels=256, postfix='')
    assert name == NAMES[type_name]
    assert type(layer) is getattr(plugins, type_name)


def test_state_dict_keys_in_resnet() -> None:
    model = ResNet(depth=50, plugins=[dict(cfg=dict(type='ELA'), position='after_conv3')])
    keys = set(model.state_dict())
    assert {'layer1.0.ela.conv.weight', 'layer1.0.ela.norm.weight', 'layer1.0.ela.norm.bias',
            'layer4.2.ela.conv.weight'} <= keys
    assert model.layer3[5].after_conv3_plugin_names == ['ela']
    sa = ResNet(depth=50, plugins=[dict(cfg=dict(type='ShuffleAttention'),
                                        position='after_conv3')])
    assert {f'layer2.1.shuffle_attention.{n}' for n in (
        'channel_weight', 'channel_bias', 'spatial_weight', 'spatial_bias', 'norm.weight',
        'norm.bias')} <= set(sa.state_dict())


def test_hyper_parameters_pass_through_the_config() -> None:
    model = ResNet(depth=50, plugins=[dict(cfg=dict(type='CBAM', ratio=8, kernel_size=3),
                                           stages=(False, False, True, False),
                                           position='after_conv3')])
    assert not hasattr(model.layer2[0], 'cbam') and not hasattr(model.layer4[0], 'cbam')
    cbam = model.layer3[0].cbam
    assert cbam.channel_mlp[0].weight.shape == (128, 1024, 1, 1)
    assert cbam.spatial_conv.weight.shape == (1, 2, 3, 3)
