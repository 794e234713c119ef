#!/usr/bin/env python
"""Convert a classifier trained with the RKAN paper's own code into an rkan_mmdet checkpoint.

    python tools/model_converters/rkan_reference_to_mmdet.py IN OUT
        [--kan-type T] [--stages S [S ...]] [--enable-untrained] [--mechanism M]
        [--attention A] [--backbone-only]

The logic is :mod:`rkan_mmdet.converters` (docs/converter.md; ``--help`` lists
the families); from Python: ``rkan_mmdet.converters.convert_file``.
"""
import sys

from rkan_mmdet.converters import main

if __name__ == '__main__':
    sys.exit(main())
