"""Each plugin inside a ResNet-50 exports to ONNX, and onnxruntime matches
PyTorch (1e-4, as tests/test_backbones/test_onnx.py). ResNet-50 rather than
18: mmdet's BasicBlock takes no plugins, and SA needs C divisible by 128."""
import pytest
import torch
from mmdet.models.backbones import ResNet

from rkan_mmdet.models import RKANResNet
from tests.onnx_utils import assert_onnx_matches

pytestmark = pytest.mark.slow  # ONNX export of ResNet-50s with every plugin


def randomise_plugins(model: torch.nn.Module, name: str) -> None:
    """Random plugin weights (SA starts with cw = sw = 0, hiding its maths)."""
    with torch.no_grad():
        for key, p in model.named_parameters():
            if f'.{name}.' in key:
                p.copy_(torch.randn_like(p) * 0.5)


@pytest.mark.parametrize('type_name,abbr', [('ECA', 'eca'), ('CBAM', 'cbam'),
                                            ('ShuffleAttention', 'shuffle_attention'),
                                            ('SimAM', 'simam'), ('ELA', 'ela')])
def test_resnet50_with_plugin_exports(tmp_path, type_name: str, abbr: str) -> None:
    torch.manual_seed(0)
    model = ResNet(depth=50, out_indices=(2, 3),
                   plugins=[dict(cfg=dict(type=type_name), position='after_conv3')])
    randomise_plugins(model, abbr)
    assert_onnx_matches(model, torch.randn(1, 3, 64, 96), tmp_path / f'{abbr}.onnx')


def test_rkan_ela_resnet50_exports(tmp_path) -> None:
    torch.manual_seed(0)
    model = RKANResNet(depth=50, out_indices=(2, 3), zero_init_residual=False,
                       plugins=[dict(cfg=dict(type='ELA'), position='after_conv3')])
    randomise_plugins(model, 'ela')
    assert_onnx_matches(model, torch.randn(1, 3, 64, 96), tmp_path / 'rkan_ela.onnx')
