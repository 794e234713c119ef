"""The embedded CPU demo: synthetic data -> train -> test -> COCO AP -> pictures.

    python tools/demo/run_demo.py [--work-dir work_dirs/demo] [--min-ap 0.5]
                                  [--cfg-options k=v ...]

The command line of :mod:`rkan_mmdet.demo.run` (what each step does).
"""
from rkan_mmdet.demo.run import main

if __name__ == '__main__':
    main()
