"""RKAN speed on a CUDA GPU, on a machine that has torch and torchvision only.

GPU machines lent to this project carry torch but not mmcv/mmdet, so this script
imports the KAN layers without the package ``__init__`` and stands in for the
two names they take from mmcv/mmengine (``build_norm_layer`` -> BatchNorm2d, a
no-op registry). It measures:

1. KANConv2d (the exact fast formulation) against the paper code's formulation
   (unfold every window, evaluate the basis on each 9-vector; written here,
   vectorised, as :func:`unfold_kan_conv`) and the literal per-tap reference of
   the tests, at the stage-4 shapes of Mask R-CNN RKANet-50 (640 px, batch 8):
   forward+backward time and peak memory, fp32.
2. Whole classifiers at 224 px, batch 128: torchvision ResNet-50, RKANet-50 with
   this package's block, and the same RKANet-50 with its KAN convs computed by
   :func:`unfold_kan_conv`: training step (fwd+bwd+SGD) and inference img/s, fp32
   and bf16 autocast.
All ratios come from one process, variants interleaved, median of repeats
(CUDA events). Results: docs/performance.md, "GPU".

    python tools/analysis/benchmark_gpu.py      # writes $OUT or /tmp/gpu_bench.json
"""
import importlib.util
import json
import os
import statistics
import sys
import types

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# mmcv is not on the device machine; the block only needs build_norm_layer (BN).
mmcv = types.ModuleType('mmcv')
mmcv_cnn = types.ModuleType('mmcv.cnn')
mmcv_cnn.build_norm_layer = lambda cfg, c: ('bn', nn.BatchNorm2d(c))
mmcv.cnn = mmcv_cnn
sys.modules.update({'mmcv': mmcv, 'mmcv.cnn': mmcv_cnn})
# nor mmengine; the layers only register themselves.
mmengine = types.ModuleType('mmengine')
mmengine_registry = types.ModuleType('mmengine.registry')
mmengine_registry.MODELS = types.SimpleNamespace(register_module=lambda *a, **k: (lambda c: c))
mmengine.registry = mmengine_registry
mmengine.__path__ = []
ca = types.ModuleType('mmengine.analysis.complexity_analysis')
ca._DEFAULT_SUPPORTED_FLOP_OPS, ca._DEFAULT_SUPPORTED_ACT_OPS = {}, {}
jh = types.ModuleType('mmengine.analysis.jit_handles')
jh.generic_activation_jit = lambda *a: None
an = types.ModuleType('mmengine.analysis')
an.__path__, an.complexity_analysis, an.jit_handles = [], ca, jh
sys.modules.update({'mmengine': mmengine, 'mmengine.registry': mmengine_registry,
                    'mmengine.analysis': an, 'mmengine.analysis.complexity_analysis': ca,
                    'mmengine.analysis.jit_handles': jh})
# Import the layers without the package __init__ (which needs mmdet).
for name, sub in (('rkan_mmdet', 'rkan_mmdet'), ('rkan_mmdet.models', 'rkan_mmdet/models')):
    mod = types.ModuleType(name)
    mod.__path__ = [os.path.join(ROOT, sub)]
    sys.modules[name] = mod
from rkan_mmdet.models.layers.kan_conv import KANConv2d  # noqa: E402
from rkan_mmdet.models.layers.rkan_block import RKANBlock  # noqa: E402

spec = importlib.util.spec_from_file_location('reference', os.path.join(ROOT, 'tests/test_layers/reference.py'))
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)
import torchvision  # noqa: E402

dev = torch.device('cuda')
torch.backends.cudnn.benchmark = True
print(torch.__version__, torch.cuda.get_device_name(), flush=True)


def timeit(fns: dict, repeats: int = 15, warmup: int = 3) -> dict:
    times = {k: [] for k in fns}
    for _ in range(warmup):
        for f in fns.values():
            f()
    torch.cuda.synchronize()
    for _ in range(repeats):
        for k, f in fns.items():
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            f()
            e.record()
            torch.cuda.synchronize()
            times[k].append(s.elapsed_time(e))
    return {k: statistics.median(v) for k, v in times.items()}


def unfold_kan_conv(conv: KANConv2d, x):
    """The paper code's formulation (chebyshev), vectorised: unfold every 3x3
    window, treat each (channel, position) as a 9-vector, base linear on it plus
    the scaled Chebyshev terms of tanh of it, summed over taps and degrees."""
    b, c, h, w = x.shape
    cols = nn.functional.unfold(x, 3, dilation=conv.dilation, padding=conv.dilation,
                                stride=conv.stride)                    # (B, C*9, L)
    ho = (h - 1) // conv.stride + 1
    wo = (w - 1) // conv.stride + 1
    u = cols.view(b, c, 9, -1).permute(0, 1, 3, 2).reshape(-1, 9)    # (B*C*L, 9)
    t = torch.tanh(u)
    polys = [torch.ones_like(t), t]
    for _ in range(2, conv.basis.degree + 1):
        polys.append(2 * t * polys[-1] - polys[-2])
    bases = torch.stack(polys[:conv.basis.degree + 1], -1)                   # (N, 9, D+1)
    weight = conv.poly_weight * conv.scaler.unsqueeze(-1)              # (1, 9, D+1)
    out = u @ conv.base_weight.t() + torch.einsum('nid,oid->no', bases, weight)
    return out.view(b, c, ho, wo)


class RefKAN(nn.Module):
    """The same parameters, computed by the paper code's unfold formulation."""

    def __init__(self, conv: KANConv2d) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, x):
        return unfold_kan_conv(self.conv, x)


results = {}
# 1. KAN conv alone
for name, shape, stride, deg in (('s2_512x40x40_deg3', (8, 512, 40, 40), 2, 3),
                                 ('s1_2048x20x20_deg2', (8, 2048, 20, 20), 1, 2)):
    conv = KANConv2d('chebyshev', degree=deg, stride=stride).to(dev)
    x = torch.randn(shape, device=dev, requires_grad=True)
    with torch.no_grad():
        err = (conv(x) - reference.reference_kan_conv(conv, x)).abs().max().item()
        err_unfold = (unfold_kan_conv(conv, x) - conv(x)).abs().max().item()

    def step(f):
        def run():
            x.grad = None
            f(x).sum().backward()
        return run
    variants = {'ours': step(conv), 'unfold': step(lambda t: unfold_kan_conv(conv, t)),
                'literal': step(lambda t: reference.reference_kan_conv(conv, t))}
    t = timeit(variants)  # also warms cudnn's autotuner before the memory readings
    mem = {}
    for k, f in variants.items():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        f()
        torch.cuda.synchronize()
        mem[k] = (torch.cuda.max_memory_allocated() - base) / 2**20
    results[f'kan_{name}'] = dict(ms=t, speedup_vs_unfold=t['unfold'] / t['ours'],
                                  speedup_vs_literal=t['literal'] / t['ours'], peak_mb=mem,
                                  max_abs_err_vs_literal=err, max_abs_err_unfold=err_unfold)
    print(name, json.dumps(results[f'kan_{name}']), flush=True)


def rkanet50(paper: bool) -> nn.Module:
    model = torchvision.models.resnet50()
    block = RKANBlock(1024, 2048, 512, stride=2, last_stage=True)
    if paper:
        block.kan_conv = RefKAN(block.kan_conv)
        block.kan_conv_last = RefKAN(block.kan_conv_last)
    model.rkan = block
    model.layer4.register_forward_hook(lambda m, args, y: block(args[0], y))
    return model


models = {'resnet50': torchvision.models.resnet50(), 'rkanet50': rkanet50(False),
          'rkanet50_unfold': rkanet50(True)}
for m in models.values():
    m.to(dev).to(memory_format=torch.channels_last)
params = {k: sum(p.numel() for p in m.parameters()) for k, m in models.items()}
print('params', params, flush=True)
for dtype in ('fp32', 'bf16'):
    bs = 128
    x = torch.randn(bs, 3, 224, 224, device=dev).to(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (bs,), device=dev)
    opts = {k: torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9) for k, m in models.items()}
    ctx = (lambda: torch.autocast('cuda', torch.bfloat16)) if dtype == 'bf16' else torch.enable_grad

    def train(k):
        m, o = models[k], opts[k]

        def run():
            m.train()
            with ctx():
                loss = nn.functional.cross_entropy(m(x), y)
            o.zero_grad(set_to_none=True)
            loss.backward()
            o.step()
        return run

    def infer(k):
        m = models[k]

        def run():
            m.eval()
            with torch.no_grad(), (torch.autocast('cuda', torch.bfloat16) if dtype == 'bf16'
                                   else torch.enable_grad()):
                m(x)
        return run
    tt = timeit({k: train(k) for k in models}, repeats=10)
    ti = timeit({k: infer(k) for k in models}, repeats=10)
    row = {k: dict(train_img_s=bs / tt[k] * 1e3, infer_img_s=bs / ti[k] * 1e3) for k in models}
    for k in models:
        row[k]['train_cost_vs_r50'] = 1 - row[k]['train_img_s'] / row['resnet50']['train_img_s']
        row[k]['infer_cost_vs_r50'] = 1 - row[k]['infer_img_s'] / row['resnet50']['infer_img_s']
    results[f'cls_{dtype}'] = row
    print(dtype, json.dumps(row), flush=True)

out = os.environ.get('OUT', '/tmp')
with open(os.path.join(out, 'gpu_bench.json'), 'w') as f:
    json.dump(dict(results=results, params=params, torch=torch.__version__,
                   gpu=torch.cuda.get_device_name()), f, indent=1)
