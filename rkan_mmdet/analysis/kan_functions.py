"""Plot the 9 learned per-tap functions f_k(u) of every KANConv2d in a model.

Why: a KAN conv is 9 learned 1-D functions (docs/spec.md §2), one per 3x3 tap,
shared by all channels; drawing them over the inputs the conv really sees
shows what the RKAN block has learned (or, without a checkpoint, its seeded
initial state).

    python tools/analysis/plot_kan_functions.py CONFIG [--checkpoint CKPT]
        [--images DIR | --random-input | --range LO HI] [--out-dir DIR]

* Model: built from CONFIG through the registry of its ``default_scope``
  (mmdet or mmpretrain); every ``init_cfg`` of type Pretrained is cleared,
  so nothing is downloaded. Without ``--checkpoint`` the model is the
  seeded initial state (``--seed``, then ``init_weights()``, as the Runner
  does). ``--checkpoint`` takes an mmengine checkpoint (``state_dict``
  inside) of the whole model (``backbone.``-prefixed keys, e.g. a
  classifier's into a detector) or of a bare backbone (no prefix).
* u range, per conv: the 0.5%..99.5% quantiles of the values entering it
  during one forward pass (``model.extract_feat``, eval mode), widened to
  include 0 (every zero-padded tap sees u = 0) plus a 10% margin on each
  side; the seen range is shaded. The batch is
  - ``--images DIR``: up to ``--num-images`` images found under DIR;
  - by default: the same from the config's ``val_dataloader`` (else
    ``test_dataloader``) data_root,
    if that directory exists, else a random batch;
  - ``--random-input``: ``N(0, 1)`` noise in the *normalised* input space
    (what the data preprocessor would output for standardised pixels).
  Images are read as BGR (as ``LoadImageFromFile``), resized to a square of
  ``--image-size`` and sent through the model's own data preprocessor.
  ``--range LO HI`` skips the forward pass and uses one fixed range.
* Output: ``<out-dir>/<module path>.png``, a 3x3 grid in tap layout
  (tap k = 3*di + dj), 900x800 pixels. rbf's scalar output bias is not part
  of any f_k and is not drawn.
"""
import argparse
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config, DictAction
from torch import nn

from ..models import KANConv2d
from .kan_function_data import (build_model, compute_curves, forward_batch, input_ranges,
                                kan_convs, load_weights)

FIGSIZE = (9, 8)  # inches; at DPI this gives a 900x800 PNG
DPI = 100
MARGIN = 0.1  # of the seen range, added on both sides


def plot_conv(name: str, conv: KANConv2d, u: np.ndarray, f: np.ndarray,
              seen: Optional[Tuple[float, float]], path: Path) -> None:
    """Draw the 9 curves in a 3x3 grid (tap layout) and save a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(3, 3, figsize=FIGSIZE, dpi=DPI, sharex=True, sharey=True)
    for k, ax in enumerate(axes.flat):
        ax.plot(u, f[:, k], color='C0', label='f_k(u)')
        if seen is not None:
            ax.axvspan(*seen, color='C1', alpha=0.12, label='inputs seen (0.5-99.5%)')
        ax.axvline(0.0, color='grey', lw=0.6, ls=':')
        ax.set_title(f'tap k={k} (di={k // 3}, dj={k % 3})', fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel('u (input value)')
    for ax in axes[:, 0]:
        ax.set_ylabel('f_k(u)')
    axes[0, 0].legend(fontsize=7, loc='best')
    fig.suptitle(f'{name}\nkan_type={conv.kan_type}, stride={conv.stride}, '
                 f'dilation={conv.dilation}', fontsize=11)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_all(model: nn.Module, out_dir: Path,
             ranges: Dict[str, Tuple[float, float]],
             fixed: Optional[Tuple[float, float]] = None) -> List[Path]:
    """One PNG per KAN conv; ``fixed`` overrides the measured ranges."""
    convs = kan_convs(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (name, conv) in enumerate(convs.items(), 1):
        seen = ranges.get(name)
        if fixed is not None:
            lo, hi = fixed
        elif seen is None:
            lo, hi = -3.0, 3.0
            print(f'  {name} saw no input in the forward pass; using [-3, 3]')
        else:
            lo, hi = min(seen[0], 0.0), max(seen[1], 0.0)
            pad = MARGIN * (hi - lo) or 1.0
            lo, hi = lo - pad, hi + pad
        u, f = compute_curves(conv, lo, hi)
        path = out_dir / f'{name}.png'
        plot_conv(name, conv, u, f, seen, path)
        print(f'[{i}/{len(convs)}] {name} ({conv.kan_type}): u in [{lo:.3g}, {hi:.3g}] -> {path}')
        paths.append(path)
    return paths


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='model config (mmdet or mmpretrain)')
    parser.add_argument('--checkpoint', help='mmengine checkpoint to load '
                        '(default: the seeded initial state)')
    parser.add_argument('--out-dir', help='where the PNGs go (default: '
                        'work_dirs/kan_functions/<config name>)')
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--images', help='directory of images for the forward '
                        'pass (default: the config\'s val data_root if present)')
    source.add_argument('--random-input', action='store_true',
                        help='forward N(0, 1) noise in normalised input space')
    source.add_argument('--range', nargs=2, type=float, metavar=('LO', 'HI'),
                        help='plot every conv on [LO, HI]; no forward pass')
    parser.add_argument('--num-images', type=int, default=8,
                        help='batch size of the forward pass (default 8)')
    parser.add_argument('--image-size', type=int, default=224,
                        help='square input side in pixels (default 224)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed for the initial state and random input')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in tools/train.py')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> List[Path]:
    args = parse_args(argv)
    if not Path(args.config).is_file():
        raise SystemExit(f'config {args.config} does not exist')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = build_model(cfg, args.seed)
    if not kan_convs(model):
        raise SystemExit(f'config {args.config} builds no KANConv2d: nothing to plot')
    if args.checkpoint:
        load_weights(model, args.checkpoint)
    if args.range is not None:
        lo, hi = args.range
        if not lo < hi:
            raise SystemExit(f'--range {lo} {hi}: LO must be below HI')
        ranges, fixed = {}, (lo, hi)
    else:
        ranges, fixed = input_ranges(model, forward_batch(args, cfg, model)), None
    out_dir = Path(args.out_dir or Path('work_dirs', 'kan_functions',
                                        Path(args.config).stem))
    return plot_all(model, out_dir, ranges, fixed)


if __name__ == '__main__':
    main()
