"""Config text stored in a checkpoint is read as data, never executed.

mmengine executes ``meta['config']`` in ``Runner.resume`` and the
``message_hub``/``meta['cfg']`` text in ``DetInferencer(model=None,
weights=...)``; each payload below would create ``marker`` that way.
"""
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from mmcv.ops import batched_nms
from mmengine.config import Config
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import MODELS, DefaultScope

import rkan_mmdet  # noqa: F401  (installs safe loading)
from rkan_mmdet.checkpoint_safety import CheckpointError, UnsafeCheckpointError
from rkan_mmdet.checkpoint_safety.config_text import read_config_text
from .toy_models import TINY_DETECTOR, make_flexible_runner, make_runner

pytestmark = pytest.mark.usefixtures('isolate_runner_globals')
DEMO = Path(__file__).resolve().parents[2] / 'configs' / 'demo' / (
    'mask_rcnn_rkanet18_demo.py')


@pytest.mark.parametrize('config', [str(DEMO), TINY_DETECTOR],
                         ids=['demo', 'tiny'])
def test_pretty_text_reads_back_to_the_same_config(config: Any) -> None:
    cfg = Config.fromfile(config) if isinstance(config, str) else Config(
        config)
    assert read_config_text(cfg.pretty_text, 'x') == cfg.to_dict()


@pytest.mark.parametrize('text,problem', [
    ('import os', "line 1 is not a plain `name = value` (Import)"),
    ('x = 1\nx, y = 1, 2', 'line 2 is not a plain `name = value` (Assign)'),
    ("x = open('M', 'w')", 'line 1 calls open()'),
    ("x = dict(a=__import__('os').system('touch M'))",
     'line 1 calls a computed function'),
    ('x = os.environ', 'line 1 reads the attribute .environ'),
    ('x = y', 'line 1 uses the name y'),
    ('x = dict(**y)', 'line 1 calls dict()'),
    ('x = {**y}', 'line 1 unpacks ** in a dict display'),
    ('x = [i for i in range(3)]', 'line 1 has a ListComp expression'),
    ('x = lambda: 0', 'line 1 has a Lambda expression'),
    ("x = f'{open(1)}'", 'line 1 has a JoinedStr expression'),
    ('x = (y := 1)', 'line 1 has a NamedExpr expression'),
    ('x = 1 + 2', 'line 1 has a BinOp expression'),
])
def test_code_in_config_text_is_refused(text: str, problem: str) -> None:
    with pytest.raises(UnsafeCheckpointError) as info:
        read_config_text(text, 'W')
    assert str(info.value) == (
        f'Refusing the config text in W: {problem}; only data (literals, '
        'dict(...), range(...)) is read from a checkpoint')


@pytest.mark.parametrize('text,message', [
    ('x = (', 'the config text in W is not valid Python (line 1)'),
    ('x = ' + '[' * 70 + ']' * 70,
     'the config text in W is not readable: line 1 nests values deeper '
     'than 64'),
    ('x = range(1000000000)',
     'the config text in W is not readable: line 1 has a range longer than '
     '4096'),
    (b'x = 1', 'the config text in W is a bytes, not a string'),
    # issue 27: what escaped the parser as OverflowError/ValueError/TypeError
    ('gpu_ids = range(0, 100000000000000000000000)', 'the config text in W is '
     'not readable: line 1 has range(0, 100000000000000000000000), which has '
     'no length'),
    ('gpu_ids = range(0, 10, 0)', 'the config text in W is not readable: line '
     '1 has range(0, 10, 0), which has no length'),
    ('x = {1, [2]}', 'the config text in W is not readable: line 1 has an '
     'unhashable set item'),
    ('x = {(1, [2]): 3}', 'the config text in W is not readable: line 1 has '
     'an unhashable dict key'),
])
def test_unreadable_config_text_is_one_line(text: Any, message: str) -> None:
    with pytest.raises(CheckpointError) as info:
        read_config_text(text, 'W')
    assert str(info.value) == message
    assert not isinstance(info.value, UnsafeCheckpointError)  # not code


# -- Runner.resume reads meta['config'] -----------------------------------
@pytest.fixture(scope='module')
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An honest training checkpoint of the toy runner (iteration 2)."""
    work_dir = tmp_path_factory.mktemp('config_text_run')
    make_runner(work_dir, 'first', max_iters=2).train()
    return work_dir / 'iter_2.pth'


def with_meta_config(trained: Path, path: Path, text: str) -> str:
    checkpoint = torch.load(trained)
    checkpoint['meta']['config'] = text
    torch.save(checkpoint, path)
    return str(path)


def resume(path: str, work_dir: Path, flexible: bool = False) -> Any:
    make = make_flexible_runner if flexible else make_runner
    runner = make(work_dir, 'resumed', 3, load_from=path, resume=True)
    runner.train()
    return runner


@pytest.mark.parametrize('flexible', [False, True],
                         ids=['Runner', 'FlexibleRunner'])
@pytest.mark.parametrize('payload', [
    "open({marker!r}, 'w')", "x = __import__('os').system('touch {marker}')",
    "gpu_ids = [0]\nx = exec(\"open({marker!r}, 'w')\")"
])
def test_resume_never_executes_meta_config(trained: Path, tmp_path: Path,
                                           payload: str,
                                           flexible: bool) -> None:
    marker = str(tmp_path / 'marker')
    path = with_meta_config(trained, tmp_path / 'evil.pth',
                            payload.format(marker=marker))
    with pytest.raises(UnsafeCheckpointError) as info:
        resume(path, tmp_path, flexible)
    assert str(info.value).startswith(
        f"Refusing the config text in meta['config'] of '{path}': line ")
    assert not Path(marker).exists()
    # what mmengine would have done with it
    Config.fromstring(payload.format(marker=marker), file_format='.py')
    assert Path(marker).exists()


@pytest.mark.parametrize('flexible', [False, True],
                         ids=['Runner', 'FlexibleRunner'])
def test_resume_still_checks_gpu_ids_read_as_data(trained: Path, tmp_path: Path,
                                                   flexible: bool) -> None:
    two_gpus = with_meta_config(trained, tmp_path / 'two.pth',
                                "gpu_ids = range(0, 2)\nx = dict(a='b')\n")
    with pytest.raises(CheckpointError) as info:  # mmengine: a traceback
        resume(two_gpus, tmp_path, flexible)
    assert str(info.value) == (
        f"checkpoint '{two_gpus}' cannot be resumed from: its meta['config'] "
        'gpu_ids say it was trained on 2 GPU(s), and this run has 1 '
        'process(es); resume with as many, or set auto_scale_lr.enable=True')
    one_gpu = with_meta_config(trained, tmp_path / 'one.pth', 'gpu_ids = [0]')
    assert resume(one_gpu, tmp_path, flexible).iter == 3


def test_resume_needs_a_training_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / 'weights.pth'
    torch.save({'state_dict': {'lin.weight': torch.zeros(1, 2)}}, path)
    with pytest.raises(CheckpointError) as info:
        resume(str(path), tmp_path)
    assert str(info.value) == (
        f"checkpoint '{path}' cannot be resumed from: it has no epoch, iter, "
        'message_hub (weights only? use load_from instead)')


# -- DetInferencer(model=None, weights=...) reads the stored config -------
def detector_checkpoint(path: Path, cfg_text: str,
                        where: str = 'meta') -> str:
    """The tiny detector's weights with ``cfg_text`` stored where mmengine
    stores it (``meta['cfg']`` or the message hub's runtime info)."""
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MMDET_MODELS.build(Config(TINY_DETECTOR).model)
    checkpoint = dict(state_dict=model.state_dict(),
                      meta=dict(dataset_meta=dict(classes=('a', 'b'))))
    if where == 'meta':
        checkpoint['meta']['cfg'] = cfg_text
    else:
        checkpoint['message_hub'] = dict(runtime_info=dict(cfg=cfg_text))
    torch.save(checkpoint, path)
    return str(path)


def det_inferencer(weights: str) -> Any:
    from mmdet.apis import DetInferencer
    return DetInferencer(model=None, weights=weights, device='cpu',
                         show_progress=False)


@pytest.mark.parametrize('where', ['meta', 'message_hub'])
def test_det_inferencer_builds_an_honest_checkpoint_without_config(
        tmp_path: Path, where: str) -> None:
    text = Config(TINY_DETECTOR).pretty_text  # as mmengine stores it
    weights = detector_checkpoint(tmp_path / 'honest.pth', text, where)
    inferencer = det_inferencer(weights)
    saved = torch.load(weights)['state_dict']
    loaded = inferencer.model.state_dict()
    assert saved.keys() == loaded.keys()
    assert all(torch.equal(saved[k], loaded[k]) for k in saved)
    assert inferencer.model.dataset_meta['classes'] == ('a', 'b')
    found = inferencer(np.zeros((64, 64, 3), np.uint8))['predictions'][0]
    assert 1 <= len(found['labels']) == len(found['bboxes']) <= 5
    # the stored visualizer may not choose where files are written
    assert inferencer.visualizer._vis_backends == {}
    assert 'vis_backends' not in inferencer.cfg.visualizer


def as_text(config: dict) -> str:
    """Config text as mmengine stores it, without ``pretty_text``'s slow
    yapf formatting (``repr`` writes dicts as displays, which read alike)."""
    return ''.join(f'{name} = {value!r}\n' for name, value in config.items())


def with_model(**changes: Any) -> dict:
    """:data:`TINY_DETECTOR` with ``changes`` to its model."""
    return {**TINY_DETECTOR, 'model': {**TINY_DETECTOR['model'], **changes}}


def _evil_config(case: str, marker: Path) -> str:
    run = f"__import__('os').system('touch {marker}')"
    backbone = TINY_DETECTOR['model']['backbone']
    return {
        'code': lambda: f"model = dict(type=open({str(marker)!r}, 'w'))",
        'import by type': lambda: as_text({
            **TINY_DETECTOR, 'model':
            dict(type='subprocess.run', args=f'touch {marker}', shell=True)
        }),
        'eval of nms type': lambda: as_text(
            with_model(test_cfg=dict(nms=dict(type=run)))),
        'eval of another string': lambda: as_text(
            with_model(backbone={**backbone, 'style': run})),
        'import by scope': lambda: as_text(with_model(_scope_='antigravity')),
        **{f'collate_fn {name}': (lambda name=name: as_text({
            **TINY_DETECTOR, 'test_dataloader': {
                **TINY_DETECTOR['test_dataloader'], 'collate_fn': name}}))
           for name in COLLATE_PAYLOADS},
    }[case]()


#: collate_fn strings that mmengine's FUNCTIONS.get would import and call
COLLATE_PAYLOADS = ('trust27_payload.f', 'this.s', 'os.system', 'builtins.print')


@pytest.mark.parametrize('case,problem', [
    ('code', 'line 1 calls open()'),
    ('import by type', "model.type = 'subprocess.run' is not a registered "
     'name (building it would import it)'),
    ('eval of nms type', 'model.test_cfg.nms.type = "__import__(\'os\')'),
    ('eval of another string', "model.backbone.style = \"__import__('os')"),
    ('import by scope', "model._scope_ = 'antigravity' is not a registered "
     'scope (building it would import it)'),
    *[(f'collate_fn {name}', f"test_dataloader.collate_fn = '{name}' is not a "
       'registered function (looking it up would import it)')
      for name in COLLATE_PAYLOADS],
])
@pytest.mark.parametrize('where', ['meta', 'message_hub'])
def test_det_inferencer_refuses_a_config_that_would_run_code(
        tmp_path: Path, case: str, problem: str, where: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / 'marker'
    (tmp_path / 'trust27_payload.py').write_text(  # imported = marker
        f'open({str(marker)!r}, "w").close()\ndef f(batch):\n    return batch\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    weights = detector_checkpoint(tmp_path / 'evil.pth',
                                  _evil_config(case, marker), where)
    with pytest.raises(UnsafeCheckpointError) as info:
        det_inferencer(weights)
    stored = ("meta['cfg']" if where == 'meta' else
              "message_hub['runtime_info']['cfg']")
    kind = 'config text' if case == 'code' else 'config'
    assert str(info.value).startswith(
        f"Refusing the {kind} in {stored} of '{weights}': {problem}")
    assert not marker.exists()


def test_the_collate_fn_sink_is_live(tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """mmengine's FUNCTIONS.get imports an unregistered collate_fn name."""
    from mmengine.registry import FUNCTIONS
    marker = tmp_path / 'marker'
    (tmp_path / 'trust27_live.py').write_text(
        f'open({str(marker)!r}, "w").close()\ndef f(batch):\n    return batch\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert FUNCTIONS.get('trust27_live.f') is not None and marker.exists()


def test_the_stored_config_is_rebuilt_from_what_inference_reads(
        tmp_path: Path) -> None:
    from rkan_mmdet.checkpoint_safety.stored_config import checkpoint_config
    config = {**TINY_DETECTOR, 'custom_imports': dict(imports=['antigravity']),
              'work_dir': '/tmp/elsewhere', 'model': with_model(init_cfg=dict(
                  type='Pretrained', checkpoint='http://x/y.pth'))['model']}
    config['test_dataloader'] = {**config['test_dataloader'],
                                 'worker_init_fn': dict(type='os.system'),
                                 'collate_fn': 'pseudo_collate'}
    kept = checkpoint_config({'meta': {'cfg': as_text(config)}}, 'w.pth')
    assert sorted(kept) == ['default_scope', 'model', 'test_dataloader',
                            'visualizer']
    assert 'init_cfg' not in kept['model'] and 'init_cfg' not in str(kept)
    assert sorted(kept['test_dataloader']) == ['collate_fn', 'dataset']
    assert kept['visualizer'] == dict(type='DetLocalVisualizer',
                                      name='visualizer')


def test_the_refused_config_sinks_are_live(tmp_path: Path) -> None:
    """Building by an unregistered type imports it, and mmcv eval()s the nms
    type: without the checks, those configs run their command."""
    marker = tmp_path / 'by_type'
    MODELS.build(dict(type='subprocess.run', args=f'touch {marker}',
                      shell=True))
    assert marker.exists()
    marker = tmp_path / 'by_nms'
    with pytest.raises(TypeError):  # os.system's 0 is not an nms function
        batched_nms(torch.zeros(1, 4), torch.ones(1), torch.zeros(1),
                    dict(type=f"__import__('os').system('touch {marker}')",
                         iou_threshold=0.5))
    assert marker.exists()
