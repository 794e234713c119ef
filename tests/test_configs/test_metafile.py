"""model-index.yml and configs/metafile.yml (mim metadata) against the configs.

One entry per config in ``configs/*.py`` and ``configs/imagenet/*.py``, no
weight links (nothing is trained yet), results only where the RKAN paper
reports them and labelled as the paper's, and parameter counts that equal
the models the configs build.
"""
import copy
import importlib
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import yaml
from mmengine.config import Config
from mmengine.registry import init_default_scope

import rkan_mmdet  # noqa: F401  (registers the RKAN backbones)

from .. import ROOT

CONFIGS = sorted(str(p.relative_to(ROOT)) for pattern in ('configs/*.py', 'configs/imagenet/*.py')
                 for p in ROOT.glob(pattern))
# docs/spec.md §4: Mask R-CNN on COCO 2017 val (AP bbox, AP bbox 50, AP mask, AP mask 50)
PAPER = {
    'configs/mask_rcnn_rkanet50_2xl_1x_coco.py': (36.13, 54.30, 32.29, 51.38),
    'configs/mask_rcnn_rkanet50_1x_coco.py': (35.92, 54.21, 32.16, 51.20),
    'configs/mask_rcnn_r50_1x_coco.py': (35.59, 53.58, 31.94, 50.79),
    'configs/mask_rcnn_rkan_senet50_1x_coco.py': (36.35, 54.48, 32.37, 51.64),
}


def metafiles() -> List[Path]:
    index = yaml.safe_load((ROOT / 'model-index.yml').read_text())
    return [ROOT / path for path in index['Import']]


def models() -> List[dict]:
    return [m for path in metafiles() for m in yaml.safe_load(path.read_text())['Models']]


def by_config() -> Dict[str, dict]:
    return {m['Config']: m for m in models()}


def keys(node: object) -> Iterator[str]:
    """Every mapping key anywhere in a parsed yaml tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from keys(value)


def test_index_imports_existing_metafiles() -> None:
    assert metafiles() == [ROOT / 'configs' / 'metafile.yml']
    assert all(path.is_file() for path in metafiles())


def test_one_entry_per_config() -> None:
    listed = [m['Config'] for m in models()]
    assert CONFIGS, 'no configs found'
    assert sorted(listed) == CONFIGS  # each exactly once, and nothing else
    assert all((ROOT / path).is_file() for path in listed)


def test_names_unique_and_collections_declared() -> None:
    meta = yaml.safe_load((ROOT / 'configs' / 'metafile.yml').read_text())
    names = [m['Name'] for m in meta['Models']]
    assert len(names) == len(set(names))
    assert names == [Path(m['Config']).stem for m in meta['Models']]
    collections = {c['Name'] for c in meta['Collections']}
    assert {m['In Collection'] for m in meta['Models']} == collections


def test_no_weight_links() -> None:
    for path in [ROOT / 'model-index.yml', *metafiles()]:
        tree = yaml.safe_load(path.read_text())
        assert not {'Weights', 'weights'} & set(keys(tree)), path
        assert 'http' not in path.read_text(), path


def test_results_are_the_papers_and_labelled() -> None:
    entries = by_config()
    assert {c for c, m in entries.items() if m.get('Results')} == set(PAPER)
    for config, (box, box50, mask, mask50) in PAPER.items():
        results = entries[config]['Results']
        for result in results:
            assert result['Source'] == 'RKAN paper'
            assert 'quoted from the rkan paper' in result['Notes'].lower()
            assert 'not reproduced' in result['Notes']
            assert result['Dataset'] == 'COCO'
        metrics = {r['Task']: r['Metrics'] for r in results}
        assert metrics == {
            'Object Detection': {'box AP': box, 'box AP@0.5': box50},
            'Instance Segmentation': {'mask AP': mask, 'mask AP@0.5': mask50}}


@pytest.mark.slow  # a full-size model per config
@pytest.mark.parametrize('config', CONFIGS)
def test_parameter_counts_match_built_models(config: str) -> None:
    cfg = Config.fromfile(str(ROOT / config))
    scope = cfg.get('default_scope', 'mmdet')
    init_default_scope(scope)
    registry = importlib.import_module(f'{scope}.registry').MODELS
    model = registry.build(copy.deepcopy(cfg.model))  # building loads no weights
    metadata = by_config()[config]['Metadata']
    assert metadata['Parameters'] == sum(p.numel() for p in model.parameters())
    assert metadata['Training Data'] == ('COCO' if scope == 'mmdet' else 'ImageNet-1k')
    assert metadata['Epochs'] == cfg.train_cfg.max_epochs
