"""Fail fast, with one readable message, when a config's dataset is missing.

``tools/train.py`` and ``tools/test.py`` call :func:`exit_if_data_missing`
before the Runner is built, so a missing annotation file or image folder ends
the run (exit 2) with ``error: Dataset not found: <path> ...`` and the lines
after it saying where the data is expected and how it must be laid out,
instead of a stack trace from deep inside a dataset class.

The expected layout is read from the config itself (``data_root``,
``ann_file``, ``data_prefix``, ``split`` of every dataloader used, and the
evaluators' ``ann_file``), so it holds for COCO, the demo and ImageNet alike.
A top-level ``data_hint`` string in a config overrides the per-type hint.
"""
import os.path as osp
import sys
from typing import Iterable, List

from mmengine.config import Config

HINTS = {
    'CocoDataset': 'Get COCO 2017 from https://cocodataset.org/#download '
                   '(train2017, val2017, annotations_trainval2017) and unzip or '
                   'symlink it there.',
    'ImageNet': 'Get ImageNet-1k (ILSVRC2012) from https://image-net.org and '
                'lay it out as mmpretrain expects (one folder per split).',
}
GENERIC_HINT = ('Put the data there, or point the config at it with '
                '--cfg-options <loader>.dataset.data_root=PATH.')


def _dataset_cfgs(dataset: dict) -> Iterable[dict]:
    """The leaf dataset configs under dataset wrappers (Repeat, Concat, ...)."""
    if 'datasets' in dataset:
        for child in dataset['datasets']:
            yield from _dataset_cfgs(child)
    elif 'dataset' in dataset:
        yield from _dataset_cfgs(dataset['dataset'])
    else:
        yield dataset


def _join(root: str, path: str) -> str:
    return path if not root or osp.isabs(path) else osp.join(root, path)


def expected_paths(dataset: dict) -> List[str]:
    """Files and folders one leaf dataset config reads, data root included."""
    root = dataset.get('data_root') or ''
    paths = [root] if root else []
    if dataset.get('ann_file'):
        paths.append(_join(root, dataset['ann_file']))
    prefix = dataset.get('data_prefix') or {}
    prefixes = prefix.values() if isinstance(prefix, dict) else [prefix]
    paths += [_join(root, p) for p in prefixes if isinstance(p, str) and p]
    if dataset.get('split') and not dataset.get('ann_file'):
        paths.append(_join(root, dataset['split']))
    return paths


def _evaluator_paths(evaluator) -> List[str]:
    evaluators = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    return [e['ann_file'] for e in evaluators
            if isinstance(e, dict) and isinstance(e.get('ann_file'), str)]


def missing_data_message(cfg: Config, phases: Iterable[str]) -> str:
    """'' when every path the ``phases`` ('train', 'val', 'test') read exists,
    else the one message that says what is missing and the expected layout."""
    datasets, paths = [], []
    for phase in phases:
        loader = cfg.get(f'{phase}_dataloader')
        if not loader or 'dataset' not in loader:
            continue
        for dataset in _dataset_cfgs(loader['dataset']):
            datasets.append(dataset)
            paths += expected_paths(dataset)
        paths += _evaluator_paths(cfg.get(f'{phase}_evaluator') or [])
    paths = list(dict.fromkeys(osp.normpath(p) for p in paths))
    missing = [p for p in paths if not osp.exists(p)]
    if not missing:
        return ''
    root = next((d['data_root'] for d in datasets if d.get('data_root')), '')
    root = osp.normpath(root) if root else ''
    layout = [(osp.relpath(p, root) if root and p.startswith(root + osp.sep) else p)
              for p in paths if p != root]
    hint = cfg.get('data_hint') or HINTS.get(datasets[0].get('type', ''), GENERIC_HINT)
    lines = [f'Dataset not found: {missing[0]} does not exist '
             f'(config {osp.basename(cfg.filename or "")}).',
             f'Expected layout under {root or "the working directory"}/:']
    lines += [f'  {p}{"/" if not osp.splitext(p)[1] else ""}' for p in layout]
    lines.append(hint)
    return '\n'.join(lines)


def exit_if_data_missing(cfg: Config, phases: Iterable[str]) -> None:
    """Print :func:`missing_data_message` after ``error: `` to stderr and exit 2
    if data is missing."""
    message = missing_data_message(cfg, phases)
    if message:
        print(f'error: {message}', file=sys.stderr)
        sys.exit(2)
