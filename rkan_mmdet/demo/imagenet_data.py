"""Write a tiny deterministic ImageNet-format dataset of drawn shapes and textures.

Layout (what mmpretrain's ``ImageNet`` dataset reads with ``split=``)::

    <out>/train/<class>/<class>_0000.png ...
    <out>/val/<class>/<class>_0000.png ...
    <out>/classes.txt

Each class is one pattern (disc, square, triangle, stripes, checker, ring)
drawn at a random position, size, colour and background; the noise, and so
every pixel, depends only on ``--seed``. PNG is lossless, so reruns give
byte-identical files.

Example:
    python tools/demo/make_imagenet_demo.py --out data/imagenet_demo
"""
import argparse
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

import numpy as np
from PIL import Image

Drawer = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


def _disc(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cy, cx = rng.uniform(0.3, 0.7, 2)
    return (yy - cy) ** 2 + (xx - cx) ** 2 < rng.uniform(0.15, 0.3) ** 2


def _square(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cy, cx = rng.uniform(0.3, 0.7, 2)
    half = rng.uniform(0.12, 0.25)
    return (abs(yy - cy) < half) & (abs(xx - cx) < half)


def _triangle(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cy, cx = rng.uniform(0.35, 0.65, 2)
    half = rng.uniform(0.15, 0.3)
    top, bottom = cy - half, cy + half
    width = (yy - top) / (2 * half) * half  # grows linearly from the apex
    return (yy > top) & (yy < bottom) & (abs(xx - cx) < width)


def _stripes(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(0.1, 0.2)
    proj = yy * np.cos(angle) + xx * np.sin(angle)
    return (proj / period) % 1.0 < 0.5


def _checker(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cell = rng.uniform(0.1, 0.2)
    oy, ox = rng.uniform(0, cell, 2)
    return ((np.floor((yy + oy) / cell) + np.floor((xx + ox) / cell)) % 2) == 0


def _ring(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cy, cx = rng.uniform(0.35, 0.65, 2)
    radius = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
    outer = rng.uniform(0.2, 0.3)
    return (radius < outer) & (radius > outer * 0.6)


PATTERNS: Dict[str, Drawer] = {
    'disc': _disc, 'square': _square, 'triangle': _triangle,
    'stripes': _stripes, 'checker': _checker, 'ring': _ring,
}


def draw(pattern: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """One ``(size, size, 3)`` uint8 RGB image of ``pattern``."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    mask = PATTERNS[pattern](yy, xx, rng)[..., None]
    background = rng.uniform(0, 110, 3)
    foreground = rng.uniform(140, 255, 3)
    image = np.where(mask, foreground, background) + rng.normal(0, 12, (size, size, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def make_imagenet_demo(out: Path, classes: Sequence[str] = tuple(PATTERNS)[:5],
                       num_train: int = 16, num_val: int = 4, size: int = 64,
                       seed: int = 0) -> Path:
    """Write the dataset under ``out`` and return ``out``."""
    unknown = [name for name in classes if name not in PATTERNS]
    if unknown:
        raise ValueError(f'unknown classes {unknown}; choose from {list(PATTERNS)}')
    out = Path(out)
    for split_idx, (split, count) in enumerate((('train', num_train), ('val', num_val))):
        for cls_idx, name in enumerate(classes):
            folder = out / split / name
            folder.mkdir(parents=True, exist_ok=True)
            rng = np.random.default_rng([seed, split_idx, cls_idx])
            for i in range(count):
                Image.fromarray(draw(name, size, rng)).save(folder / f'{name}_{i:04d}.png')
    (out / 'classes.txt').write_text('\n'.join(classes) + '\n')
    return out


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='tools/demo/make_imagenet_demo.py',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=Path, default=Path('data/imagenet_demo'))
    parser.add_argument('--classes', nargs='+', default=list(PATTERNS)[:5],
                        choices=list(PATTERNS))
    parser.add_argument('--num-train', type=int, default=16, help='images per class')
    parser.add_argument('--num-val', type=int, default=4, help='images per class')
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """``tools/demo/make_imagenet_demo.py``: parse ``argv`` (default: the command line), write."""
    args = parse_args(argv)
    out = make_imagenet_demo(args.out, args.classes, args.num_train, args.num_val,
                             args.size, args.seed)
    print(f'wrote {len(args.classes)} classes x ({args.num_train} train + '
          f'{args.num_val} val) images of {args.size}px to {out}')

