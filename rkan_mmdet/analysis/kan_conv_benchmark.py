r"""Benchmark KANConv2d's two execution paths against the literal unfold form.

* ``fused``: the C++ CPU kernel (kan_conv_fused.py; on CUDA the chunked op runs);
* ``chunked``: the portable chunked torch op (``use_fused = False``);
* ``reference``: :func:`unfold_kan_conv`, the per-tap sum of docs/spec.md §2
  over unfolded 3x3 windows, which holds every window's features at once.
  It equals the tests' independent reference (``tests/test_layers``).

The two stage-4 shapes of RKAN-ResNet-50 at a 640x640 input, batch 2:

* (2, 512, 40, 40), stride 2, degree 3  (first KAN conv, beside layer4's stride)
* (2, 2048, 20, 20), stride 1, degree 2 (second KAN conv, on C_out channels)

Forward+backward times are measured interleaved in one process after warm-up
(median of ``--repeats``); peak memory is measured for each variant in a fresh
child process (peak-RSS growth on CPU, the allocator's peak on CUDA). Prints
each path's speed-up and memory ratio against the reference.

    python tools/analysis/benchmark_kan_conv.py [--device cpu|cuda] [--repeats 7]
"""
import argparse
import json
import statistics
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..models import KANConv2d
from ..models.layers.kan_bases import TAPS
from .timing import memory_in_child, peak_memory_mb, time_interleaved

CASES = {  # name -> (input shape, stride, degree)
    'stride2_512x40x40_deg3': ((2, 512, 40, 40), 2, 3),
    'stride1_2048x20x20_deg2': ((2, 2048, 20, 20), 1, 2),
}


VARIANTS = ('fused', 'chunked', 'reference')


def unfold_kan_conv(conv: KANConv2d, x: Tensor) -> Tensor:
    r"""``y = sum_k f_k(u_k)`` over the unfolded zero-padded 3x3 windows.

    ``x`` (B, C, H, W) -> (B, C, H', W'). The windows ``U`` are
    (B*C, 9, L); their features ``[u, phi_1(u), ..]`` (B*C, 9, L, 1+NF) are
    weighted per tap by ``[a_k, c_{k,f}]`` and summed with the taps'
    constants (and rbf's bias): the memory the fast form avoids.
    """
    b, c, h, w = x.shape
    s, d = conv.stride, conv.dilation
    cols = F.unfold(x.reshape(b * c, 1, h, w), 3, dilation=d, padding=d, stride=s)
    feats = torch.stack([cols] + conv.basis.features(conv, cols), -1)
    coef = torch.cat([conv.base_weight, conv.basis.coefficients(conv)], 0)  # (1+NF, 9)
    y = (feats * coef.t().reshape(1, TAPS, 1, -1)).sum((1, 3))
    y = y + conv.basis.tap_constants(conv).sum() + conv.basis.output_bias(conv)
    return y.reshape(b, c, (h - 1) // s + 1, (w - 1) // s + 1)


def make_step(case: str, variant: str, device: str) -> Callable[[], None]:
    shape, stride, degree = CASES[case]
    torch.manual_seed(0)
    conv = KANConv2d(degree=degree, stride=stride).to(device)
    conv.use_fused = variant == 'fused'
    x = torch.randn(shape, device=device, requires_grad=True)
    forward = (lambda: unfold_kan_conv(conv, x)) if variant == 'reference' else (lambda: conv(x))

    def step() -> None:
        forward().sum().backward()
    return step


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--json', type=Path, help='write the results here')
    parser.add_argument('--memory-child', nargs=2, metavar=('CASE', 'VARIANT'),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        print(peak_memory_mb(make_step(*args.memory_child, args.device), args.device))
        return

    results = {}
    print(f'KANConv2d vs literal unfold reference, forward+backward, device={args.device}, '
          f'torch {torch.__version__}, {torch.get_num_threads()} threads')
    print(f'{"case":26s} {"path":10s} {"ms":>9s} {"speed-up":>9s} {"peak MB":>9s} {"mem ratio":>9s}')
    for case in CASES:
        steps = {v: make_step(case, v, args.device) for v in VARIANTS}
        times = time_interleaved(steps, args.device, args.repeats, args.warmup, case)
        med = {v: statistics.median(t) * 1e3 for v, t in times.items()}
        mem = {v: memory_in_child('rkan_mmdet.analysis.kan_conv_benchmark',
                                  ['--memory-child', case, v, '--device', args.device])
               for v in times}
        results[case] = {v: dict(ms=med[v], speedup=med['reference'] / med[v], peak_mb=mem[v],
                                 memory_ratio=mem[v] / mem['reference']) for v in VARIANTS}
        for v, row in results[case].items():
            print(f'{case:26s} {v:10s} {row["ms"]:9.1f} {row["speedup"]:8.1f}x '
                  f'{row["peak_mb"]:9.1f} {row["memory_ratio"]:9.3f}')
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == '__main__':
    main()
