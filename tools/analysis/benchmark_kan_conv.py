"""KANConv2d's fused and chunked paths against the literal unfold form.

    python tools/analysis/benchmark_kan_conv.py [--device cpu|cuda] [--repeats 7]

A command line over :mod:`rkan_mmdet.analysis.kan_conv_benchmark`, which documents it.
"""
from rkan_mmdet.analysis.kan_conv_benchmark import main

if __name__ == '__main__':
    main()
