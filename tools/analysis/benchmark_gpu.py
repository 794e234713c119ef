"""RKAN speed on a CUDA GPU, also on a machine that has torch and torchvision only.

It measures, in one process, variants interleaved, medians of CUDA-event timings:

1. the KAN conv alone: :class:`KANConv2d` (the exact fast formulation) against
   the paper code's formulation (unfold every 3x3 window, evaluate the basis on
   each 9-vector, vectorised: ``paper_unfold_kan_conv`` of
   tests/test_layers/reference.py, tested equal to KANConv2d there) and the
   literal per-tap reference of the tests, at the stage-4 shapes of Mask R-CNN
   RKANet-50 (640 px, batch 8): forward+backward time and peak memory, fp32;
2. ImageNet classifiers at 224 px, batch 128: torchvision ResNet-50, RKANet-50
   (the same network with this package's ``RKANBlock`` beside layer4) and that
   RKANet-50 with its KAN convs computed by the unfold formulation: images/s of
   a training step (forward, backward, SGD) and of inference, fp32 and bf16.

GPU machines lent to this project carry torch but not mmcv/mmdet. Where those
are missing, :func:`load_layers` imports the KAN layers without the package
``__init__`` and stands in for the two names they take from mmcv/mmengine
(``build_norm_layer`` -> BatchNorm2d, a registry decorator that registers
nothing). Results: docs/performance.md, "GPU".

    python tools/analysis/benchmark_gpu.py     # prints, and writes $OUT (or /tmp)/gpu_bench.json
"""
import importlib
import importlib.util
import json
import os
import statistics
import sys
import types
from typing import Callable, Dict, Tuple

import torch
from torch import Tensor, nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KAN_CASES = (('s2_512x40x40_deg3', (8, 512, 40, 40), 2, 3),
             ('s1_2048x20x20_deg2', (8, 2048, 20, 20), 1, 2))


def _stand_in_for_mmcv_and_mmengine() -> None:
    """Module stand-ins for what the KAN layers import from mmcv and mmengine."""
    def module(name: str, **attrs) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__path__ = []
        mod.__dict__.update(attrs)
        sys.modules[name] = mod
        return mod
    module('mmcv.cnn', build_norm_layer=lambda cfg, c: ('bn', nn.BatchNorm2d(c)))
    module('mmengine.registry', MODELS=types.SimpleNamespace(
        register_module=lambda *a, **k: (lambda cls: cls)))
    module('mmengine.analysis.complexity_analysis', _DEFAULT_SUPPORTED_FLOP_OPS={},
           _DEFAULT_SUPPORTED_ACT_OPS={})
    module('mmengine.analysis.jit_handles', generic_activation_jit=lambda *a: None)
    for name in ('mmcv', 'mmengine', 'mmengine.analysis'):
        module(name)
    for name, sub in (('rkan_mmdet', 'rkan_mmdet'), ('rkan_mmdet.models', 'rkan_mmdet/models')):
        module(name).__path__ = [os.path.join(ROOT, sub)]


def load_layers() -> Tuple[type, type]:
    """``(KANConv2d, RKANBlock)``: from the installed stack, or with stand-ins."""
    try:
        import mmcv.cnn  # noqa: F401
        import mmdet  # noqa: F401
    except ImportError:
        _stand_in_for_mmcv_and_mmengine()
    layers = importlib.import_module('rkan_mmdet.models.layers')
    rkan_block = importlib.import_module('rkan_mmdet.models.layers.rkan_block')
    return layers.KANConv2d, rkan_block.RKANBlock


def load_reference() -> types.ModuleType:
    """tests/test_layers/reference.py, by path (the tests are not a package there)."""
    spec = importlib.util.spec_from_file_location(
        'kan_reference', os.path.join(ROOT, 'tests', 'test_layers', 'reference.py'))
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    return reference


REFERENCE = load_reference()


class UnfoldKAN(nn.Module):
    """A KAN conv's parameters, computed the paper's (unfold) way."""

    def __init__(self, conv: nn.Module) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, x: Tensor) -> Tensor:
        return REFERENCE.paper_unfold_kan_conv(self.conv, x)


def rkanet50(block_cls: type, unfold: bool = False) -> nn.Module:
    """torchvision ResNet-50 + an RKAN block beside layer4 (1024 -> 512 -> 2048,
    stride 2, two KAN convs): the paper's RKANet-50, 27,135,115 parameters."""
    import torchvision
    model = torchvision.models.resnet50()
    block = block_cls(1024, 2048, 512, stride=2, last_stage=True)
    if unfold:
        block.kan_conv = UnfoldKAN(block.kan_conv)
        block.kan_conv_last = UnfoldKAN(block.kan_conv_last)
    model.rkan = block
    model.layer4.register_forward_hook(lambda m, args, y: model.rkan(args[0], y))
    return model


def time_cuda(fns: Dict[str, Callable[[], None]], repeats: int,
              warmup: int = 3) -> Dict[str, float]:
    """Median milliseconds of each function, run interleaved."""
    times = {k: [] for k in fns}
    for _ in range(warmup):
        for f in fns.values():
            f()
    for _ in range(repeats):
        for k, f in fns.items():
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            f()
            end.record()
            torch.cuda.synchronize()
            times[k].append(start.elapsed_time(end))
    return {k: statistics.median(v) for k, v in times.items()}


def bench_kan_conv(kan_cls: type) -> dict:
    results = {}
    for name, shape, stride, degree in KAN_CASES:
        conv = kan_cls('chebyshev', degree=degree, stride=stride).cuda()
        x = torch.randn(shape, device='cuda', requires_grad=True)
        variants = {'package': conv, 'unfold': UnfoldKAN(conv),
                    'literal': lambda t: REFERENCE.reference_kan_conv(conv, t)}
        with torch.no_grad():
            err = (variants['unfold'](x) - conv(x)).abs().max().item()

        def step(f: Callable) -> Callable[[], None]:
            def run() -> None:
                x.grad = None
                f(x).sum().backward()
            return run
        steps = {k: step(f) for k, f in variants.items()}
        ms = time_cuda(steps, repeats=15)  # also warms cudnn's autotuner before the memory readings
        peak = {}
        for k, run in steps.items():
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            run()
            torch.cuda.synchronize()
            peak[k] = (torch.cuda.max_memory_allocated() - base) / 2**20
        results[name] = dict(ms=ms, peak_mb=peak, max_abs_diff_unfold=err,
                             speedup_vs_unfold=ms['unfold'] / ms['package'])
        print(name, json.dumps(results[name]), flush=True)
    return results


def bench_classifiers(block_cls: type, batch: int = 128) -> dict:
    import torchvision
    models = {'resnet50': torchvision.models.resnet50(), 'rkanet50': rkanet50(block_cls),
              'rkanet50_unfold': rkanet50(block_cls, unfold=True)}
    for model in models.values():
        model.cuda().to(memory_format=torch.channels_last)
    x = torch.randn(batch, 3, 224, 224, device='cuda').to(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device='cuda')
    optims = {k: torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9) for k, m in models.items()}
    results = {}
    for dtype in ('fp32', 'bf16'):
        def autocast() -> torch.autocast:
            return torch.autocast('cuda', torch.bfloat16, enabled=dtype == 'bf16')

        def train(k: str) -> Callable[[], None]:
            def run() -> None:
                models[k].train()
                with autocast():
                    loss = nn.functional.cross_entropy(models[k](x), y)
                optims[k].zero_grad(set_to_none=True)
                loss.backward()
                optims[k].step()
            return run

        def infer(k: str) -> Callable[[], None]:
            def run() -> None:
                models[k].eval()
                with torch.no_grad(), autocast():
                    models[k](x)
            return run
        train_ms = time_cuda({k: train(k) for k in models}, repeats=10)
        infer_ms = time_cuda({k: infer(k) for k in models}, repeats=10)
        results[dtype] = {k: dict(train_img_s=batch / train_ms[k] * 1e3,
                                  infer_img_s=batch / infer_ms[k] * 1e3) for k in models}
        print(dtype, json.dumps(results[dtype]), flush=True)
    results['params'] = {k: sum(p.numel() for p in m.parameters()) for k, m in models.items()}
    return results


def main() -> None:
    kan_cls, block_cls = load_layers()
    torch.backends.cudnn.benchmark = True
    print(torch.__version__, torch.cuda.get_device_name(), flush=True)
    results = dict(torch=torch.__version__, gpu=torch.cuda.get_device_name(),
                   kan_conv=bench_kan_conv(kan_cls),
                   classifiers=bench_classifiers(block_cls))
    path = os.path.join(os.environ.get('OUT', '/tmp'), 'gpu_bench.json')
    with open(path, 'w') as f:
        json.dump(results, f, indent=1)
    print('written', path)


if __name__ == '__main__':
    main()
