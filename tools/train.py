"""Train a detector (mmdet) or classifier (mmpretrain) config with MMEngine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                          [--auto-scale-lr] [--cfg-options k=v ...]
                          [--launcher none|pytorch|slurm]

The command line of :mod:`rkan_mmdet.cli.train` (what it adds to the config,
and how every bad input ends in one ``error: ...`` line, exit 2).
"""
from rkan_mmdet.cli.train import main

if __name__ == '__main__':
    main()
