"""mmcv's ``RoIAlign`` with a multi-threaded CPU forward and backward.

mmcv 2.1's CPU RoIAlign runs on one thread and, in the backward, recomputes
every bilinear sample's position and weights once per channel. The C++
extension ``rkan_mmdet._roi_align_cpu`` (``csrc/roi_align_cpu.cpp``) computes
them once per RoI and splits the work over torch's threads: RoIs in the
forward, channels in the backward. Every output and gradient value is the
same sum of the same floats in the same order as in mmcv, so the results are
bitwise equal (tests/test_ops/test_roi_align.py checks with ``torch.equal``).

Shapes: ``input`` (N, C, H, W), ``rois`` (R, 5) = (batch index, x1, y1, x2,
y2) in input-image pixels -> (R, C, PH, PW).

Only average pooling of float32/float64 CPU tensors outside autocast and
ONNX export takes this path; everything else (CUDA, max pooling, half,
``use_torchvision``) is mmcv's own ``RoIAlign.forward``.
"""
from typing import Optional, Sequence, Tuple

import torch
from mmcv.ops import RoIAlign
from torch import Tensor
from torch.autograd.function import once_differentiable

try:
    from rkan_mmdet import _roi_align_cpu as _ext
except ImportError:  # not built: mmcv's op runs
    _ext = None


def threaded_roi_align_available(layer: RoIAlign, x: Tensor, rois: Tensor) -> bool:
    """Whether the threaded kernel computes ``layer(x, rois)`` (else mmcv does)."""
    return (_ext is not None and x.device.type == 'cpu' and rois.device.type == 'cpu'
            and x.dtype in (torch.float32, torch.float64) and rois.dtype == x.dtype
            and layer.pool_mode == 'avg' and not layer.use_torchvision
            and not torch.is_autocast_enabled('cpu')
            and not torch.onnx.is_in_onnx_export())


class ThreadedRoIAlignFunction(torch.autograd.Function):
    """RoIAlign (avg) forward and backward by the C++ extension; no gradient
    for ``rois`` (as in mmcv)."""

    @staticmethod
    def forward(ctx, x: Tensor, rois: Tensor, output_size: Tuple[int, int],
                spatial_scale: float, sampling_ratio: int, aligned: bool) -> Tensor:
        ctx.save_for_backward(rois)
        ctx.args = (list(x.shape), spatial_scale, sampling_ratio, aligned)
        return _ext.forward(x, rois, output_size[0], output_size[1], spatial_scale,
                            sampling_ratio, aligned)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: Tensor) -> Sequence[Optional[Tensor]]:
        rois, = ctx.saved_tensors
        shape, spatial_scale, sampling_ratio, aligned = ctx.args
        grad_x = _ext.backward(grad_out, rois, shape, spatial_scale, sampling_ratio, aligned)
        return grad_x, None, None, None, None, None


class ThreadedRoIAlign(RoIAlign):
    """``mmcv.ops.RoIAlign`` (same arguments, same results) whose CPU path
    uses all torch threads; see the module docstring."""

    def forward(self, input: Tensor, rois: Tensor) -> Tensor:
        if not threaded_roi_align_available(self, input, rois):
            return super().forward(input, rois)
        return ThreadedRoIAlignFunction.apply(input, rois, self.output_size,
                                              self.spatial_scale, self.sampling_ratio,
                                              self.aligned)
