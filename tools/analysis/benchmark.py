"""Speed, memory, params and FLOPs of backbones and detectors, side by side.

    python tools/analysis/benchmark.py                        # R50 vs RKAN-R50
    python tools/analysis/benchmark.py --params-only --backbone-only --plugin ELA

A command line over :mod:`rkan_mmdet.analysis.benchmark`, which documents it.
"""
from rkan_mmdet.analysis.benchmark import main

if __name__ == '__main__':
    main()
