"""torch.onnx.export of RKAN-ResNet-50; onnxruntime matches PyTorch to 1e-4."""
import numpy as np
import onnxruntime
import pytest
import torch

from rkan_mmdet.models import RKANResNet


def test_train_returns_self_as_export_needs() -> None:
    model = RKANResNet(depth=18)
    assert model.train(False) is model and model.train() is model


@pytest.mark.parametrize('dynamo', [False, True], ids=['torchscript', 'dynamo'])
def test_onnx_export_matches_pytorch(tmp_path, dynamo: bool) -> None:
    torch.manual_seed(0)
    model = RKANResNet(depth=50, out_indices=(2, 3)).eval()
    x = torch.randn(1, 3, 96, 128)
    path = tmp_path / 'rkan_r50.onnx'
    torch.onnx.export(model, (x,), str(path), input_names=['image'],
                      output_names=['c4', 'c5'], opset_version=18, dynamo=dynamo)
    session = onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    outs = session.run(None, {'image': x.numpy()})
    with torch.no_grad():
        expected = model(x)
    assert len(outs) == 2
    for ours, ref in zip(outs, expected):
        assert ours.shape == tuple(ref.shape)
        np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-4, atol=1e-4)
