"""Where one training iteration of a config spends its time (torch.profiler).

    python tools/analysis/profile_train_step.py configs/demo/mask_rcnn_rkanet18_demo.py \\
        [--iters 20] [--warmup 5] [--top 25] [--cfg-options k=v ...]

Builds the config's model, train dataloader and optimizer wrapper the way
MMEngine's Runner does, runs ``--warmup`` iterations, then profiles
``--iters`` calls of ``model.train_step`` (data preprocessing, forward,
backward, optimizer step; the batches are fetched before, so the dataloader is
timed apart). It prints:

* seconds per iteration: data fetch and ``train_step``;
* the share of ``train_step`` time of each top-level part of the model
  (backbone, neck, rpn_head, roi_head...; forward only, each part's
  ``record_function`` range) and of the backward pass plus optimizer step;
* the ``--top`` operators by self CPU time (forward and backward ops).

Run it on an idle machine, with the demo's allocator settings
(:func:`.timing.keep_freed_memory`, as ``run_demo.py`` does).
"""
import argparse
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function

from .timing import keep_freed_memory


ENTRY_POINTS = ('forward', 'loss', 'loss_and_predict')  # how a detector calls its parts


def label_parts(model: nn.Module) -> List[str]:
    """Wrap each direct child of ``model`` (its ``forward``, ``loss`` and
    ``loss_and_predict``) in a profiler range ``part:<name>``, outermost call
    only; returns the names."""
    names = []
    for name, child in model.named_children():
        depth = [0]
        for method in ENTRY_POINTS:
            if not hasattr(child, method):
                continue

            def ranged(*args, _call=getattr(child, method), _name=name, _depth=depth,
                       **kwargs):
                if _depth[0]:
                    return _call(*args, **kwargs)
                _depth[0] += 1
                try:
                    with record_function(f'part:{_name}'):
                        return _call(*args, **kwargs)
                finally:
                    _depth[0] -= 1

            setattr(child, method, ranged)
        names.append(name)
    return names


def part_times(prof: profile, names: List[str]) -> Dict[str, float]:
    """Total CPU microseconds of each ``part:<name>`` range and of the step."""
    totals = {e.key: e.cpu_time_total for e in prof.key_averages()}
    out = {name: totals.get(f'part:{name}', 0.0) for name in names}
    out['step'] = totals.get('train_step', 0.0)
    return out


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--top', type=int, default=25)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    keep_freed_memory()
    torch.manual_seed(0)

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)

    start, it = time.perf_counter(), iter(loader)
    batches = [next(it) for _ in range(args.warmup + args.iters)]
    fetch = (time.perf_counter() - start) / len(batches)

    for data in batches[:args.warmup]:
        model.train_step(data, optim)
    names = label_parts(model)
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for data in batches[args.warmup:]:
            with record_function('train_step'):
                model.train_step(data, optim)
    step = (time.perf_counter() - start) / args.iters

    times = part_times(prof, names)
    print(f'{Path(args.config).name}: {torch.get_num_threads()} threads; per iteration: '
          f'data fetch {fetch:.3f} s (main process, no workers), train_step {step:.3f} s '
          f'(under the profiler)')
    total = times.pop('step') or 1.0
    print('share of train_step (forward of each part; the rest is backward + optimizer):')
    for name, t in times.items():
        print(f'  {name:<20} {100 * t / total:5.1f} %')
    print(f'  {"backward + optim":<20} {100 * (1 - sum(times.values()) / total):5.1f} %')
    print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=args.top))


if __name__ == '__main__':
    main()
