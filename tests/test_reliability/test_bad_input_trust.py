"""Issue 27, findings 6-8 through the tools: inputs that still ended in a
traceback or were silently accepted, each now one ``error:`` line, exit 2
(the machinery of :mod:`.test_bad_input`, in-process)."""
from pathlib import Path

import pytest

from tests.test_utils.checkpoint_payloads import invalid_utf32_scalar, write_torch_zip
from .test_bad_input import (TRAIN_ANN, Case, checkpoint_file, check_case, edit_json,
                             set_field, torch_bytes)

HUB = {'log_scalars': {}, 'runtime_info': {}, 'resumed_keys': {}}


def resumable(tmp: Path, iter_: int = 0, config: str = '', **meta) -> bytes:
    meta = {'epoch': 0, 'iter': iter_, **meta, **({'config': config} if config else {})}
    return torch_bytes({'state_dict': {}, 'meta': meta, 'message_hub': HUB}, tmp)


def invalid_utf32(tmp: Path) -> bytes:
    """A checkpoint whose numpy U1 scalar holds a surrogate (numpy: SystemError)."""
    write_torch_zip(tmp / 'u1.tmp', b'\x80\x02' + invalid_utf32_scalar() + b'.')
    return (tmp / 'u1.tmp').read_bytes()


def duplicate_file_name(coco: dict) -> None:
    coco['images'][1]['file_name'] = coco['images'][0]['file_name']


CASES = [
    # ---- finding 7: --cfg-options, custom_hooks, seed, negative sizes
    Case('cfg-options without =', options=['model.backbone.depth'],
         expected=["--cfg-options 'model.backbone.depth': expected key=value"]),
    Case('cfg-options unbalanced bracket', options=['model.neck.in_channels=[64,128'],
         expected=["--cfg-options 'model.neck.in_channels=[64,128': unbalanced brackets"]),
    Case('cfg-options =1', options=['=1'], expected=["--cfg-options '=1': expected key=value"]),
    Case('custom_hooks holds a string', config_text="custom_hooks = ['EMAHook']",
         expected=["custom_hooks.0='EMAHook': expected a dict with a type"]),
    Case("randomness.seed='abc'", options=['randomness.seed=abc'],
         expected=["randomness.seed='abc': expected an int in [0, 2**32) or None"]),
    Case('neck out_channels=-1', options=['model.neck.out_channels=-1'],
         expected=['model.neck.out_channels=-1: ', 'negative dimension -1']),
    # ---- finding 8: silently accepted
    Case('negative anchor ratio', options=['model.rpn_head.anchor_generator.ratios=[-0.5,1.0]'],
         expected=['model.rpn_head.anchor_generator.ratios=[-0.5, 1.0]: expected positive']),
    Case('max_iters=-3', options=['train_cfg.max_iters=-3'],
         expected=['train_cfg.max_iters=-3: expected a positive number']),
    Case("milestones='abc'", options=['param_scheduler.1.milestones=abc'],
         expected=["param_scheduler.1.milestones='abc': expected a list"]),
    Case('duplicate file_name', breakage=edit_json(TRAIN_ANN, duplicate_file_name),
         expected=['image 2 in {d}/' + TRAIN_ANN + " has file_name '000001.jpg', as image 1"]),
    Case("iscrowd='no'", breakage=set_field('annotations', 0, 'iscrowd', 'no'),
         expected=['annotation 1 in {d}/' + TRAIN_ANN + " has iscrowd 'no', expected 0 or 1"]),
    # ---- finding 6: malformed checkpoint content, through the tools
    Case('train: --resume meta iter -5', flags=['--resume', '{t}/iter.pth'],
         breakage=checkpoint_file('iter.pth', lambda t: resumable(t, -5)),
         expected=["'{t}/iter.pth' cannot be resumed from: its meta['iter'] is -5"]),
    Case('train: --resume seed abc', flags=['--resume', '{t}/seed.pth'],
         breakage=checkpoint_file('seed.pth', lambda t: resumable(t, seed='abc')),
         expected=["'{t}/seed.pth' cannot be resumed from: its meta['seed'] is 'abc'"]),
    Case('train: --resume gpu_ids of 4 GPUs', flags=['--resume', '{t}/gpus.pth'],
         breakage=checkpoint_file('gpus.pth', lambda t: resumable(t, config='gpu_ids = [0, 1, 2, 3]')),
         expected=["'{t}/gpus.pth' cannot be resumed from: its meta['config'] gpu_ids say it "
                   'was trained on 4 GPU(s)']),
    Case('train: --resume gpu_ids range step 0', flags=['--resume', '{t}/range.pth'],
         breakage=checkpoint_file('range.pth', lambda t: resumable(t, config='gpu_ids = range(0, 10, 0)')),
         expected=["meta['config'] of '{t}/range.pth' is not readable: line 1 has range(0, 10, 0)"]),
    Case('test: numpy U1 not UTF-32', tool='test',
         breakage=checkpoint_file('u1.pth', invalid_utf32),
         expected=["'{t}/u1.pth'", 'text that is not UTF-32']),
    Case('train: load_from numpy U1 not UTF-32', options=['load_from={t}/u1.pth'],
         breakage=checkpoint_file('u1.pth', invalid_utf32), expected=["'{t}/u1.pth'"]),
]


@pytest.mark.parametrize('case', CASES, ids=[case.name for case in CASES])
def test_bad_input_is_one_error_line(case: Case, tiny_coco: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    check_case(case, tiny_coco, tmp_path, capsys, monkeypatch)
