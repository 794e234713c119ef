"""Generate a small synthetic COCO-format instance-segmentation dataset.

    python tools/demo/make_coco_demo.py [--out data/coco_demo] [--num-train 400]
                                        [--num-val 100] [--size 256] [--seed 0]
                                        [--any-colour]

Layout (the same as COCO 2017, so the real recipe's paths apply)::

    <out>/annotations/instances_train2017.json
    <out>/annotations/instances_val2017.json
    <out>/train2017/000000.jpg ...
    <out>/val2017/000000.jpg ...

Each image has a textured background (colour gradient, stripes, noise) and
1-6 shapes of the classes in :data:`CLASSES`, 18-45% of the image wide and
randomly rotated. Shapes may overlap: later ones occlude earlier ones, and
every annotation is the polygon outline of the *visible* part (several
polygons when occlusion splits it). The output depends only on the
arguments: one seeded ``numpy.random.Generator`` drives everything.

Colours. By default each class is filled from its own hue family
(:data:`CLASS_HUES`, +-12 in OpenCV's 0..180 hue, random saturation and
value), so class identity is carried by shape *and* colour: a Mask R-CNN
trained from scratch for minutes on a CPU learns the colour cue long before
the shape. The backgrounds use any colour. ``--any-colour`` draws every shape
in a uniformly random colour instead, so that only the outline tells the
class (measured here: the demo's AP falls from 0.30 to 0.17). The training
pipeline's colour jitter (hue +-18, random channel swaps) still blurs the cue.
"""
import argparse
import json
import math
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

CLASSES = ('circle', 'square', 'triangle', 'star')
CLASS_HUES = (0, 45, 90, 135)  # OpenCV hue (0..180) at the centre of each family
HUE_JITTER = 12
VERSION = 2  # bump when the output for the same arguments changes
MIN_VISIBLE = 0.35  # drop a shape when less than this share of it is visible
MIN_AREA = 40       # ... or when fewer pixels than this are visible


def shape_polygon(name: str, cx: float, cy: float, radius: float,
                  angle: float) -> np.ndarray:
    """Vertices (N, 2) of a shape of circumradius ``radius`` rotated by ``angle``."""
    if name == 'circle':
        t = np.linspace(0, 2 * math.pi, 40, endpoint=False)
        r = np.full_like(t, radius)
    elif name == 'square':
        t = np.arange(4) * math.pi / 2
        r = np.full_like(t, radius)
    elif name == 'triangle':
        t = np.arange(3) * 2 * math.pi / 3
        r = np.full_like(t, radius)
    elif name == 'star':
        t = np.arange(10) * math.pi / 5
        r = np.where(np.arange(10) % 2 == 0, radius, radius * 0.45)
    else:
        raise ValueError(f'unknown shape {name!r}; expected one of {CLASSES}')
    t = t + angle
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A textured (size, size, 3) uint8 background."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    c0, c1 = rng.uniform(0, 255, (2, 3)).astype(np.float32)
    direction = rng.uniform(0, 2 * math.pi)
    ramp = (np.cos(direction) * xx + np.sin(direction) * yy + 1.5) / 3
    img = c0 + (c1 - c0) * ramp[..., None]
    freq, phase = rng.uniform(4, 20), rng.uniform(0, 2 * math.pi)
    stripes = np.sin(2 * math.pi * freq * (xx * np.cos(direction + 1) +
                                           yy * np.sin(direction + 1)) + phase)
    img += rng.uniform(5, 30) * stripes[..., None]
    img += rng.uniform(3, 15) * rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def mask_polygons(mask: np.ndarray) -> List[List[float]]:
    """COCO polygons (flat x, y lists) outlining a binary mask."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]


def shape_colour(rng: np.random.Generator, label: int, class_colours: bool) -> np.ndarray:
    """A BGR float colour (3,): from the class's hue family, or any colour."""
    if not class_colours:
        return rng.uniform(0, 255, 3)
    hue = (CLASS_HUES[label] + rng.uniform(-HUE_JITTER, HUE_JITTER)) % 180
    hsv = np.uint8([[[hue, rng.uniform(150, 255), rng.uniform(130, 255)]]])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def make_image(rng: np.random.Generator, size: int, class_colours: bool = True):
    """One image and its annotations as (class index, visible mask) pairs."""
    img = background(rng, size)
    shapes = []
    for _ in range(rng.integers(1, 7)):
        label = int(rng.integers(len(CLASSES)))
        radius = rng.uniform(0.09, 0.225) * size
        cx, cy = rng.uniform(radius * 0.6, size - radius * 0.6, 2)
        poly = shape_polygon(CLASSES[label], cx, cy, radius, rng.uniform(0, 2 * math.pi))
        mask = np.zeros((size, size), np.uint8)
        cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1)
        inside = mask > 0
        shade = 8 * rng.standard_normal((int(inside.sum()), 1), dtype=np.float32)
        colour = shape_colour(rng, label, class_colours)
        img[inside] = np.clip(colour + shade, 0, 255).astype(np.uint8)
        for other in shapes:  # the new shape occludes those drawn before
            other[1][mask > 0] = 0
        shapes.append((label, mask, int(mask.sum())))
    kept = [(label, mask) for label, mask, full in shapes
            if mask.sum() >= max(MIN_AREA, MIN_VISIBLE * full)]
    return img, kept


def make_split(out: Path, split: str, num: int, size: int,
               rng: np.random.Generator, class_colours: bool = True) -> Dict:
    """Write ``num`` images of ``<split>2017/`` and return the COCO dict."""
    img_dir = out / f'{split}2017'
    img_dir.mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for image_id in range(1, num + 1):
        img, objects = make_image(rng, size, class_colours)
        name = f'{image_id:06d}.jpg'
        cv2.imwrite(str(img_dir / name), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        images.append(dict(id=image_id, file_name=name, width=size, height=size))
        for label, mask in objects:
            x, y, w, h = cv2.boundingRect(mask)
            annotations.append(dict(
                id=len(annotations) + 1, image_id=image_id, category_id=label + 1,
                segmentation=mask_polygons(mask), area=float(mask.sum()),
                bbox=[float(x), float(y), float(w), float(h)], iscrowd=0))
    categories = [dict(id=i + 1, name=n, supercategory='shape')
                  for i, n in enumerate(CLASSES)]
    info = dict(description='rkan_mmdet synthetic shapes', version=VERSION,
                class_colours=class_colours)
    return dict(info=info, images=images, annotations=annotations, categories=categories)


def make_dataset(out: str, num_train: int = 400, num_val: int = 100,
                 size: int = 256, seed: int = 0, class_colours: bool = True) -> None:
    """Write the train and val splits and their annotation files under ``out``."""
    out_path = Path(out)
    (out_path / 'annotations').mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, num in (('train', num_train), ('val', num_val)):
        coco = make_split(out_path, split, num, size, rng, class_colours)
        ann_file = out_path / 'annotations' / f'instances_{split}2017.json'
        ann_file.write_text(json.dumps(coco))
        print(f'{split}: {num} images, {len(coco["annotations"])} instances '
              f'-> {ann_file}')


def main(argv: Optional[Sequence[str]] = None) -> None:
    """``tools/demo/make_coco_demo.py``: parse ``argv`` (default: the command line), write."""
    parser = argparse.ArgumentParser(prog='tools/demo/make_coco_demo.py',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/coco_demo', help='output folder')
    parser.add_argument('--num-train', type=int, default=400)
    parser.add_argument('--num-val', type=int, default=100)
    parser.add_argument('--size', type=int, default=256, help='image side in pixels')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--any-colour', action='store_true',
                        help='random shape colours: only the outline tells the class')
    args = parser.parse_args(argv)
    start = time.time()
    make_dataset(args.out, args.num_train, args.num_val, args.size, args.seed,
                 class_colours=not args.any_colour)
    print(f'done in {time.time() - start:.1f} s')

