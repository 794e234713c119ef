"""What :mod:`.kan_functions` plots: the model, its weights, and the range of
values each KANConv2d sees.

* :func:`build_model`: ``cfg.model`` through the registry of its
  ``default_scope``, every Pretrained ``init_cfg`` cleared, seeded;
* :func:`load_weights`: a whole-model or bare-backbone checkpoint that must
  cover every KAN conv;
* :func:`input_ranges`: per conv, the 0.5%..99.5% quantiles of its inputs in
  one forward pass of :func:`forward_batch`;
* :func:`compute_curves`: ``u`` (N,) and ``f`` (N, 9) = ``conv.tap_functions(u)``.
"""
import argparse
import copy
import importlib
import logging
import os
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor, nn

from ..models import KANConv2d

QUANTILES = (0.005, 0.995)
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')
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
