"""Fixtures shared by every test package: the tiny synthetic data sets and
the one trained classifier, each made once per session; and the ``slow``
tier.

``pytest -m "not slow"`` is the development loop. A test is slow when it is
marked so by hand (``@pytest.mark.slow``: big models, many-case sweeps,
subprocess tools), or when it needs one of :data:`SLOW_FIXTURES`, whose
first use starts ``tools/`` as subprocesses or trains a model end to end.
"""
from pathlib import Path
from typing import Dict, List

import pytest

from .demo_runs import CLASSIFIER_DEMO, PYTHON, classifier_options, generate, run

#: Fixtures that generate data or train through ``tools/`` subprocesses.
SLOW_FIXTURES = frozenset({'tiny_coco', 'tiny_imagenet', 'trained_classifier',
                           'reference_losses', 'tiny_trained'})


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """Mark every test that needs a :data:`SLOW_FIXTURES` fixture ``slow``."""
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, 'fixturenames', ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope='session')
def tiny_coco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 train / 2 val images of 64 px (``tools/demo/make_coco_demo.py``)."""
    return generate(tmp_path_factory.mktemp('data') / 'coco_demo', 'make_coco_demo.py', 4, 2)


@pytest.fixture(scope='session')
def tiny_imagenet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 classes x (2 train + 1 val) images of 64 px for the classifier demo."""
    return generate(tmp_path_factory.mktemp('data') / 'imagenet_demo',
                    'make_imagenet_demo.py', 2, 1)


@pytest.fixture(scope='session')
def trained_classifier(tiny_imagenet: Path,
                       tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """One epoch of the classifier demo by ``tools/train.py`` on ``tiny_imagenet``
    (10 images, batch 8: 2 iterations, then one validation): its ``data``,
    ``work_dir`` and ``checkpoint`` (``epoch_1.pth``)."""
    work_dir = tmp_path_factory.mktemp('classifier') / 'work_dir'
    done = run([PYTHON, 'tools/train.py', str(CLASSIFIER_DEMO), '--work-dir', str(work_dir),
                '--cfg-options', *classifier_options(tiny_imagenet),
                'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1'])
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(data=tiny_imagenet, work_dir=work_dir, checkpoint=work_dir / 'epoch_1.pth')
