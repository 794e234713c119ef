"""Plot the 9 learned per-tap functions f_k(u) of every KANConv2d in a model.

    python tools/analysis/plot_kan_functions.py CONFIG [--checkpoint CKPT]
        [--images DIR | --random-input | --range LO HI] [--out-dir DIR]

A command line over :mod:`rkan_mmdet.analysis.kan_functions`, which documents it.
"""
from rkan_mmdet.analysis.kan_functions import main

if __name__ == '__main__':
    main()
