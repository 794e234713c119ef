"""Plain ResNet / SE-ResNet weights load with exactly the RKAN keys missing."""
import torch
import torchvision
from mmdet.models.backbones import ResNet
from mmpretrain.models.backbones import SEResNet

from rkan_mmdet.models import RKANResNet, RKANSENet


def rkan_keys(model) -> set:
    """RKAN keys a load reports missing (BN fills in a missing num_batches_tracked)."""
    return {k for k in model.state_dict()
            if k.startswith('rkan_layers.') and not k.endswith('num_batches_tracked')}


def test_mmdet_resnet50_state_dict() -> None:
    model = RKANResNet(depth=50)
    result = model.load_state_dict(ResNet(depth=50).state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert set(result.missing_keys) == rkan_keys(model)
    assert len(rkan_keys(model)) == 16  # 2 convs, 2 KAN convs (3 each), 2 BNs (4 each)


def test_torchvision_resnet50_state_dict() -> None:
    state = {k: v for k, v in torchvision.models.resnet50().state_dict().items()
             if not k.startswith('fc.')}
    model = RKANResNet(depth=50)
    result = model.load_state_dict(state, strict=False)
    assert result.unexpected_keys == []
    assert set(result.missing_keys) == rkan_keys(model)
    torch.testing.assert_close(model.layer3[2].conv2.weight, state['layer3.2.conv2.weight'])


def test_mmpretrain_seresnet50_state_dict() -> None:
    model = RKANSENet(depth=50)
    result = model.load_state_dict(SEResNet(depth=50).state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert set(result.missing_keys) == rkan_keys(model)


def test_bias_free_se_option() -> None:
    keys = set(RKANSENet(depth=50, se_bias=False).state_dict())
    assert not any(k.startswith('layer') and 'se_layer' in k and k.endswith('bias') for k in keys)
    assert 'layer1.0.se_layer.conv1.conv.weight' in keys
    assert 'layer1.0.se_layer.conv1.conv.bias' in set(RKANSENet(depth=50).state_dict())


def test_pretrained_init_cfg_with_prefix(tmp_path) -> None:
    source = ResNet(depth=18)
    ckpt = tmp_path / 'detector.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in source.state_dict().items()}}, ckpt)
    model = RKANResNet(depth=18, init_cfg=dict(type='Pretrained', checkpoint=str(ckpt),
                                               prefix='backbone.'))
    rkan_before = {k: v.clone() for k, v in model.rkan_layers.state_dict().items()}
    model.init_weights()
    torch.testing.assert_close(model.layer2[1].conv1.weight, source.layer2[1].conv1.weight)
    torch.testing.assert_close(model.conv1.weight, source.conv1.weight)
    for k, v in model.rkan_layers.state_dict().items():  # RKAN untouched by the load
        torch.testing.assert_close(v, rkan_before[k])
