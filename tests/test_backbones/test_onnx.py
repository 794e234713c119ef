"""torch.onnx.export of RKAN-ResNet-50 and of an RKAN-DenseNet (hooks on two modules),
and torch.export of the latter: onnxruntime and the exported program match PyTorch."""
import pytest
import torch
from mmengine.registry import MODELS

from rkan_mmdet.models import RKANResNet
from tests.onnx_utils import assert_onnx_matches

pytestmark = pytest.mark.slow  # ONNX and torch.export of full-size backbones


def test_train_returns_self_as_export_needs() -> None:
    model = RKANResNet(depth=18)
    assert model.train(False) is model and model.train() is model


@pytest.mark.parametrize('dynamo', [False, True], ids=['torchscript', 'dynamo'])
def test_onnx_export_matches_pytorch(tmp_path, dynamo: bool) -> None:
    torch.manual_seed(0)
    model = RKANResNet(depth=50, out_indices=(2, 3)).eval()
    x = torch.randn(1, 3, 96, 128)
    assert_onnx_matches(model, x, tmp_path / 'rkan_r50.onnx', dynamo)


def small_rkan_densenet() -> torch.nn.Module:
    """A small DenseNet with RKAN on stages 3 (tapped after its transition) and 4
    (tapped at the final norm), randomly initialised (no zero init)."""
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='RKANDenseNet', arch=dict(growth_rate=8, depths=[2, 2, 2, 2], init_channels=16),
        out_indices=(2, 3), rkan_mechanisms=(None, None, 'addition', 'addition'),
        rkan_zero_init=False)).eval()


# 80 x 112 reaches stage 3 at 5 x 7: its floor-rounding transition crops the residual.
DENSENET_INPUT = (1, 3, 80, 112)


@pytest.mark.parametrize('dynamo', [False, True], ids=['torchscript', 'dynamo'])
def test_onnx_export_of_a_non_resnet_family(tmp_path, dynamo: bool) -> None:
    model = small_rkan_densenet()
    x = torch.randn(*DENSENET_INPUT)
    outs = assert_onnx_matches(model, x, tmp_path / 'rkan_densenet.onnx', dynamo)
    assert [o.shape for o in outs] == [(1, 16, 2, 3), (1, 32, 2, 3)]


def test_torch_export_of_a_non_resnet_family() -> None:
    model = small_rkan_densenet()
    x = torch.randn(*DENSENET_INPUT)
    program = torch.export.export(model, (x,))
    with torch.no_grad():
        expected = model(x)
        ours = program.module()(x)
    for a, b in zip(ours, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
