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
import copy
import importlib
import logging
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor, nn

import rkan_mmdet  # noqa: F401  (registers backbones, safe checkpoint loading)
from rkan_mmdet.models import KANConv2d

FIGSIZE = (9, 8)  # inches; at DPI this gives a 900x800 PNG
DPI = 100
QUANTILES = (0.005, 0.995)
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')
MARGIN = 0.1  # of the seen range, added on both sides
MAX_SAMPLES = 1 << 20  # input values kept per conv and batch for the quantiles


def clear_pretrained(cfg: object) -> object:
    """Set every Pretrained ``init_cfg`` in a nested model config to None, in place."""
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            if key == 'init_cfg' and 'Pretrained' in str(value):
                cfg[key] = None
            else:
                clear_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            clear_pretrained(value)
    return cfg


def build_model(cfg: Config, seed: int = 0) -> nn.Module:
    """``cfg.model`` built by its scope's registry, seeded, ``init_weights`` done."""
    scope = cfg.get('default_scope', 'mmdet')
    init_default_scope(scope)
    registry = importlib.import_module(f'{scope}.registry').MODELS
    torch.manual_seed(seed)
    model = registry.build(clear_pretrained(copy.deepcopy(cfg.model)))
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model.eval()


def kan_convs(model: nn.Module) -> Dict[str, KANConv2d]:
    """Every KANConv2d of ``model`` by module path, in definition order."""
    return {name: m for name, m in model.named_modules() if isinstance(m, KANConv2d)}


def match_prefix(model_keys: Sequence[str], ckpt_keys: Sequence[str]) -> Tuple[str, str]:
    """``(strip, add)``: the key rename (drop ``strip``, prepend ``add``) that
    matches the most model keys; handles whole models vs bare backbones."""
    model_set = set(model_keys)
    best, best_hits = ('', ''), -1
    for strip, add in (('', ''), ('', 'backbone.'), ('backbone.', ''), ('module.', '')):
        hits = sum(add + k[len(strip):] in model_set
                   for k in ckpt_keys if k.startswith(strip))
        if hits > best_hits:
            best, best_hits = (strip, add), hits
    return best


def load_weights(model: nn.Module, checkpoint: str) -> None:
    """Load ``checkpoint`` into ``model``; every KAN conv must be covered."""
    if '://' not in checkpoint and not Path(checkpoint).is_file():
        raise SystemExit(f'checkpoint {checkpoint} does not exist')
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state:
        raise SystemExit(f'checkpoint {checkpoint} holds no state_dict')
    strip, add = match_prefix(list(model.state_dict()), list(state))
    state = {add + k[len(strip):]: v for k, v in state.items() if k.startswith(strip)}
    own = model.state_dict()
    kan_keys = [f'{name}.{k}' for name, conv in kan_convs(model).items()
                for k in conv.state_dict()]
    missing = [k for k in kan_keys if k not in state]
    if missing:
        raise SystemExit(f'checkpoint {checkpoint} has no KAN conv weights for '
                         f'{len(missing)} of {len(kan_keys)} keys, e.g. {missing[0]}')
    bad = [k for k in state if k in own and state[k].shape != own[k].shape]
    if bad:
        raise SystemExit(f'checkpoint {checkpoint}: shape {tuple(state[bad[0]].shape)} '
                         f'of {bad[0]} does not fit the model ({tuple(own[bad[0]].shape)})')
    result = model.load_state_dict(state, strict=False)
    print(f'loaded {checkpoint}: {len(own) - len(result.missing_keys)}/{len(own)} '
          f'model keys, {len(result.unexpected_keys)} checkpoint keys unused')


def find_images(root: Path, limit: int) -> List[Path]:
    """The first ``limit`` image files under ``root`` (sorted walk, lazy)."""
    found: List[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found += [Path(dirpath, f) for f in sorted(filenames)
                  if f.lower().endswith(IMAGE_SUFFIXES)][:limit - len(found)]
        if len(found) >= limit:
            break
    return found


def image_batch(model: nn.Module, paths: Sequence[Path], size: int) -> Tensor:
    """Images (read BGR, resized to size x size) through the model's data preprocessor."""
    import mmcv
    imgs = [torch.from_numpy(mmcv.imresize(mmcv.imread(str(p)), (size, size)))
            .permute(2, 0, 1).contiguous() for p in paths]
    return model.data_preprocessor({'inputs': imgs}, False)['inputs']


def input_ranges(model: nn.Module, batch: Tensor) -> Dict[str, Tuple[float, float]]:
    """Per KAN conv: the quantile range of its inputs during one forward pass."""
    samples: Dict[str, np.ndarray] = {}

    def hook(name: str):
        def record(module: nn.Module, args: Tuple[Tensor, ...]) -> None:
            values = args[0].detach().flatten().float()
            step = max(1, values.numel() // MAX_SAMPLES)
            samples[name] = values[::step].numpy()
        return record

    handles = [conv.register_forward_pre_hook(hook(name))
               for name, conv in kan_convs(model).items()]
    try:
        with torch.no_grad():
            forward = getattr(model, 'extract_feat', model)
            forward(batch)
    finally:
        for handle in handles:
            handle.remove()
    return {name: tuple(float(q) for q in np.quantile(v, QUANTILES))
            for name, v in samples.items()}


def compute_curves(conv: KANConv2d, lo: float, hi: float,
                   num: int = 401) -> Tuple[np.ndarray, np.ndarray]:
    """``u`` (num,) on [lo, hi] and ``f`` (num, 9) = ``conv.tap_functions(u)``."""
    u = torch.linspace(lo, hi, num, dtype=conv.base_weight.dtype)
    with torch.no_grad():
        f = conv.tap_functions(u)
    return u.numpy(), f.numpy()


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


def forward_batch(args: argparse.Namespace, cfg: Config, model: nn.Module) -> Tensor:
    """The forward-pass batch chosen by the arguments (see module docstring)."""
    root = args.images
    if root is None and not args.random_input:
        loader = cfg.get('val_dataloader') or cfg.get('test_dataloader') or {}
        data_root = loader.get('dataset', {}).get('data_root')
        root = data_root if data_root and Path(data_root).is_dir() else None
    if root is not None:
        paths = find_images(Path(root), args.num_images)
        if not paths:
            raise SystemExit(f'--images {root}: no {"/".join(IMAGE_SUFFIXES)} files found')
        print(f'forward pass on {len(paths)} images from {root}')
        return image_batch(model, paths, args.image_size)
    print(f'forward pass on {args.num_images} random N(0, 1) inputs')
    gen = torch.Generator().manual_seed(args.seed)
    return torch.randn(args.num_images, 3, args.image_size, args.image_size, generator=gen)


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
