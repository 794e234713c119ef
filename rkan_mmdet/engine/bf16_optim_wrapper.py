"""bfloat16 mixed precision on CPU: what ``tools/train.py --amp`` uses without a GPU.

Why this exists
---------------
mmengine's ``AmpOptimWrapper`` is CUDA/NPU/MLU-only (it asserts a GPU is
available, and its fp16 ``GradScaler`` exists for fp16's narrow range). On a
CPU, ``torch.autocast('cpu', dtype=torch.bfloat16)`` is the supported mixed
precision: bf16 has float32's exponent range, so no loss scaling is needed and
the step is the plain ``OptimWrapper`` one. Parameters, gradients and the
optimizer state stay float32; only autocast-listed ops (conv, linear, matmul)
run in bf16. Only CPUs with AVX512-BF16 or AMX have oneDNN bf16 convolutions;
elsewhere torch falls back to a reference kernel that is 10-50x slower than
float32, so the wrapper warns once there.

mmcv's compiled CPU kernels of :data:`FP32_MMCV_OPS` (``nms``, ``roi_align``)
accept float32 only (``expected scalar type Float but found BFloat16``), and
autocast cannot see them (they are pybind calls, not ``torch.ops``). Building
the wrapper therefore wraps those autograd Functions
(:func:`run_in_float32_under_autocast`): inside an autocast region they run
in float32 with autocast off and hand back the dtype they were given (mmdet
writes ``roi_align``'s output into a tensor of the feature dtype, as with
fp16 on GPUs, where mmcv's kernels take half precision); outside an autocast
region they are unchanged.
"""
from __future__ import annotations

import functools
import importlib
import logging
from contextlib import contextmanager
from typing import Iterator

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from torch import nn

#: ``module:Function`` of the mmcv ops run in float32 under bf16 autocast.
FP32_MMCV_OPS = ('mmcv.ops.nms:NMSop', 'mmcv.ops.roi_align:RoIAlignFunction')


def _floats_to(values: tuple, dtype: torch.dtype) -> list:
    return [v.to(dtype) if torch.is_tensor(v) and v.is_floating_point() else v
            for v in values]


def run_in_float32_under_autocast(function: type, device_type: str) -> None:
    """Patch the autograd ``Function`` class ``function`` in place: under a
    ``device_type`` autocast its forward (and backward) run in float32 and its
    floating output comes back in the dtype of its first floating input."""
    forward, backward = function.forward, function.__dict__.get('backward')
    if getattr(forward, '_rkan_fp32_under', None) == device_type:
        return

    @functools.wraps(forward)
    def fp32_forward(ctx, *args, **kwargs):
        ctx.rkan_fp32 = torch.is_autocast_enabled(device_type)
        if not ctx.rkan_fp32:
            return forward(ctx, *args, **kwargs)
        dtype = next((a.dtype for a in args if torch.is_tensor(a) and a.is_floating_point()),
                     torch.float32)
        with torch.autocast(device_type, enabled=False):
            out = forward(ctx, *_floats_to(args, torch.float32), **kwargs)
        return out.to(dtype) if out.is_floating_point() else out

    def fp32_backward(ctx, *grads):
        if getattr(ctx, 'rkan_fp32', False):
            grads = _floats_to(grads, torch.float32)
        return backward.__func__(ctx, *grads) if hasattr(backward, '__func__') \
            else backward(ctx, *grads)

    fp32_forward._rkan_fp32_under = device_type
    function.forward = staticmethod(fp32_forward)
    if backward is not None:
        function.backward = staticmethod(fp32_backward)


@OPTIM_WRAPPERS.register_module()
class Bf16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward context is ``torch.autocast(device, bfloat16)``.

    Args:
        device_type: autocast device, ``'cpu'`` (default) or ``'cuda'``.
        **kwargs: ``OptimWrapper`` arguments (optimizer, clip_grad, ...).
    """

    def __init__(self, device_type: str = 'cpu', **kwargs) -> None:
        super().__init__(**kwargs)
        self.device_type = device_type
        if device_type == 'cpu' and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
            print_log('Bf16OptimWrapper: this CPU has no oneDNN bf16 kernels (needs '
                      'AVX512-BF16 or AMX); bf16 convolutions run much slower than '
                      'float32 here', logger='current', level=logging.WARNING)
        for path in FP32_MMCV_OPS:
            module, name = path.split(':')
            run_in_float32_under_autocast(
                getattr(importlib.import_module(module), name), device_type)

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        with super().optim_context(model), torch.autocast(
                self.device_type, dtype=torch.bfloat16):
            yield
