"""rkan_mmdet.ops: the threaded CPU RoIAlign is bitwise mmcv's RoIAlign.

Outputs and input gradients are compared with ``torch.equal`` (not allclose)
against ``mmcv.ops.RoIAlign`` on RoIs that exercise every branch of the
sampling: adaptive and fixed sampling grids, RoIs partly or wholly off the
map, on the last row/column, degenerate (zero width), in both batch images,
``aligned`` True and False, float32 and float64, 1 and 4 threads.
"""
from typing import Iterator

import pytest
import torch
from mmcv.ops import RoIAlign
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmengine.registry import MODELS

from rkan_mmdet.ops import (ThreadedRoIAlign, ThreadedSingleRoIExtractor,
                            threaded_roi_align_available)
from rkan_mmdet.ops import roi_align as threaded


@pytest.fixture
def threads(request: pytest.FixtureRequest) -> Iterator[int]:
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


def make_rois(dtype: torch.dtype, scale: float) -> torch.Tensor:
    """(R, 5) RoIs in image pixels for a (2, C, 13, 17) map at ``scale``."""
    gen = torch.Generator().manual_seed(0)
    h, w = 13 / scale, 17 / scale
    xy = torch.rand(40, 2, generator=gen) * torch.tensor([w, h]) * 1.2 - 0.1 * torch.tensor([w, h])
    wh = torch.rand(40, 2, generator=gen) * torch.tensor([w, h]) * 0.8
    batch = (torch.arange(40) % 2).float()[:, None]
    rois = torch.cat([batch, xy, xy + wh], 1)
    special = torch.tensor([
        [0, 0, 0, w, h],                        # the whole map
        [1, w - 1, h - 1, w + 5, h + 5],        # last row and column, then off the map
        [0, -3 * w, -3 * h, -2 * w, -2 * h],    # wholly off the map
        [1, 2, 3, 2, 9],                        # zero width
        [0, 1.5, 2.5, 1.75, 2.75],              # inside one pixel
    ])
    return torch.cat([rois, special]).to(dtype)


#: The kernel's own tests; a portable install (no compiler) has no kernel.
needs_extension = pytest.mark.skipif(
    threaded._ext is None,
    reason='rkan_mmdet._roi_align_cpu is not built (portable install): mmcv runs')


@needs_extension
@pytest.mark.parametrize('threads', [1, 4], indirect=True)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('output_size,sampling_ratio,scale', [
    (7, 0, 1 / 4), (14, 0, 1 / 8), (7, 2, 1 / 16), ((3, 5), 1, 1.0)])
def test_bitwise_equal_to_mmcv(threads: int, dtype: torch.dtype, aligned: bool,
                               output_size, sampling_ratio: int, scale: float) -> None:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 6, 13, 17, generator=gen, dtype=dtype)
    rois = make_rois(dtype, scale)
    ours = ThreadedRoIAlign(output_size, scale, sampling_ratio, aligned=aligned)
    mmcv = RoIAlign(output_size, scale, sampling_ratio, aligned=aligned)
    assert threaded_roi_align_available(ours, x, rois)

    x_ours, x_mmcv = x.clone().requires_grad_(), x.clone().requires_grad_()
    y_ours, y_mmcv = ours(x_ours, rois), mmcv(x_mmcv, rois)
    assert type(y_ours.grad_fn).__name__ == 'ThreadedRoIAlignFunctionBackward'
    assert y_ours.shape == y_mmcv.shape and y_ours.dtype == dtype
    assert torch.equal(y_ours, y_mmcv)
    grad = torch.randn(y_ours.shape, generator=gen, dtype=dtype)
    y_ours.backward(grad)
    y_mmcv.backward(grad)
    assert x_ours.grad.abs().sum() > 0
    assert torch.equal(x_ours.grad, x_mmcv.grad)


def test_non_contiguous_inputs_and_no_rois() -> None:
    x = torch.randn(2, 17, 13, 6).permute(0, 3, 2, 1)  # (2, 6, 13, 17), not contiguous
    rois = make_rois(torch.float32, 1.0)[:, [0, 1, 2, 3, 4]].t().contiguous().t()
    ours, mmcv = ThreadedRoIAlign(7, 1.0), RoIAlign(7, 1.0)
    assert torch.equal(ours(x, rois), mmcv(x.contiguous(), rois.contiguous()))
    empty = ours(x, rois[:0])
    assert empty.shape == (0, 6, 7, 7)


def test_negative_roi_size_is_mmcv_error() -> None:
    rois = torch.tensor([[0., 5., 5., 2., 8.]])
    with pytest.raises(RuntimeError, match='ROIs in ROIAlign cannot have non-negative size'):
        ThreadedRoIAlign(7, 1.0)(torch.randn(1, 2, 8, 8), rois)


@pytest.mark.parametrize('case', ['max', 'half', 'torchvision', 'rois_dtype', 'autocast'])
def test_other_cases_fall_back_to_mmcv(case: str) -> None:
    x, rois = torch.randn(1, 2, 8, 8), torch.tensor([[0., 1., 1., 6., 5.]])
    layer = ThreadedRoIAlign(3, 1.0, pool_mode='max' if case == 'max' else 'avg',
                             use_torchvision=case == 'torchvision')
    if case == 'half':
        x, rois = x.half(), rois.half()
    if case == 'rois_dtype':
        rois = rois.double()
    if case == 'autocast':
        with torch.autocast('cpu', dtype=torch.bfloat16):
            assert not threaded_roi_align_available(layer, x, rois)
        return
    assert not threaded_roi_align_available(layer, x, rois)
    if case in ('max', 'torchvision'):
        reference = RoIAlign(3, 1.0, pool_mode=layer.pool_mode,
                             use_torchvision=layer.use_torchvision)
        assert torch.equal(layer(x, rois), reference(x, rois))


def test_without_the_extension_mmcv_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A portable install (no compiler): every call is mmcv's op, bitwise."""
    monkeypatch.setattr(threaded, '_ext', None)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, 6, 13, 17, generator=gen)
    rois = make_rois(torch.float32, 1 / 4)
    ours, mmcv = ThreadedRoIAlign(7, 1 / 4), RoIAlign(7, 1 / 4)
    assert not threaded_roi_align_available(ours, x, rois)
    x_ours, x_mmcv = x.clone().requires_grad_(), x.clone().requires_grad_()
    y_ours, y_mmcv = ours(x_ours, rois), mmcv(x_mmcv, rois)
    assert type(y_ours.grad_fn).__name__ != 'ThreadedRoIAlignFunctionBackward'
    assert torch.equal(y_ours, y_mmcv)
    y_ours.sum().backward()
    y_mmcv.sum().backward()
    assert torch.equal(x_ours.grad, x_mmcv.grad)


def test_extractor_is_single_roi_extractor_with_threaded_layers() -> None:
    cfg = dict(roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
               out_channels=6, featmap_strides=[4, 8, 16, 32])
    ours = MODELS.build(dict(type='ThreadedSingleRoIExtractor', **cfg))
    mmdet = SingleRoIExtractor(**cfg)
    assert isinstance(ours, ThreadedSingleRoIExtractor)
    assert [type(m) for m in ours.roi_layers] == [ThreadedRoIAlign] * 4
    assert [m.spatial_scale for m in ours.roi_layers] == [1 / 4, 1 / 8, 1 / 16, 1 / 32]
    assert list(ours.state_dict()) == list(mmdet.state_dict())
    gen = torch.Generator().manual_seed(2)
    feats = tuple(torch.randn(2, 6, 64 // s, 64 // s, generator=gen) for s in (4, 8, 16, 32))
    rois = make_rois(torch.float32, 64 / 17)  # scaled to a 64-pixel image
    assert torch.equal(ours(feats, rois), mmdet(feats, rois))
    other = MODELS.build(dict(type='ThreadedSingleRoIExtractor', **{
        **cfg, 'roi_layer': dict(type='RoIPool', output_size=7)}))
    assert type(other.roi_layers[0]).__name__ == 'RoIPool'
