"""Where one training iteration of a config spends its time (torch.profiler).

    python tools/analysis/profile_train_step.py CONFIG [--iters 20] [--warmup 5] [--top 25]

A command line over :mod:`rkan_mmdet.analysis.profile_train_step`, which documents it.
"""
from rkan_mmdet.analysis.profile_train_step import main

if __name__ == '__main__':
    main()
