"""The plugins on every RKAN ResNet-family class that takes mmdet's ``plugins``:
RKANResNetV1d, RKANRes2Net, RKANResNeSt, RKANRegNet (RKANResNet and
RKANResNeXt: test_param_counts.py). ELA sits after conv3 of every block,
RKAN adds exactly its block (docs/families.md §5), and a zero-initialised RKAN
block leaves the ELA backbone's function exactly unchanged."""

import pytest
import torch
from mmdet.models.backbones import RegNet, Res2Net, ResNeSt, ResNetV1d

from rkan_mmdet.analysis.param_count import all_params
from rkan_mmdet.models import RKANRegNet, RKANRes2Net, RKANResNeSt, RKANResNetV1d

ELA = [dict(cfg=dict(type='ELA'), position='after_conv3')]
# docs/families.md §5: 1,578,083 for every ResNet-50-width last stage; RegNetX-3.2GF's
# 432 -> 216 -> 1008 block: 1x1 convs 432*216 + 216*1008, BNs 2*216 + 2*1008, KAN 54 + 45
REGNET_RKAN = 432 * 216 + 216 * 1008 + 2 * 216 + 2 * 1008 + 54 + 45
FAMILIES = {
    'ResNetV1d-50': (ResNetV1d, RKANResNetV1d, dict(depth=50), 1_578_083),
    'Res2Net-50': (Res2Net, RKANRes2Net, dict(depth=50), 1_578_083),
    'ResNeSt-50': (ResNeSt, RKANResNeSt, dict(depth=50), 1_578_083),
    'RegNetX-3.2GF': (RegNet, RKANRegNet, dict(arch='regnetx_3.2gf'), REGNET_RKAN),
}


def randomised(model: torch.nn.Module) -> torch.nn.Module:
    torch.manual_seed(0)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + 0.5 if 'running_var' in name
                             else torch.randn_like(tensor) * 0.1)
    model.eval()  # not chained: mmdet's ResNet.train() returns None
    return model


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_ela_on_family(family: str) -> None:
    plain_cls, rkan_cls, kwargs, rkan_added = FAMILIES[family]
    kwargs = dict(kwargs, out_indices=(2, 3))
    plain = randomised(plain_cls(plugins=ELA, **kwargs))
    rkan = rkan_cls(plugins=ELA, **kwargs)
    blocks = [b for name in plain.res_layers for b in getattr(plain, name)]
    assert all(b.after_conv3_plugin_names == ['ela'] for b in blocks)
    widths = [b.conv3.out_channels for b in blocks]
    # ELA: Conv1d C*8*7 + GroupNorm 2C per block (docs/families.md §4)
    assert sum(all_params(b.ela) for b in blocks) == sum(58 * c for c in widths)
    assert all_params(rkan) - all_params(plain) == rkan_added

    result = rkan.load_state_dict(plain.state_dict(), strict=False)
    assert result.unexpected_keys == [] and result.missing_keys
    assert all(k.startswith('rkan_layers.') for k in result.missing_keys)
    rkan.eval()
    x = torch.randn(1, 3, 65, 47)
    with torch.no_grad():
        for ours, ref in zip(rkan(x), plain(x)):
            assert torch.equal(ours, ref)
