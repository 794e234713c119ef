"""Write a tiny deterministic ImageNet-format dataset of drawn shapes and textures.

    python tools/demo/make_imagenet_demo.py [--out data/imagenet_demo] [--classes ...]
                                            [--num-train 16] [--num-val 4] [--size 64]
                                            [--seed 0]

The command line of :mod:`rkan_mmdet.demo.imagenet_data` (layout, patterns).
"""
from rkan_mmdet.demo.imagenet_data import main

if __name__ == '__main__':
    main()
