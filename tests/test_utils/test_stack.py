"""The pinned OpenMMLab stack imports; its compiled CPU ops are exact."""
import mmcv
import mmdet
import mmengine
import mmpretrain
import torch
from mmcv.ops import RoIAlign, nms

import rkan_mmdet


def test_versions_are_pinned() -> None:
    assert torch.__version__.split('+')[0] == '2.14.1'
    assert mmengine.__version__ == '0.10.7'
    assert mmcv.__version__ == '2.1.0'
    assert mmdet.__version__ == '3.3.0'
    assert mmpretrain.__version__ == '1.2.0'
    assert isinstance(rkan_mmdet.__version__, str)


def test_nms_keeps_exactly_the_non_overlapping_boxes() -> None:
    boxes = torch.tensor([
        [0., 0., 10., 10.],  # kept
        [1., 1., 11., 11.],  # IoU 81/119 = 0.68 with box 0
        [20., 20., 30., 30.],  # disjoint: kept
        [0., 0., 5., 10.]
    ])  # IoU 0.5 with box 0: kept
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
    dets, keep = nms(boxes, scores, iou_threshold=0.6)
    assert keep.tolist() == [3, 0, 2]
    assert torch.equal(
        dets,
        torch.tensor([[0., 0., 5., 10., 0.95], [0., 0., 10., 10., 0.9],
                      [20., 20., 30., 30., 0.7]]))
    _, keep_strict = nms(boxes, scores, iou_threshold=0.3)
    assert keep_strict.tolist() == [3, 2]  # box 0 now suppressed by box 3


def test_roi_align_on_constant_and_linear_ramp_maps() -> None:
    ys, xs = torch.meshgrid(torch.arange(8.), torch.arange(8.), indexing='ij')
    feat = torch.stack([torch.full((8, 8), 3.0), xs, 10 * ys])[None]
    rois = torch.tensor([[0., 2., 2., 6., 6.]])  # (batch, x1, y1, x2, y2)
    out = RoIAlign(output_size=2,
                   spatial_scale=1.0,
                   sampling_ratio=2,
                   aligned=True)(feat, rois)
    # aligned=True: pixel j is centred at j + 0.5, so bins span [1.5, 3.5],
    # [3.5, 5.5] in index space; a linear map averages to the bin centre.
    expected = torch.tensor([[[3.0, 3.0], [3.0, 3.0]], [[2.5, 4.5], [2.5,
                                                                     4.5]],
                             [[25., 25.], [45., 45.]]])[None]
    assert out.shape == (1, 3, 2, 2)
    assert torch.equal(out, expected)
