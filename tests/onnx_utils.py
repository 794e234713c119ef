"""Export a model to ONNX and check onnxruntime against PyTorch (shared by the test packages)."""
from pathlib import Path
from typing import List

import numpy as np
import onnxruntime
import torch


def assert_onnx_matches(model: torch.nn.Module, x: torch.Tensor, path: Path,
                        dynamo: bool = False, tolerance: float = 1e-4) -> List[np.ndarray]:
    """Export ``model.eval()`` (two outputs, ``c4`` and ``c5``), run it in
    onnxruntime on ``x`` and compare every output with PyTorch's; returns them."""
    model.eval()
    torch.onnx.export(model, (x,), str(path), input_names=['image'],
                      output_names=['c4', 'c5'], opset_version=18, dynamo=dynamo)
    session = onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    outs = session.run(None, {'image': x.numpy()})
    with torch.no_grad():
        expected = model(x)
    assert len(outs) == len(expected) == 2
    for ours, ref in zip(outs, expected):
        assert ours.shape == tuple(ref.shape)
        np.testing.assert_allclose(ours, ref.numpy(), rtol=tolerance, atol=tolerance)
    return outs
