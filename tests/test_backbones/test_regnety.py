"""RegNetY (rkan_mmdet.models.backbones.regnet) against torchvision's regnet_y_* trunks."""
from pathlib import Path

import pytest
import torch
import torchvision
from mmengine.config import Config
from mmengine.registry import MODELS

import rkan_mmdet  # noqa: F401  (registers the backbones)
from rkan_mmdet.models import RegNetY, RKANRegNet
from rkan_mmdet.models.backbones import torchvision_regnet_keys
from rkan_mmdet.models.backbones.regnet import REGNETY_ARCHS

from .paper_reference import skip_random_init

ROOT = Path(__file__).resolve().parents[2]


def torchvision_regnet(arch: str) -> torch.nn.Module:
    """``regnety_3.2gf`` -> ``torchvision.models.regnet_y_3_2gf(weights=None)``."""
    return getattr(torchvision.models, 'regnet_y_' + arch.split('_')[1].replace('.', '_'))(
        weights=None)


# torchvision's trunk parameters (no fc), for the record: the test compares with torchvision itself
TRUNKS = {'regnety_400mf': 3_903_144, 'regnety_800mf': 5_647_512, 'regnety_1.6gf': 10_313_430,
          'regnety_3.2gf': 17_923_338, 'regnety_8gf': 37_364_472, 'regnety_16gf': 80_565_140,
          'regnety_32gf': 141_333_770}


@pytest.mark.parametrize('arch', sorted(REGNETY_ARCHS))
def test_counts_and_keys_equal_torchvision(arch: str) -> None:
    with skip_random_init():
        reference = torchvision_regnet(arch)
    with torch.device('meta'):
        ours = RegNetY(arch=arch)
    trunk = {k: v for k, v in reference.state_dict().items() if not k.startswith('fc.')}
    assert sum(v.numel() for k, v in reference.named_parameters() if not k.startswith('fc.')) \
        == sum(p.numel() for p in ours.parameters()) == TRUNKS[arch]
    converted = torchvision_regnet_keys(trunk)
    assert len(converted) == len(trunk)
    assert {k: v.shape for k, v in converted.items()} == \
        {k: v.shape for k, v in ours.state_dict().items()}
    assert ours.stage_widths[-1] == reference.fc.in_features


def test_squeeze_width_is_a_quarter_of_the_block_input() -> None:
    model = RegNetY(arch='regnety_3.2gf')  # stem 32; widths 72, 216, 576, 1512
    assert model.stage_widths == [72, 216, 576, 1512]
    inputs = [32, 72, 216, 576]
    for stage, (w_in, width) in enumerate(zip(inputs, model.stage_widths)):
        layer = getattr(model, f'layer{stage + 1}')
        squeezes = [block.se.conv1.conv.out_channels for block in layer]
        assert squeezes == [round(w_in / 4)] + [round(width / 4)] * (len(layer) - 1)
        assert all(block.se.conv1.conv.bias is not None for block in layer)
    assert not hasattr(RegNetY(arch='regnetx_400mf').layer1[0], 'se')  # X archs: no SE


def test_same_function_as_torchvision() -> None:
    torch.manual_seed(0)
    reference = torchvision_regnet('regnety_400mf').eval()
    ours = RegNetY(arch='regnety_400mf', out_indices=(0, 1, 2, 3))
    ours.eval()  # mmdet's train() returns None
    for module in reference.modules():  # non-trivial statistics
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    ours.load_state_dict(torchvision_regnet_keys(reference.state_dict()))
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        expected = reference.stem(x)
        for stage, out in zip(reference.trunk_output, ours(x), strict=True):
            expected = stage(expected)
            assert torch.allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_mask_rcnn_config_loads_converted_plain_weights(tmp_path: Path) -> None:
    """The COCO config's backbone (at 400MF size): converted torchvision weights
    load through its init_cfg with only the RKAN block missing."""
    cfg = Config.fromfile(str(ROOT / 'configs' / 'mask_rcnn_rkan_regnety_3.2gf_1x_coco.py'))
    torch.manual_seed(0)
    weights = torchvision_regnet_keys(torchvision_regnet('regnety_400mf').state_dict())
    path = tmp_path / 'regnety_400mf.pth'
    torch.save(weights, path)
    backbone_cfg = dict(cfg.model.backbone, arch='regnety_400mf',
                        init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model = MODELS.build(backbone_cfg)
    assert isinstance(model, RKANRegNet)
    result = model.load_state_dict(weights, strict=False)
    assert result.unexpected_keys == []
    assert {k.split('.')[0] for k in result.missing_keys} == {'rkan_layers'}
    fresh = MODELS.build(backbone_cfg)
    fresh.init_weights()
    state = fresh.state_dict()
    assert all(torch.equal(state[k], v) for k, v in weights.items())


def test_unknown_torchvision_key_is_named() -> None:
    with pytest.raises(KeyError, match='trunk_output.block1.block1-0.f.z.weight'):
        torchvision_regnet_keys({'trunk_output.block1.block1-0.f.z.weight': torch.zeros(1)})
