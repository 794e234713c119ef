"""Fail fast, with one line, on a COCO annotation file that mmdet would
misread: ``error: <what> in <file>``.

``tools/train.py`` and ``tools/test.py`` call :func:`exit_if_annotations_bad`
after :func:`_data_check.exit_if_data_missing` (which reports missing files
and folders) and before the Runner is built. Without it, mmdet 3.3 says
``Expecting value: line 1 column 15`` for invalid JSON (no file name),
``need at least one array to concatenate`` for an empty category list or a
missing ``annotations`` key, silently drops boxes with a negative width or
height, and reports a missing image only when the data loader reaches it,
mid-epoch and inside a traceback.

Checked for every leaf dataset whose type names COCO (``CocoDataset`` and its
subclasses by name) and whose ``ann_file`` is a local ``.json``: parseable;
``images``, ``annotations`` and ``categories`` lists present; categories
non-empty; every bbox ``[x, y, w, h]`` with ``w, h >= 0`` and an ``image_id``
listed in ``images``; every image file present under ``data_prefix.img``.
Cost on COCO train2017: one extra JSON parse and 118k ``stat`` calls.
"""
import json
import os.path as osp
import sys
from typing import Iterable, List

from mmengine.config import Config

from _data_check import _dataset_cfgs, _join


def coco_problem(ann_file: str, img_dir: str = '') -> str:
    """'' for a sound COCO instances file, else one line saying what is wrong
    where; image files are looked up under ``img_dir`` when it is given."""
    try:
        with open(ann_file) as f:
            coco = json.load(f)
    except json.JSONDecodeError as e:
        return f'{ann_file} is not valid JSON: {e}'
    if not isinstance(coco, dict):
        return f'{ann_file} holds a {type(coco).__name__}, expected a COCO dict'
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(coco.get(key), list):
            return f'{ann_file} has no "{key}" list'
    if not coco['categories']:
        return f'{ann_file} has an empty "categories" list'
    image_ids = {image.get('id') for image in coco['images']}
    for ann in coco['annotations']:
        bbox = ann.get('bbox')
        where = f'annotation {ann.get("id")} in {ann_file}'
        if not (isinstance(bbox, list) and len(bbox) == 4
                and all(isinstance(v, (int, float)) for v in bbox)):
            return f'{where} has bbox {bbox!r}, expected [x, y, width, height]'
        for name, value in (('width', bbox[2]), ('height', bbox[3])):
            if value < 0:
                return f'{where} has negative {name} {value}'
        if ann.get('image_id') not in image_ids:
            return f'{where} refers to image_id {ann.get("image_id")}, not in "images"'
    for image in coco['images'] if img_dir else []:
        path = osp.join(img_dir, str(image.get('file_name')))
        if not osp.isfile(path):
            return f'image {image.get("id")} in {ann_file} refers to {path}, which does not exist'
    return ''


def _coco_files(cfg: Config, phases: Iterable[str]) -> List[tuple]:
    """(ann_file, img_dir) of every local COCO leaf dataset the phases read."""
    files = []
    for phase in phases:
        loader = cfg.get(f'{phase}_dataloader') or {}
        for dataset in _dataset_cfgs(loader.get('dataset') or {}):
            ann, root = dataset.get('ann_file') or '', dataset.get('data_root') or ''
            if 'Coco' not in str(dataset.get('type')) or not ann.endswith('.json'):
                continue
            prefix = dataset.get('data_prefix') or {}
            img = prefix.get('img', '') if isinstance(prefix, dict) else ''
            local = '://' not in root + img and not dataset.get('backend_args')
            files.append((_join(root, ann), _join(root, img) if local else ''))
    return list(dict.fromkeys(files))


def bad_annotation_message(cfg: Config, phases: Iterable[str]) -> str:
    """The first problem of :func:`coco_problem` over the phases' datasets, or ''."""
    for ann_file, img_dir in _coco_files(cfg, phases):
        problem = coco_problem(ann_file, img_dir)
        if problem:
            return problem
    return ''


def exit_if_annotations_bad(cfg: Config, phases: Iterable[str]) -> None:
    """Print ``error: <problem>`` to stderr and exit 2 on a bad COCO file."""
    message = bad_annotation_message(cfg, phases)
    if message:
        print(f'error: {message}', file=sys.stderr)
        sys.exit(2)
