"""The paper's detection checkpoints (RKAN_RCNN): --backbone-only gives the detector's backbone.

A reference RKAN_RCNN (tests/test_converters/reference/rcnn.py: torchvision's
Faster R-CNN around the wrapped ResNet, every tensor random, RKAN trained on
stage 4) is saved as its ``state_dict``; the converted backbone loads strictly
into mmdet's ``RKANResNet`` as a detection config builds it, and its four
feature maps equal the reference body's.
"""
from pathlib import Path

import pytest
import torch

import rkan_mmdet  # noqa: F401
from rkan_mmdet.converters import main
from rkan_mmdet.converters.target import detector_backbone
from tests.test_converters.reference.rcnn import PaperDenseNetRCNN, PaperRCNN
from tests.test_converters.reference.rkan_parts import randomize


def assert_features_equal(ours: torch.nn.Module, rcnn: torch.nn.Module, name: str) -> None:
    """Our backbone's four outputs equal the reference body's, to 1e-5 relative."""
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        theirs = list(rcnn.backbone_with_fpn.body(x).values())
        mine = ours(x)
    assert len(mine) == len(theirs) == 4
    for a, b in zip(mine, theirs):
        error = ((a - b).abs().max() / b.abs().max()).item()
        print(f'RKAN_RCNN {name} backbone feature: relative error {error:.2e}')
        assert error <= 1e-5


@pytest.fixture(scope='module')
def rcnn() -> PaperRCNN:
    g = torch.Generator().manual_seed(21)
    model = PaperRCNN('chebyshev', (None, None, None, 'addition'), g)
    return randomize(model, g, trained_rkan=[3], parts=model.rkan_components)


def test_backbone_only_features_equal(rcnn: PaperRCNN, tmp_path: Path,
                                      capsys: pytest.CaptureFixture) -> None:
    torch.save(rcnn.state_dict(), tmp_path / 'rcnn.pth')
    code = main([str(tmp_path / 'rcnn.pth'), str(tmp_path / 'out.pth'), '--backbone-only'])
    out = capsys.readouterr().out
    assert code == 0, out
    assert 'detection checkpoint (RKAN_RCNN)' in out and 'rkan_components.resnet.*' in out
    ckpt = torch.load(tmp_path / 'out.pth', weights_only=True)
    meta = ckpt['meta']
    assert meta['detection_checkpoint'] and meta['backbone']['type'] == 'RKANResNet'
    assert meta['backbone']['depth'] == 18 and meta['stages'] == [4]
    ours = detector_backbone(meta['backbone']).eval()
    ours.load_state_dict(ckpt['state_dict'], strict=True)
    assert_features_equal(ours, rcnn, 'ResNet-18')


def test_detection_checkpoint_needs_backbone_only(rcnn: PaperRCNN, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    torch.save(rcnn.state_dict(), tmp_path / 'rcnn.pth')
    code = main([str(tmp_path / 'rcnn.pth'), str(tmp_path / 'out.pth')])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith('error: a detection checkpoint of the paper\'s code (RKAN_RCNN')
    assert 'convert its backbone with --backbone-only' in err


def test_densenet_rcnn_backbone_features_equal(capsys: pytest.CaptureFixture) -> None:
    """The DenseNet variant: stage outputs (transition + r; norm5 + r, no ReLU) equal
    RKANDenseNet(final_relu=False)'s four outputs."""
    from rkan_mmdet.converters import ConvertOptions, convert_state_dict
    g = torch.Generator().manual_seed(22)
    rcnn = PaperDenseNetRCNN('chebyshev', (None, None, None, 'addition'), g)
    randomize(rcnn, g, trained_rkan=[3], parts=rcnn.rkan_components)
    result = convert_state_dict(dict(rcnn.state_dict()), ConvertOptions(backbone_only=True),
                                lambda line: None)
    assert result.backbone['type'] == 'RKANDenseNet' and result.backbone['final_relu'] is False
    ours = detector_backbone(dict(result.backbone, out_indices=(0, 1, 2, 3))).eval()
    ours.load_state_dict(result.state_dict, strict=True)
    assert_features_equal(ours, rcnn, 'DenseNet-121')
