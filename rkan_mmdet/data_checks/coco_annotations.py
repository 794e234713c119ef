"""Fail fast, with one line, on a COCO annotation file (or its images) that
mmdet would misread: ``error: <what> in <file>``; warn, with one line per
file, about the annotations mmdet would drop silently.

``tools/train.py`` and ``tools/test.py`` call :func:`exit_if_annotations_bad`
after :func:`.dataset_paths.exit_if_data_missing` (which reports missing files
and folders) and before the Runner is built. Without it, mmdet 3.3 says
``Expecting value: line 1 column 15`` for invalid JSON (no file name),
``IsADirectoryError``/``UnicodeDecodeError``/``TypeError`` tracebacks for a
folder, a non-UTF-8 file or records of the wrong shape, and ``need at least
one array to concatenate`` whenever nothing is left to train on: no images,
category ids outside ``categories``, class names that are not the config's,
image sizes under ``filter_cfg.min_size``.

Checked for every leaf dataset of the phases whose class is mmdet's
``CocoDataset`` or a subclass that reads the file the same way, with a local
``ann_file``, and for the evaluators' ``ann_file``:

errors (exit 2)
    a folder or unreadable file; not UTF-8; not JSON; not a dict; no
    ``images``/``annotations``/``categories`` list, an empty ``images`` or
    ``categories`` list; a record that is not a dict, lacks a field mmdet
    reads (images: id, file_name, width, height; annotations: id, image_id,
    category_id, bbox, area; categories: id, name) or repeats an id; a size
    that is not a positive number; a bbox that is not 4 numbers or has a
    negative width/height; an ``image_id`` or ``category_id`` that is not
    listed; a config class that is not a category name, or classes listed in
    another order than the config's (mmdet numbers labels in the file's
    order); no image left after the dataset's ``filter_cfg``; and, for each
    image under a local ``data_prefix.img``, what :mod:`.image_files`
    finds (missing, empty, not an image, truncated, size differs);

warnings (one ``warning:`` line per file, training goes on)
    what mmdet drops one annotation at a time: polygons with fewer than 3
    points or an odd number of coordinates, boxes with a NaN or infinite
    value, under 1 px wide or high or of area <= 0, or outside their image.
    COCO 2017 itself has a few such annotations, so they are not errors.
"""
import json
import math
import os.path as osp
import sys
from collections import Counter
from typing import Iterable, List, Optional, Sequence, Tuple

from mmengine.config import Config

from .dataset_paths import _dataset_cfgs, _join
from .image_files import first_image_problem

FIELDS = {'images': ('id', 'file_name', 'width', 'height'),
          'annotations': ('id', 'image_id', 'category_id', 'bbox', 'area'),
          'categories': ('id', 'name')}
DROPPED = {'polygon': 'polygons with fewer than 3 points or an odd number of coordinates',
           'nan': 'boxes with a NaN or infinite value',
           'tiny': 'boxes under 1 px wide or high or of area <= 0',
           'outside': 'boxes outside their image'}


class _Bad(Exception):
    """One problem found; its message is the error line."""


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_coco(ann_file: str) -> dict:
    """The parsed file, or :class:`_Bad` saying why it cannot be one."""
    if osp.isdir(ann_file):
        raise _Bad(f'{ann_file} is a directory, expected a COCO annotation file')
    try:
        with open(ann_file, 'rb') as file:
            data = file.read()
    except OSError as e:
        raise _Bad(f'{ann_file} cannot be read: {e.strerror}') from None
    try:
        coco = json.loads(data.decode('utf-8'))
    except UnicodeDecodeError as e:
        raise _Bad(f'{ann_file} is not UTF-8 text (byte 0x{data[e.start]:02x} '
                   f'at offset {e.start})') from None
    except json.JSONDecodeError as e:
        raise _Bad(f'{ann_file} is not valid JSON: {e}') from None
    if not isinstance(coco, dict):
        raise _Bad(f'{ann_file} holds a {type(coco).__name__}, expected a COCO dict')
    return coco


def check_structure(coco: dict, ann_file: str) -> None:
    """Lists, record shapes, unique ids and positive image sizes."""
    for key in FIELDS:
        if not isinstance(coco.get(key), list):
            raise _Bad(f'{ann_file} has no "{key}" list')
    for key in ('categories', 'images'):
        if not coco[key]:
            raise _Bad(f'{ann_file} has an empty "{key}" list')
    for key, fields in FIELDS.items():
        seen = set()
        for i, record in enumerate(coco[key]):
            where = f'{key}[{i}] in {ann_file}'
            if not isinstance(record, dict):
                raise _Bad(f'{where} is {json.dumps(record)[:40]}, expected a dict with '
                           f'{", ".join(fields)}')
            missing = [field for field in fields if field not in record]
            if missing:
                raise _Bad(f'{where} has no "{missing[0]}"')
            if not isinstance(record['id'], (int, str)) or record['id'] in seen:
                raise _Bad(f'{where} has id {record["id"]!r}, '
                           + ('used before' if record['id'] in seen else 'expected a number'))
            seen.add(record['id'])
    files: dict = {}
    for image in coco['images']:
        name = image['file_name']
        if not isinstance(name, str) or name in files:
            raise _Bad(f'image {image["id"]} in {ann_file} has file_name {name!r}, '
                       + (f'as image {files[name]} has' if name in files
                          else 'expected a string'))
        files[name] = image['id']
        for side in ('width', 'height'):
            if not (_number(image[side]) and image[side] > 0):
                raise _Bad(f'image {image["id"]} in {ann_file} has {side} '
                           f'{image[side]!r}, expected a positive number')


def _polygon_drops(segmentation: object) -> int:
    if not isinstance(segmentation, list):
        return 0  # RLE dict (or none): mmdet decodes it as it is
    return sum(1 for polygon in segmentation
               if not isinstance(polygon, list) or len(polygon) < 6 or len(polygon) % 2)


def check_annotations(coco: dict, ann_file: str) -> Counter:
    """References and box shapes; the :data:`DROPPED` counts."""
    images = {image['id']: image for image in coco['images']}
    category_ids = {category['id'] for category in coco['categories']}
    dropped: Counter = Counter()
    for ann in coco['annotations']:
        where = f'annotation {ann["id"]} in {ann_file}'
        bbox = ann['bbox']
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(map(_number, bbox))):
            raise _Bad(f'{where} has bbox {bbox!r}, expected [x, y, width, height]')
        for name, value in (('width', bbox[2]), ('height', bbox[3])):
            if value < 0:
                raise _Bad(f'{where} has negative {name} {value}')
        if ann['image_id'] not in images:
            raise _Bad(f'{where} refers to image_id {ann["image_id"]!r}, not in "images"')
        if ann['category_id'] not in category_ids:
            raise _Bad(f'{where} has category_id {ann["category_id"]!r}, '
                       'not in "categories"')
        if ann.get('iscrowd', 0) not in (0, 1):
            raise _Bad(f'{where} has iscrowd {ann["iscrowd"]!r}, expected 0 or 1 '
                       '(mmdet ignores any true value as a crowd)')
        if not _number(ann['area']):
            raise _Bad(f'{where} has area {ann["area"]!r}, expected a number')
        dropped['polygon'] += _polygon_drops(ann.get('segmentation'))
        x, y, w, h = bbox
        image = images[ann['image_id']]
        if not all(map(math.isfinite, (*bbox, ann['area']))):
            dropped['nan'] += 1
        elif w < 1 or h < 1 or ann['area'] <= 0:
            dropped['tiny'] += 1
        elif min(x + w, image['width']) <= max(x, 0) or min(y + h, image['height']) <= max(y, 0):
            dropped['outside'] += 1
    return dropped


def check_classes(coco: dict, ann_file: str, classes: Sequence[str], source: str) -> None:
    """Every class is a category name, in the config's order."""
    names = [category['name'] for category in coco['categories']]
    missing = [name for name in classes if name not in names]
    if missing:
        listed = ', '.join(map(str, names[:8])) + (', ...' if len(names) > 8 else '')
        raise _Bad(f'class {missing[0]!r} of {source} is not a category of {ann_file} '
                   f'(its categories: {listed})')
    in_file = list(dict.fromkeys(name for name in names if name in classes))
    if in_file != list(classes):
        raise _Bad(f'{ann_file} lists the classes of {source} in another order '
                   f'({", ".join(in_file)}); mmdet would number the labels in that order')


def check_filter(coco: dict, ann_file: str, classes: Sequence[str],
                 filter_cfg: Optional[dict]) -> None:
    """Some image survives ``filter_cfg`` (mmdet's ``CocoDataset.filter_data``)."""
    if not filter_cfg:
        return
    empty_gt, min_size = filter_cfg.get('filter_empty_gt', False), filter_cfg.get('min_size', 0)
    class_ids = {c['id'] for c in coco['categories'] if c['name'] in classes}
    annotated = {ann['image_id'] for ann in coco['annotations'] if ann['category_id'] in class_ids}
    no_gt = [i for i in coco['images'] if empty_gt and i['id'] not in annotated]
    small = [i for i in coco['images'] if min(i['width'], i['height']) < min_size]
    if len({id(i) for i in no_gt + small}) == len(coco['images']):
        raise _Bad(f'no image of {ann_file} is left after filter_cfg: {len(no_gt)} of '
                   f'{len(coco["images"])} have no annotation of the config\'s classes, '
                   f'{len(small)} are smaller than min_size={min_size} px')


def _coco_class(dataset_type: object) -> Optional[type]:
    """mmdet's class for ``dataset_type`` when it reads COCO files as
    ``CocoDataset`` does, else None."""
    try:
        from mmdet.datasets import CocoDataset
        from mmdet.registry import DATASETS
    except ImportError:
        return None
    cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
    same_reading = (isinstance(cls, type) and issubclass(cls, CocoDataset)
                    and cls.load_data_list is CocoDataset.load_data_list
                    and cls.parse_data_info is CocoDataset.parse_data_info)
    return cls if same_reading else None


def coco_files(cfg: Config, phases: Iterable[str]) -> List[tuple]:
    """``(ann_file, img_dir, classes, classes' source, filter_cfg)`` of every
    local COCO dataset the phases read, and ``(ann_file, '', (), '', None)``
    of their evaluators' files (checked for structure and references only)."""
    files: List[tuple] = []
    if 'mmdet' not in str(cfg.get('default_scope', '')):
        return files
    for phase in phases:
        loader = cfg.get(f'{phase}_dataloader') or {}
        for index, dataset in enumerate(_dataset_cfgs(loader.get('dataset') or {})):
            ann, root = dataset.get('ann_file') or '', dataset.get('data_root') or ''
            cls = _coco_class(dataset.get('type'))
            if cls is None or not isinstance(ann, str) or '://' in root + ann:
                continue
            prefix = dataset.get('data_prefix') or {}
            img = prefix.get('img', '') if isinstance(prefix, dict) else ''
            local = '://' not in root + img and not dataset.get('backend_args')
            metainfo = dataset.get('metainfo') or {}
            if 'classes' in metainfo:
                classes = tuple(metainfo['classes'])
                source = f'{phase}_dataloader.dataset.metainfo.classes'
            else:
                classes = tuple(cls.METAINFO['classes'])
                source = f"{cls.__name__}'s default classes"
            test_mode = dataset.get('test_mode', False)
            files.append((_join(root, ann), _join(root, img) if local else '', classes, source,
                          None if test_mode else dataset.get('filter_cfg')))
        evaluators = cfg.get(f'{phase}_evaluator') or []
        for evaluator in evaluators if isinstance(evaluators, list) else [evaluators]:
            ann = evaluator.get('ann_file') if isinstance(evaluator, dict) else None
            if isinstance(ann, str) and '://' not in ann:
                files.append((ann, '', (), '', None))
    unique = {(f[0], f[1], f[2]): f for f in reversed(files)}  # first one wins
    return list(reversed(unique.values()))


def check_file(ann_file: str, img_dir: str, classes: Tuple[str, ...], source: str,
               filter_cfg: Optional[dict]) -> str:
    """Raise :class:`_Bad` on an error; the warning line ('' for none)."""
    coco = read_coco(ann_file)
    check_structure(coco, ann_file)
    dropped = check_annotations(coco, ann_file)
    if classes:
        check_classes(coco, ann_file, classes, source)
        check_filter(coco, ann_file, classes, filter_cfg)
    if img_dir:
        index, problem = first_image_problem(
            (osp.join(img_dir, str(i['file_name'])), i['width'], i['height'])
            for i in coco['images'])
        if problem:
            raise _Bad(f'image {coco["images"][index]["id"]} of {ann_file}: {problem}')
    counts = [f'{dropped[kind]} {text}' for kind, text in DROPPED.items() if dropped[kind]]
    return f'{ann_file}: mmdet ignores {", ".join(counts)}' if counts else ''


def annotation_report(cfg: Config, phases: Iterable[str]) -> Tuple[str, List[str]]:
    """(the first error or '', the warnings) over the phases' COCO files."""
    warnings = []
    for coco_file in coco_files(cfg, phases):
        try:
            warning = check_file(*coco_file)
        except _Bad as e:
            return str(e), warnings
        warnings += [warning] if warning else []
    return '', warnings


def exit_if_annotations_bad(cfg: Config, phases: Iterable[str]) -> None:
    """Print the warnings, and ``error: <problem>`` with exit 2 on a bad file."""
    error, warnings = annotation_report(cfg, phases)
    for warning in warnings:
        print(f'warning: {warning}', file=sys.stderr)
    if error:
        print(f'error: {error}', file=sys.stderr)
        sys.exit(2)
