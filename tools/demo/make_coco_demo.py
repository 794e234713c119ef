"""Generate a small synthetic COCO-format instance-segmentation dataset.

    python tools/demo/make_coco_demo.py [--out data/coco_demo] [--num-train 400]
                                        [--num-val 100] [--size 256] [--seed 0]
                                        [--any-colour]

The command line of :mod:`rkan_mmdet.demo.coco_data` (layout, shapes, colours).
"""
from rkan_mmdet.demo.coco_data import main

if __name__ == '__main__':
    main()
