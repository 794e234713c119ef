"""tools/train.py and tools/test.py end to end on a tiny synthetic COCO set,
the missing-data message, and the command-line switches of both tools."""
import json
import re
from argparse import Namespace
from pathlib import Path
from typing import List

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from pycocotools import mask as mask_utils

from rkan_mmdet.analysis import profile_train_step
from rkan_mmdet.analysis.kan_function_data import build_model
from rkan_mmdet.cli import test as test_cli
from rkan_mmdet.cli import train as train_cli
from rkan_mmdet.data_checks.dataset_paths import missing_data_message
from rkan_mmdet.demo import coco_data
from rkan_mmdet.demo import run as demo
from rkan_mmdet.models import KANConv2d

from .. import ROOT
from ..demo_runs import DEMO, IMAGE_SIZE, PYTHON, run, shrink

COCO_CONFIG = ROOT / 'configs' / 'mask_rcnn_rkanet50_1x_coco.py'


def one_epoch(data: Path) -> List[str]:
    """--cfg-options of the demo's own epoch loop for one epoch (2 iterations)
    on ``data``, checkpoint at its end, test loader on ``data`` too."""
    return shrink(data, epochs=1, checkpoint_interval=1, test=True)


def test_generator_is_deterministic(tiny_coco: Path, tmp_path: Path) -> None:
    again = tmp_path / 'again'
    coco_data.make_dataset(str(again), 4, 2, IMAGE_SIZE, 0)
    for split in ('train', 'val'):
        name = f'annotations/instances_{split}2017.json'
        assert (again / name).read_text() == (tiny_coco / name).read_text()


def test_each_class_is_drawn_from_its_hue_family(tiny_coco: Path) -> None:
    """Default data: the median hue of a shape's visible pixels lies in its
    class's family (CLASS_HUES +- HUE_JITTER, plus JPEG and shading slack)."""
    coco = json.loads((tiny_coco / 'annotations/instances_train2017.json').read_text())
    assert coco['info']['version'] == coco_data.VERSION and coco['info']['class_colours']
    names = {img['id']: img['file_name'] for img in coco['images']}
    checked = 0
    for ann in coco['annotations']:
        img = cv2.imread(str(tiny_coco / 'train2017' / names[ann['image_id']]))
        rle = mask_utils.merge(mask_utils.frPyObjects(ann['segmentation'], *img.shape[:2]))
        inside = cv2.erode(mask_utils.decode(rle), np.ones((3, 3), np.uint8)) > 0
        if inside.sum() < 30:
            continue
        hue = float(np.median(cv2.cvtColor(img, cv2.COLOR_BGR2HSV)[..., 0][inside]))
        centre = coco_data.CLASS_HUES[ann['category_id'] - 1]
        distance = min(abs(hue - centre), 180 - abs(hue - centre))  # hue is circular
        assert distance <= coco_data.HUE_JITTER + 4, (ann['id'], hue, centre)
        checked += 1
    assert checked >= 5


def test_demo_regenerates_data_of_another_generator_version(tmp_path: Path) -> None:
    assert demo.data_version(tmp_path) is None
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations/instances_val2017.json').write_text('{"images": []}')
    assert demo.data_version(tmp_path) is None  # data of generator version 1 had no info
    (tmp_path / 'annotations/instances_val2017.json').write_text('{"info": {"version": 2}}')
    assert demo.data_version(tmp_path) == 2 == demo.generator_version()
    assert demo.generator_version() == coco_data.VERSION


@pytest.fixture(scope='module')
def tiny_trained(tiny_coco: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The work dir of a 2-iteration ``tools/train.py`` run of the demo on tiny_coco."""
    work_dir = tmp_path_factory.mktemp('trained') / 'work'
    trained = run([PYTHON, 'tools/train.py', str(DEMO), '--work-dir', str(work_dir),
                   '--cfg-options', *one_epoch(tiny_coco)])
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert 'Iter(train) [2/2]' in trained.stdout + trained.stderr  # 4 images, batch 2
    assert (work_dir / 'last_checkpoint').read_text().strip() == str(work_dir / 'epoch_1.pth')
    return work_dir


def test_train_then_test_reports_coco_ap(tiny_coco: Path, tiny_trained: Path,
                                         tmp_path: Path) -> None:
    work_dir, show_dir = tiny_trained, tmp_path / 'show'
    tested = run([PYTHON, 'tools/test.py', str(DEMO), str(work_dir / 'epoch_1.pth'),
                  '--work-dir', str(work_dir), '--show-dir', str(show_dir),
                  '--cfg-options', *one_epoch(tiny_coco)])
    assert tested.returncode == 0, tested.stderr[-3000:]
    metrics = demo.read_test_metrics(work_dir)
    for key in ('coco/bbox_mAP', 'coco/segm_mAP'):
        assert isinstance(metrics[key], float) and 0.0 <= metrics[key] <= 1.0, key
    assert len(list(show_dir.glob('*.jpg'))) == 2  # one drawing per val image


def test_demo_ends_with_three_kinds_of_pictures(tiny_coco: Path, tiny_trained: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """run_demo's end-of-run step on the 2-iteration model: test.py --show-dir
    drawings of the first val image (ground truth | prediction, side by side),
    one KAN-function plot per KANConv2d, and the loss curves of the training run.
    The work dir is given relative (test.py would put a relative --show-dir
    under <work-dir>/<timestamp>/)."""
    checkpoint = tiny_trained / 'epoch_1.pth'
    monkeypatch.chdir(tiny_trained.parent)
    pictures = demo.write_pictures(checkpoint, Path(tiny_trained.name), tiny_coco / 'val2017',
                                   one_epoch(tiny_coco), num_drawn=1)
    out = tiny_trained / 'pictures'
    assert sorted(pictures) == ['curves', 'kan_functions', 'predictions']

    assert pictures['predictions'] == [out / 'predictions' / '000001.jpg']
    drawn = cv2.imread(str(pictures['predictions'][0]))
    # two panels of the data's size: ground truth, prediction
    assert drawn.shape == (IMAGE_SIZE, 2 * IMAGE_SIZE, 3)
    assert sorted(p.name for p in (out / 'test_runs').glob('predictions.*.json')) == [
        'predictions.bbox.json', 'predictions.segm.json']

    model = build_model(Config.fromfile(str(DEMO)))
    names = [name for name, m in model.named_modules() if isinstance(m, KANConv2d)]
    assert len(names) == 2  # RKAN on stage 4: the stride-2 and the last-stage KAN conv
    assert sorted(pictures['kan_functions']) == sorted(
        out / 'kan_functions' / f'{name}.png' for name in names)
    for path in pictures['kan_functions']:
        assert cv2.imread(str(path)).shape == (800, 900, 3)

    assert pictures['curves'] == [out / 'losses.png']  # no validation: no metrics.png
    assert cv2.imread(str(out / 'losses.png')).shape == (600, 800, 3)


@pytest.mark.slow  # tools/train.py in a subprocess
def test_missing_coco_data_gives_one_message(tmp_path: Path) -> None:
    done = run([PYTHON, str(ROOT / 'tools' / 'train.py'), str(COCO_CONFIG)], cwd=tmp_path)
    expected = (
        'Dataset not found: data/coco does not exist '
        '(config mask_rcnn_rkanet50_1x_coco.py).\n'
        'Expected layout under data/coco/:\n'
        '  annotations/instances_train2017.json\n'
        '  train2017/\n'
        '  annotations/instances_val2017.json\n'
        '  val2017/\n'
        'Get COCO 2017 from https://cocodataset.org/#download (train2017, val2017, '
        'annotations_trainval2017) and unzip or symlink it there.\n')
    assert done.returncode == 2
    assert expected in done.stderr
    assert 'Traceback' not in done.stderr


def test_missing_demo_data_names_the_generator(tmp_path: Path) -> None:
    cfg = Config.fromfile(str(DEMO))
    cfg.test_dataloader.dataset.data_root = str(tmp_path / 'nowhere')
    message = missing_data_message(cfg, ['test'])
    assert message.startswith(f'Dataset not found: {tmp_path}/nowhere does not exist')
    assert '  annotations/instances_val2017.json\n  val2017/\n' in message
    assert message.endswith('python tools/demo/make_coco_demo.py --out data/coco_demo')
    assert missing_data_message(cfg, []) == ''


def test_train_switches() -> None:

    def cfg(**kwargs) -> Config:
        args = dict(config=str(COCO_CONFIG), work_dir=None, resume=None, amp=False,
                    auto_scale_lr=False, cfg_options=None, launcher='none')
        return train_cli.build_cfg(Namespace(**{**args, **kwargs}))

    plain = cfg()
    assert plain.work_dir == 'work_dirs/mask_rcnn_rkanet50_1x_coco'
    assert not plain.resume and not plain.auto_scale_lr.enable
    assert (cfg(resume='auto').resume, cfg(resume='auto').load_from) == (True, None)
    assert cfg(resume='x.pth').load_from == 'x.pth'
    assert cfg(amp=True).optim_wrapper.type == (
        'AmpOptimWrapper' if torch.cuda.is_available() else 'Bf16OptimWrapper')
    assert cfg(auto_scale_lr=True).auto_scale_lr.enable
    assert cfg(cfg_options={'train_cfg.max_epochs': 1}).train_cfg.max_epochs == 1


def test_show_dir_drives_detection_and_classification_hooks() -> None:
    det = Config(dict(default_hooks=dict(
        visualization=dict(type='DetVisualizationHook', draw=False))))
    test_cli.enable_drawing(det, 'out')
    assert det.default_hooks.visualization == dict(
        type='DetVisualizationHook', draw=True, test_out_dir='out')
    cls = Config(dict(default_hooks=dict(
        visualization=dict(type='VisualizationHook', enable=False))))
    test_cli.enable_drawing(cls, 'out')
    assert cls.default_hooks.visualization == dict(
        type='VisualizationHook', enable=True, out_dir='out')


def test_profile_train_step_splits_an_iteration(tiny_coco: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    """tools/analysis/profile_train_step.py on the demo: one profiled iteration,
    each top-level part's forward share and the backward + optimizer rest add
    up to 100 %, and the operator table names the demo's threaded RoIAlign."""
    profile_train_step.main([str(DEMO), '--iters', '1', '--warmup', '1', '--top', '40',
                             '--cfg-options', *one_epoch(tiny_coco)])
    out = capsys.readouterr().out
    shares = dict(re.findall(r'^  (\S+(?: \+ \S+)?)\s+(-?[\d.]+) %$', out, re.M))
    assert list(shares) == ['data_preprocessor', 'backbone', 'neck', 'rpn_head', 'roi_head',
                            'backward + optim']
    assert all(float(v) > 0 for v in shares.values()), shares
    assert abs(sum(map(float, shares.values())) - 100) < 0.5
    assert 'ThreadedRoIAlignFunction' in out and 'aten::_fused_sgd_' in out


def test_profile_labels_only_the_outermost_call() -> None:
    """A head whose loss() calls its own forward is one range, not two."""

    class Head(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2

        def loss(self, x: torch.Tensor) -> torch.Tensor:
            return self(x).sum()

    model = torch.nn.Module()
    model.head = Head()
    assert profile_train_step.label_parts(model) == ['head']
    with torch.profiler.profile() as prof:
        with torch.profiler.record_function('train_step'):
            model.head.loss(torch.ones(3))
    counts = {e.key: e.count for e in prof.key_averages()}
    assert counts['part:head'] == 1
    assert profile_train_step.part_times(prof, ['head'])['head'] > 0
