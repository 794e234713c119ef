"""RKAN-ELA-ResNet-50 with its RKAN block zero-initialised computes exactly
what ELA-ResNet-50 computes with the same weights."""
import torch
from mmdet.models.backbones import ResNet

from rkan_mmdet.models import RKANResNet

ELA = [dict(cfg=dict(type='ELA'), position='after_conv3')]


def test_zero_init_rkan_ela_resnet50_equals_ela_resnet50() -> None:
    torch.manual_seed(0)
    ela = ResNet(depth=50, plugins=ELA, out_indices=(0, 1, 2, 3))
    with torch.no_grad():  # random everything (BN stats too): no 0/1 init hides a slip
        for name, tensor in ela.state_dict().items():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + 0.5 if 'running_var' in name
                             else torch.randn_like(tensor) * 0.1)
    rkan = RKANResNet(depth=50, plugins=ELA, out_indices=(0, 1, 2, 3))
    result = rkan.load_state_dict(ela.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys and all(k.startswith('rkan_layers.layer4.')
                                       for k in result.missing_keys)
    assert torch.equal(rkan.rkan_layers.layer4.out_norm.weight, torch.zeros(2048))

    x = torch.randn(2, 3, 67, 45)
    ela.eval()
    rkan.eval()
    with torch.no_grad():
        expected, ours = ela(x), rkan(x)
        assert len(ours) == 4
        for a, b in zip(ours, expected):
            assert torch.equal(a, b)
        # the comparison is not empty: a live RKAN block changes stage 4 only
        torch.nn.init.ones_(rkan.rkan_layers.layer4.out_norm.weight)
        live = rkan(x)
    assert torch.equal(live[2], expected[2]) and not torch.allclose(live[3], expected[3])
