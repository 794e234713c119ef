"""Plot training curves from a work_dir's MMEngine json logs.

    python tools/analysis/plot_curves.py WORK_DIR [--run TIMESTAMP] [--metrics REGEX] [--out-dir DIR]

A command line over :mod:`rkan_mmdet.analysis.curves`, which documents it.
"""
from rkan_mmdet.analysis.curves import main

if __name__ == '__main__':
    main()
