"""Bad input ends tools/train.py and tools/test.py with one line naming the
file or value, not a traceback from deep inside mmdet.

Missing paths are ``_data_check``'s (exit 1; its first line names the path,
the next lines give the expected layout), broken COCO files are
``_annotation_check``'s and bad config values are the tools' own
``error: <message>`` (exit 2). The data cases run the tools' ``main()``
in-process (they exit before the Runner is built); the backbone case builds
the model, so it runs ``tools/train.py`` as a script.
"""
import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable, List

import pytest

from .conftest import DEMO, PYTHON, ROOT, run, shrink

TRAIN_ANN = 'annotations/instances_train2017.json'
VAL_ANN = 'annotations/instances_val2017.json'


def load_file(name: str, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, ROOT / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_tool(name: str) -> ModuleType:
    """``tools/<name>.py`` as a module (``tools/`` is no package on ``sys.path``:
    the tools import their helpers as top-level modules)."""
    for helper in ('_data_check', '_annotation_check', '_checked_runner'):
        if helper not in sys.modules:
            sys.modules[helper] = load_file(helper, helper)
    return load_file(name, f'rkan_reliability_{name}')


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    coco = json.loads(path.read_text())
    change(coco)
    path.write_text(json.dumps(coco))


def negative(key: int) -> Callable[[dict], None]:
    def change(coco: dict) -> None:
        coco['annotations'][2]['bbox'][key] = -3.0
    return change


def remove(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()


# (case, how to break the copy of the data, expected first stderr line, exit code)
CASES = [
    ('missing data root', lambda d: remove(d), 1,
     'Dataset not found: {d} does not exist (config mask_rcnn_rkanet18_demo.py).'),
    ('missing annotation file', lambda d: remove(d / TRAIN_ANN), 1,
     'Dataset not found: {d}/' + TRAIN_ANN + ' does not exist '
     '(config mask_rcnn_rkanet18_demo.py).'),
    ('invalid JSON', lambda d: (d / TRAIN_ANN).write_text('{"images": [1,]'), 2,
     'error: {d}/' + TRAIN_ANN + ' is not valid JSON: Expecting value: line 1 column 15 '
     '(char 14)'),
    ('missing image file', lambda d: remove(d / 'train2017' / '000002.jpg'), 2,
     'error: image 2 in {d}/' + TRAIN_ANN + ' refers to {d}/train2017/000002.jpg, '
     'which does not exist'),
    ('negative width', lambda d: edit_json(d / TRAIN_ANN, negative(2)), 2,
     'error: annotation 3 in {d}/' + TRAIN_ANN + ' has negative width -3.0'),
    ('negative height', lambda d: edit_json(d / TRAIN_ANN, negative(3)), 2,
     'error: annotation 3 in {d}/' + TRAIN_ANN + ' has negative height -3.0'),
    ('empty category list', lambda d: edit_json(d / TRAIN_ANN, lambda c: c.update(categories=[])),
     2, 'error: {d}/' + TRAIN_ANN + ' has an empty "categories" list'),
    ('no annotations key', lambda d: edit_json(d / TRAIN_ANN, lambda c: c.pop('annotations')),
     2, 'error: {d}/' + TRAIN_ANN + ' has no "annotations" list'),
]


def stderr_of_main(tool: str, argv: List[str], capsys: pytest.CaptureFixture,
                   monkeypatch: pytest.MonkeyPatch) -> tuple:
    """(exit code, stderr lines) of ``tools/<tool>.py`` ``main()`` on ``argv``."""
    module = load_tool(tool)
    monkeypatch.setattr(sys, 'argv', [f'{tool}.py', *argv])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        module.main()
    return exit_info.value.code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize('case,breakage,code,message', CASES, ids=[c[0] for c in CASES])
def test_train_reports_bad_data_in_one_line(
        case: str, breakage: Callable[[Path], None], code: int, message: str,
        tiny_coco: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / 'coco'
    shutil.copytree(tiny_coco, data)
    breakage(data)
    argv = [str(DEMO), '--work-dir', str(tmp_path / 'work'),
            '--cfg-options', *shrink(data, 1)]
    exit_code, lines = stderr_of_main('train', argv, capsys, monkeypatch)
    assert (exit_code, lines[0]) == (code, message.format(d=data))
    assert code == 1 or len(lines) == 1


def test_test_tool_checks_its_annotations(tiny_coco: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / 'coco'
    shutil.copytree(tiny_coco, data)
    edit_json(data / VAL_ANN, negative(2))
    options = [f'test_dataloader.dataset.data_root={data}/',
               f'test_evaluator.ann_file={data}/{VAL_ANN}']
    argv = [str(DEMO), 'unused.pth', '--work-dir', str(tmp_path / 'work'),
            '--cfg-options', *options]
    ann_id = json.loads((data / VAL_ANN).read_text())['annotations'][2]['id']
    assert stderr_of_main('test', argv, capsys, monkeypatch) == (
        2, [f'error: annotation {ann_id} in {data}/{VAL_ANN} has negative width -3.0'])


def test_bad_backbone_argument_is_one_line(tiny_coco: Path, tmp_path: Path) -> None:
    done = run([PYTHON, 'tools/train.py', str(DEMO), '--work-dir', str(tmp_path),
                '--cfg-options', *shrink(tiny_coco, 1), 'model.backbone.reduce_factor=3'])
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        'error: reduce_factor 3 does not divide the 256 input channels of stage 4')
    assert 'Traceback' not in done.stderr
