"""Findings 4, 5 and (through the tools) 3 of issue 15: every bad input to
``tools/train.py`` and ``tools/test.py`` ends with exactly one ``error:`` line
that names the bad key or file, exit 2, no traceback.

One table, run in-process (the tools' ``main()`` with a patched ``sys.argv``)
on copies of the shared tiny COCO set and the small demo model: bad config
files and ``--cfg-options``, bad values of any type found while the Runner is
built or once ``train()``/``test()`` builds the loops, data loaders and
optimizer, bad data, annotation files and images, and bad checkpoints given to
``tools/test.py``, ``--resume``, ``load_from`` and ``init_cfg``.
"""
import json
import os
import pickle
import random
import shutil
from pathlib import Path
from typing import Callable, List, NamedTuple, Optional, Sequence

import pytest
import torch

from .conftest import DEMO, SMALL_MODEL, shrink, tool_main

TRAIN_ANN = 'annotations/instances_train2017.json'
VAL_ANN = 'annotations/instances_val2017.json'
Breakage = Callable[[Path, Path], Optional[str]]


class Case(NamedTuple):
    """``tool`` on the demo config (or on ``config_text`` appended to a config
    inheriting it) with ``options``; ``breakage(data, tmp)`` breaks the copy of
    the data (and may return the checkpoint path for the tool); every string
    of ``expected`` (``{d}``: data folder, ``{t}``: temporary folder) must be
    in the error line."""
    name: str
    tool: str = 'train'
    options: Sequence[str] = ()
    breakage: Optional[Breakage] = None
    expected: Sequence[str] = ()
    config_text: str = ''
    flags: Sequence[str] = ()


def edit_json(relpath: str, change: Callable[[dict], None]) -> Breakage:
    def breakage(data: Path, tmp: Path) -> None:
        path = data / relpath
        coco = json.loads(path.read_text())
        change(coco)
        path.write_text(json.dumps(coco))
    return breakage


def write_file(relpath: str, content: bytes) -> Breakage:
    def breakage(data: Path, tmp: Path) -> None:
        path = data / relpath
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        path.write_bytes(content)
    return breakage


def remove(relpath: str) -> Breakage:
    def breakage(data: Path, tmp: Path) -> None:
        path = data / relpath
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return breakage


def make_dir(relpath: str) -> Breakage:
    def breakage(data: Path, tmp: Path) -> None:
        (data / relpath).unlink()
        (data / relpath).mkdir()
    return breakage


def truncate(relpath: str) -> Breakage:
    def breakage(data: Path, tmp: Path) -> None:
        path = data / relpath
        path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])
    return breakage


def set_field(key: str, index: int, field: str, value) -> Breakage:
    def change(coco: dict) -> None:
        coco[key][index][field] = value
    return edit_json(TRAIN_ANN, change)


class Payload:
    """Pickles as ``os.system('touch <marker>')``: must never run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def checkpoint_file(name: str, content: Callable[[Path], Optional[bytes]]) -> Breakage:
    """A breakage that writes ``content(tmp)`` (None: writes nothing) to
    ``tmp/<name>`` and hands its path to the tool."""
    def breakage(data: Path, tmp: Path) -> str:
        payload = content(tmp)
        if payload is not None:
            (tmp / name).write_bytes(payload)
        return str(tmp / name)
    return breakage


def torch_bytes(obj: object, tmp: Path) -> bytes:
    torch.save(obj, tmp / 'saved.tmp')
    return (tmp / 'saved.tmp').read_bytes()


def directory(tmp: Path) -> None:
    (tmp / 'dir.pth').mkdir()


CHECKPOINTS = {  # name -> bytes of the file (None: not created / made otherwise)
    'missing.pth': lambda t: None,
    'zero.pth': lambda t: b'',
    'random.pth': lambda t: random.Random(0).randbytes(4096),
    'text.pth': lambda t: b'not a checkpoint\n' * 64,
    'json.pth': lambda t: json.dumps({'state_dict': {'w': [1, 2]}}).encode(),
    'truncated.pth': lambda t: torch_bytes({'state_dict': {'w': torch.zeros(4096)}}, t)[:9000],
    'plain_pickle.pth': lambda t: pickle.dumps([1, 2, 3]),
    'evil.pth': lambda t: pickle.dumps(Payload(t / 'marker')),
    'other_model.pth': lambda t: torch_bytes({'state_dict': {'fc.weight': torch.ones(2, 2)}}, t),
}

CASES = [
    # ---- config file and --cfg-options
    Case('config file missing', options=(), breakage=None,
         expected=['config {t}/no_such_config.py does not exist'],
         config_text='<missing>'),
    Case('config syntax error', expected=['config {t}/config.py'],
         config_text='model = dict(\n'),
    Case('config merges a dict into None', expected=['config {t}/config.py', 'init_cfg'],
         config_text="model = dict(backbone=dict(init_cfg=dict(type='Pretrained')))"),
    Case('config uses an undefined name', expected=['config {t}/config.py', 'undefined_name'],
         config_text='model = dict(backbone=dict(depth=undefined_name))'),
    Case('cfg-options index past a list',
         options=['train_dataloader.dataset.pipeline.99.prob=1'], expected=['--cfg-options']),
    Case('work dir is a file', flags=['--work-dir', '{t}/a_file'],
         breakage=lambda d, t: (t / 'a_file').write_text('x') and None,
         expected=['{t}/a_file: File exists']),
    # ---- finding 4: config values, while the Runner is built
    Case('unknown backbone keyword', options=['model.backbone.foo=1'],
         expected=['model.backbone.foo=1: ', "unexpected keyword argument 'foo'"]),
    Case('depth as a string', config_text="model = dict(backbone=dict(depth='18'))",
         expected=["model.backbone.depth='18': "]),
    Case('depth not a ResNet depth', options=['model.backbone.depth=19'],
         expected=['model.backbone.depth=19: ']),
    Case('num_stages=3', options=['model.backbone.num_stages=3'],
         expected=['model.backbone.num_stages=3']),
    Case('out_indices beyond the stages', options=['model.backbone.out_indices=(5,)'],
         expected=['model.backbone.out_indices=(5,)']),
    Case('num_stages as a string', config_text="model = dict(backbone=dict(num_stages='4'))",
         expected=["model.backbone.num_stages='4': ", 'not supported']),
    Case('unknown backbone type', options=['model.backbone.type=NoSuchNet'],
         expected=["model.backbone.type='NoSuchNet': NoSuchNet is not in the"]),
    Case('reduce_factor=0', options=['model.backbone.reduce_factor=0'],
         expected=['model.backbone.reduce_factor=0']),
    Case("reduce_factor='2'", config_text="model = dict(backbone=dict(reduce_factor='2'))",
         expected=["model.backbone.reduce_factor='2'"]),
    Case('reduce_factor=2.0', options=['model.backbone.reduce_factor=2.0'],
         expected=['model.backbone.reduce_factor=2.0']),
    Case('reduce_factor=-2', options=['model.backbone.reduce_factor=-2'],
         expected=['model.backbone.reduce_factor=-2']),
    Case('inv_factor=-1', options=['model.backbone.inv_factor=-1'],
         expected=['model.backbone.inv_factor=-1']),
    Case('inv_factor=0', options=['model.backbone.inv_factor=0'],
         expected=['model.backbone.inv_factor=0']),
    # ---- finding 4: config values found once train() builds loops, loaders, optimizer
    Case('negative learning rate', options=['optim_wrapper.optimizer.lr=-1'],
         expected=['optim_wrapper.optimizer.lr=-1: Invalid learning rate: -1']),
    Case('unknown optimizer', options=['optim_wrapper.optimizer.type=NoSuchOpt'],
         expected=["optim_wrapper.optimizer.type='NoSuchOpt'"]),
    Case('batch_size=0', options=['train_dataloader.batch_size=0'],
         expected=['train_dataloader.batch_size=0: ']),
    Case('num_workers=-1', options=['train_dataloader.num_workers=-1'],
         expected=['train_dataloader.num_workers=-1: ']),
    Case('max_iters=abc', options=['train_cfg.max_iters=abc'],
         expected=["train_cfg.max_iters='abc': "]),
    Case('unknown scheduler', options=['param_scheduler.0.type=NoSuchLR'],
         expected=["param_scheduler.0.type='NoSuchLR'"]),
    # ---- finding 5: data, annotation files, images
    Case('missing data root', breakage=remove(''),
         expected=['Dataset not found: {d} does not exist']),
    Case('missing annotation file', breakage=remove(TRAIN_ANN),
         expected=['Dataset not found: {d}/' + TRAIN_ANN + ' does not exist']),
    Case('annotation file is a directory', breakage=make_dir(TRAIN_ANN),
         expected=['{d}/' + TRAIN_ANN + ' is a directory']),
    Case('annotation file not UTF-8', breakage=write_file(TRAIN_ANN, b'{"images": "\xff"}'),
         expected=['{d}/' + TRAIN_ANN + ' is not UTF-8 text (byte 0xff at offset 12)']),
    Case('annotation file not JSON', breakage=write_file(TRAIN_ANN, b'{"images": [1,]'),
         expected=['{d}/' + TRAIN_ANN + ' is not valid JSON: Expecting value: line 1 column 15']),
    Case('JSON that is not COCO', breakage=edit_json(TRAIN_ANN, lambda c: c.update(images=[1, 2])),
         expected=['images[0] in {d}/' + TRAIN_ANN + ' is 1, expected a dict with id, file_name']),
    Case('empty images list', breakage=edit_json(TRAIN_ANN, lambda c: c.update(images=[])),
         expected=['{d}/' + TRAIN_ANN + ' has an empty "images" list']),
    Case('empty categories list', breakage=edit_json(TRAIN_ANN, lambda c: c.update(categories=[])),
         expected=['{d}/' + TRAIN_ANN + ' has an empty "categories" list']),
    Case('no annotations list', breakage=edit_json(TRAIN_ANN, lambda c: c.pop('annotations')),
         expected=['{d}/' + TRAIN_ANN + ' has no "annotations" list']),
    Case('annotation without area', breakage=edit_json(
        TRAIN_ANN, lambda c: c['annotations'][0].pop('area')),
        expected=['annotations[0] in {d}/' + TRAIN_ANN + ' has no "area"']),
    Case('category id not in categories', breakage=set_field('annotations', 0, 'category_id', 99),
         expected=['annotation 1 in {d}/' + TRAIN_ANN
                   + ' has category_id 99, not in "categories"']),
    Case('category names not the classes', breakage=set_field('categories', 0, 'name', 'disc'),
         expected=["class 'circle' of train_dataloader.dataset.metainfo.classes is not a "
                   'category of {d}/' + TRAIN_ANN]),
    Case('bbox of 3 numbers', breakage=set_field('annotations', 2, 'bbox', [1, 2, 3]),
         expected=['annotation 3 in {d}/' + TRAIN_ANN + ' has bbox [1, 2, 3]']),
    Case('negative width', breakage=edit_json(
        TRAIN_ANN, lambda c: c['annotations'][2]['bbox'].__setitem__(2, -3.0)),
        expected=['annotation 3 in {d}/' + TRAIN_ANN + ' has negative width -3.0']),
    Case('image width 0', breakage=set_field('images', 0, 'width', 0),
         expected=['image 1 in {d}/' + TRAIN_ANN + ' has width 0, expected a positive number']),
    Case('image size differs from the file', breakage=set_field('images', 0, 'width', 40),
         expected=['{d}/train2017/000001.jpg is 64x64 px, but its annotation says 40x64']),
    Case('no image left after filter_cfg',
         options=['train_dataloader.dataset.filter_cfg.min_size=100'],
         expected=['no image of {d}/' + TRAIN_ANN + ' is left after filter_cfg', 'min_size=100']),
    Case('missing image', breakage=remove('train2017/000002.jpg'),
         expected=['image 2 of {d}/' + TRAIN_ANN + ': {d}/train2017/000002.jpg does not exist']),
    Case('zero-byte image', breakage=write_file('train2017/000002.jpg', b''),
         expected=['{d}/train2017/000002.jpg is empty (0 bytes)']),
    Case('text file named .jpg', breakage=write_file('train2017/000002.jpg', b'hello\n' * 40),
         expected=['{d}/train2017/000002.jpg is not a readable image']),
    Case('truncated JPEG', breakage=truncate('train2017/000002.jpg'),
         expected=['{d}/train2017/000002.jpg is truncated']),
    Case('test: bad val annotation', tool='test', breakage=edit_json(
        VAL_ANN, lambda c: c['annotations'][0]['bbox'].__setitem__(3, -1.0)),
        expected=['in {d}/' + VAL_ANN + ' has negative height -1.0']),
    Case('test: zero-byte val image', tool='test', breakage=write_file('val2017/000001.jpg', b''),
         expected=['{d}/val2017/000001.jpg is empty (0 bytes)']),
    # ---- finding 3 through the tools: bad checkpoints
    *[Case(f'test: checkpoint {name}', tool='test', breakage=checkpoint_file(name, content),
           expected=['{t}/' + name]) for name, content in CHECKPOINTS.items()],
    Case('test: checkpoint is a directory', tool='test',
         breakage=checkpoint_file('dir.pth', directory), expected=['{t}/dir.pth']),
    Case('train: --resume zero bytes', flags=['--resume', '{t}/zero.pth'],
         breakage=checkpoint_file('zero.pth', CHECKPOINTS['zero.pth']), expected=['{t}/zero.pth']),
    Case('train: load_from random bytes', options=['load_from={t}/random.pth'],
         breakage=checkpoint_file('random.pth', CHECKPOINTS['random.pth']),
         expected=['{t}/random.pth']),
    Case('train: init_cfg Pretrained truncated',
         config_text="model = dict(backbone=dict(init_cfg=dict(_delete_=True, type='Pretrained', "
                     "checkpoint='{t}/truncated.pth')))",
         breakage=checkpoint_file('truncated.pth', CHECKPOINTS['truncated.pth']),
         expected=['{t}/truncated.pth']),
]


def argv_of(case: Case, data: Path, tmp: Path, checkpoint: Optional[str]) -> List[str]:
    fill = lambda text: text.format(d=data, t=tmp)  # noqa: E731
    config = str(DEMO)
    if case.config_text == '<missing>':
        config = str(tmp / 'no_such_config.py')
    elif case.config_text:
        (tmp / 'config.py').write_text(f'_base_ = {str(DEMO)!r}\n' + fill(case.config_text))
        config = str(tmp / 'config.py')
    options = [f'experiment_name=bad_input_{abs(hash(case.name))}']
    if case.tool == 'train':
        argv = [config, '--work-dir', str(tmp / 'work'), *map(fill, case.flags),
                '--cfg-options', *shrink(data, 1)]
    else:
        argv = [config, checkpoint or str(tmp / 'unused.pth'), '--work-dir', str(tmp / 'work'),
                '--cfg-options', f'test_dataloader.dataset.data_root={data}/',
                f'test_evaluator.ann_file={data}/{VAL_ANN}', 'test_dataloader.num_workers=0',
                'test_dataloader.persistent_workers=False', *SMALL_MODEL]
    return argv + options + [fill(option) for option in case.options]


def check_case(case: Case, tiny_coco: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
               monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``case`` on a copy of ``tiny_coco``: exit 2, one ``error:`` line
    holding every ``expected`` text, no traceback, no payload run."""
    data = tmp_path / 'coco'
    shutil.copytree(tiny_coco, data)
    checkpoint = case.breakage(data, tmp_path) if case.breakage else None
    argv = argv_of(case, data, tmp_path, checkpoint)
    code, err, out = tool_main(case.tool, argv, capsys, monkeypatch)
    errors = [line for line in err.splitlines() if line.startswith('error:')]
    assert code == 2, err[-3000:]
    assert len(errors) == 1, err[-3000:]
    for text in case.expected:
        assert text.format(d=data, t=tmp_path) in errors[0]
    assert 'Traceback' not in err + out
    assert not (tmp_path / 'marker').exists()  # the malicious pickle never ran


@pytest.mark.parametrize('case', CASES, ids=[case.name for case in CASES])
def test_bad_input_is_one_error_line(case: Case, tiny_coco: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    check_case(case, tiny_coco, tmp_path, capsys, monkeypatch)


def test_table_has_at_least_30_distinct_inputs() -> None:
    assert len({case.name for case in CASES}) == len(CASES) >= 30
