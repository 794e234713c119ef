"""Speed, memory, params and FLOPs of backbones and full detectors, side by side.

Every model in the list runs interleaved in one process, so the printed
ratios (each model / the first) hold on a noisy machine. For each model:

* backbone: forward (eval, no grad) and forward+backward (train) times as
  median / min / max after warm-up, peak memory of one forward+backward
  (fresh child process), params, and FLOPs through ``mmengine.analysis``;
* detector (``--detector``): inference time of ``model.predict`` (eval, no
  grad), peak memory and params. The RoI head keeps exactly 100 detections
  (score_thr 0), and every detector takes the weights it shares with the
  first one (same name and shape) from it, with RKAN blocks starting as
  no-ops (``zero_init_residual``): so all detectors see the same proposals,
  NMS inputs and detections, and the ratio is the backbone's cost rather than
  random-weight differences in the heads' data-dependent work.

Timing runs with glibc keeping freed memory in its heap (as the CPU demo
does; ``timing.keep_freed_memory``), so page faults of re-allocated
tensors do not decide the ratios; ``--system-malloc`` times glibc's default
(:mod:`.timing`).

Models are preset names (``resnet50``, ``rkanet50``, ...) or config files
(the backbone is ``cfg.model.backbone``; the detector is ``cfg.model``).
``--plugin ELA`` (or ECA, CBAM, ShuffleAttention, SimAM, GC) puts that
attention module into every bottleneck of each model's backbone (GC: the
paper's stages 2-4, ``configs/_base_/gcnet_plugin.py``).

Parameters are printed twice where the counts differ (docs/families.md §5):
``params M`` is ``sum(p.numel())``; ``profiler M`` is the RKAN paper's
profiler count, which skips GroupNorm, custom parameters (``nn.Parameter``) and
modules that do not run (:mod:`.param_count`). ``--params-only`` prints the
counts (and backbone FLOPs) without timing anything.

    python tools/analysis/benchmark.py                        # R50 vs RKAN-R50
    python tools/analysis/benchmark.py --detector-only --device cuda --amp
    python tools/analysis/benchmark.py configs/mask_rcnn_r50_1x_coco.py \\
        configs/mask_rcnn_rkanet50_1x_coco.py --batch-size 2 --input-size 640 640
    python tools/analysis/benchmark.py --params-only --backbone-only --plugin ELA
"""
import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional, Sequence

import torch

from .benchmark_models import (PLUGINS, ROOT, BenchmarkInputError, build, make_step,
                               params_and_flops)
from .param_count import ALL_NOTE, PROFILER_NOTE
from .timing import (keep_freed_memory, memory_in_child, peak_memory_mb, summary_ms,
                     time_interleaved)

def benchmark(models: List[str], part: str, args: argparse.Namespace) -> List[dict]:
    """One row per model: counts, FLOPs and (unless ``--params-only``) times,
    ratios against ``models[0]`` and peak memory."""
    modes = ['forward', 'train'] if part == 'backbone' else ['predict']
    rows = {m: dict(model=m, part=part, plugin=args.plugin, **params_and_flops(m, part, args))
            for m in models}
    if args.params_only:
        return list(rows.values())
    reference = None
    if part == 'detector':
        torch.manual_seed(0)
        reference = build(models[0], part, args.device, args.plugin).state_dict()
    for mode in modes:
        steps = {m: make_step(m, part, mode, args, reference) for m in models}
        times = time_interleaved(steps, args.device, args.repeats, args.warmup, f'{part} {mode}')
        for m in models:
            rows[m][mode] = summary_ms(times[m])
        del steps
    for m in models:
        mode = modes[-1]
        argv = ['--memory-child', m, part, mode] + child_flags(args)
        rows[m]['peak_mb'] = memory_in_child('rkan_mmdet.analysis.benchmark', argv)
        for mode in modes:
            rows[m][mode]['ratio'] = rows[m][mode]['median'] / rows[models[0]][mode]['median']
            rows[m][mode]['img_per_s'] = args.batch_size / rows[m][mode]['median'] * 1e3
    return list(rows.values())


def child_flags(args: argparse.Namespace) -> List[str]:
    flags = ['--device', args.device, '--batch-size', str(args.batch_size),
             '--input-size', *map(str, args.input_size)]
    flags += ['--plugin', args.plugin] if args.plugin else []
    return flags + (['--amp'] if args.amp else []) + (['--channels-last'] if args.channels_last else [])


def profiler_column(row: dict) -> str:
    """The profiler count in millions, or '=' where it equals sum(p.numel())."""
    same = row['profiler_params'] == row['params']
    return '=' if same else f'{row["profiler_params"] / 1e6:.2f}'


def print_param_notes() -> None:
    print(f'params M: {ALL_NOTE}')
    print(f'profiler M: {PROFILER_NOTE}; "=" where both agree')


def print_table(rows: List[dict]) -> None:
    print(f'\n{"model":16s} {"part":9s} {"mode":8s} {"median ms":>10s} {"min":>8s} {"max":>8s} '
          f'{"img/s":>7s} {"ratio":>6s} {"peak MB":>8s} {"params M":>9s} {"profiler M":>10s} '
          f'{"GFLOPs":>7s}')
    for row in rows:
        for mode in ('forward', 'train', 'predict'):
            if mode not in row:
                continue
            t = row[mode]
            gflops = '-' if row['gflops'] is None else f'{row["gflops"]:.1f}'
            print(f'{row["model"]:16s} {row["part"]:9s} {mode:8s} {t["median"]:10.1f} '
                  f'{t["min"]:8.1f} {t["max"]:8.1f} {t["img_per_s"]:7.2f} {t["ratio"]:6.3f} '
                  f'{row["peak_mb"]:8.0f} {row["params_m"]:9.2f} {profiler_column(row):>10s} '
                  f'{gflops:>7s}')
    print_param_notes()


def print_param_table(rows: List[dict]) -> None:
    """``--params-only``: exact counts, both where they differ."""
    print(f'\n{"model":40s} {"part":9s} {"plugin":16s} {"params":>11s} {"profiler":>11s} '
          f'{"params M":>9s} {"profiler M":>10s} {"GFLOPs":>7s}')
    for row in rows:
        same = row['profiler_params'] == row['params']
        gflops = '-' if row['gflops'] is None else f'{row["gflops"]:.1f}'
        print(f'{row["model"]:40s} {row["part"]:9s} {row["plugin"] or "-":16s} '
              f'{row["params"]:11,d} {"=" if same else format(row["profiler_params"], ",d"):>11s} '
              f'{row["params_m"]:9.2f} {profiler_column(row):>10s} {gflops:>7s}')
    print_param_notes()


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    # allow_abbrev=False: '--detector' must not silently mean '--detector-only'
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0], allow_abbrev=False)
    parser.add_argument('models', nargs='*', default=['resnet50', 'rkanet50'],
                        help='preset names or config files; ratios are against the first')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--amp', action='store_true', help='bf16 autocast on CPU, fp16 on CUDA')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--input-size', type=int, nargs=2, default=[640, 640], metavar=('H', 'W'))
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--backbone-only', action='store_true')
    parser.add_argument('--detector-only', action='store_true')
    parser.add_argument('--plugin', choices=PLUGINS,
                        help='attention module in every bottleneck of each backbone '
                             '(GC: stages 2-4); needs a backbone that takes mmdet plugins')
    parser.add_argument('--params-only', action='store_true',
                        help='print both parameter counts and FLOPs; time nothing')
    parser.add_argument('--json', type=Path, default=ROOT / 'work_dirs/benchmark/benchmark.json')
    parser.add_argument('--system-malloc', action='store_true',
                        help="time with glibc's default allocator settings (see timing.py)")
    parser.add_argument('--memory-child', nargs=3, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """The command line; a model or option it cannot run ends in one
    ``error: ...`` line and exit code 2."""
    args = parse_args(argv)
    try:
        run(args)
    except BenchmarkInputError as error:
        print(f'error: {error}', file=sys.stderr)
        raise SystemExit(2)


def run(args: argparse.Namespace) -> None:
    """Benchmark, print the table and write the JSON, as ``args`` say."""
    if args.memory_child:
        name, part, mode = args.memory_child
        print(peak_memory_mb(make_step(name, part, mode, args), args.device))
        return
    args.kept_freed_memory = not args.system_malloc and keep_freed_memory()
    print(f'device={args.device} amp={args.amp} input={args.batch_size}x3x'
          f'{args.input_size[0]}x{args.input_size[1]} torch {torch.__version__} '
          f'threads={torch.get_num_threads()} kept_freed_memory={args.kept_freed_memory}',
          flush=True)
    rows = []
    if not args.detector_only:
        rows += benchmark(args.models, 'backbone', args)
    if not args.backbone_only:
        rows += benchmark(args.models, 'detector', args)
    (print_param_table if args.params_only else print_table)(rows)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(dict(args={k: v for k, v in vars(args).items()
                                               if k != 'json'}, rows=rows), indent=2, default=str))
    print(f'\nwrote {args.json}')


if __name__ == '__main__':
    main()
