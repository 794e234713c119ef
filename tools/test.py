"""Evaluate a checkpoint of a detector (mmdet) or classifier (mmpretrain) config.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--show-dir DIR]
                         [--cfg-options k=v ...] [--launcher none|pytorch|slurm]

The command line of :mod:`rkan_mmdet.cli.test` (metrics go to
``<work-dir>/<timestamp>/<timestamp>.json``; every bad input ends in one
``error: ...`` line, exit 2).
"""
from rkan_mmdet.cli.test import main

if __name__ == '__main__':
    main()
