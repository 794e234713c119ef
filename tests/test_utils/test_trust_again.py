"""Issue 27 ("Trust, again"): the routes a red team found, each closed.

Loader level (in-process, tiny files): class state a checkpoint could change,
arrays that hang or crash numpy, empty arrays, the real name of a refused
global, downloads that overwrite other cached files, and deletions of paths a
checkpoint names.
"""
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

import rkan_mmdet  # noqa: F401  (installs safe loading)
from rkan_mmdet.checkpoint_safety import CheckpointError, UnsafeCheckpointError
from .checkpoint_payloads import call, glob, text, write_torch_zip
from .local_http import start_http_server
from .toy_models import make_runner, toy_run

pytestmark = pytest.mark.usefixtures('isolate_runner_globals')


def test_loading_never_changes_history_buffer_statistics(tmp_path: Path) -> None:
    """A message hub pickled while 'mean' meant max: loading it changes no
    class-level state, and its buffer's mean is the mean."""
    methods = HistoryBuffer._statistics_methods
    buffer = HistoryBuffer()
    for value in (7.0, 1.0, 3.0):
        buffer.update(value)
    saved_mean = methods['mean']
    methods['mean'] = HistoryBuffer.max
    try:
        torch.save({'message_hub': {'loss': buffer}}, tmp_path / 'remap.pth')
    finally:
        methods['mean'] = saved_mean
    loaded = _load_checkpoint(str(tmp_path / 'remap.pth'))['message_hub']['loss']
    assert HistoryBuffer._statistics_methods['mean'] is saved_mean
    assert type(loaded) is HistoryBuffer
    assert loaded.statistics('mean') == pytest.approx(11.0 / 3)
    assert loaded.statistics('max') == 7.0


def test_empty_arrays_and_an_empty_history_buffer_load(tmp_path: Path) -> None:
    hub = MessageHub('trust_again_empty')
    hub.update_scalar('never', 1.0)
    hub.log_scalars['never'] = HistoryBuffer()
    torch.save({'a': np.array([]), 'b': np.zeros((0, 3), np.int64),
                'hub': hub.state_dict()}, tmp_path / 'empty.pth')
    loaded = _load_checkpoint(str(tmp_path / 'empty.pth'))
    assert loaded['a'].shape == (0, ) and loaded['a'].dtype == np.float64
    assert loaded['b'].shape == (0, 3) and loaded['b'].dtype == np.int64
    empty = loaded['hub']['log_scalars']['never']
    assert type(empty) is HistoryBuffer and len(empty._log_history) == 0


def test_a_history_buffer_state_is_checked(tmp_path: Path) -> None:
    state = b'}' + text('max_length') + b'J\xff\xff\xff\xff' + b's'
    path = tmp_path / 'hb.pth'
    write_torch_zip(path, b'\x80\x02' + call(glob(
        'mmengine.logging.history_buffer', 'HistoryBuffer')) + state + b'b.')
    with pytest.raises(CheckpointError) as info:
        _load_checkpoint(str(path))
    assert str(info.value).endswith("(HistoryBuffer state refused: dict ['max_length'])")


def test_a_refusal_names_the_real_global(tmp_path: Path) -> None:
    """Protocol 2 writes subprocess.run under its Python 2 name
    ``commands run``; the refusal says what it is."""
    class Run:
        def __reduce__(self):
            return subprocess.run, ('true', )
    torch.save({'x': Run()}, tmp_path / 'run.pth')
    with pytest.raises(UnsafeCheckpointError, match=r'global\(s\) subprocess\.run;'):
        _load_checkpoint(str(tmp_path / 'run.pth'))


@pytest.fixture
def http_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    root = tmp_path / 'srv'
    root.mkdir()
    server, base_url = start_http_server(root, monkeypatch)
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    try:
        yield root, base_url
    finally:
        server.shutdown()
        server.server_close()


def test_a_download_never_overwrites_another_cached_file(http_root: tuple,
                                                          tmp_path: Path) -> None:
    """A one-member zip (torch.hub would extract it over the member's name)
    is loaded as the file it is and refused; the other file is intact."""
    root, base_url = http_root
    cache = tmp_path / 'hub' / 'checkpoints'
    cache.mkdir(parents=True)
    (cache / 'resnet18-f37072fd.pth').write_bytes(b'the real weights')
    with zipfile.ZipFile(root / 'evil.pth', 'w') as zf:
        zf.writestr('resnet18-f37072fd.pth', b'replaced')
    url = f'{base_url}/evil.pth'
    with pytest.raises(CheckpointError) as info:
        _load_checkpoint(url)
    assert str(info.value) == (f"checkpoint '{url}' is not a checkpoint: it is a zip "
                               'archive without data.pkl, not written by torch.save')
    assert (cache / 'resnet18-f37072fd.pth').read_bytes() == b'the real weights'
    assert sorted(p.name for p in cache.iterdir()) == ['evil.pth', 'resnet18-f37072fd.pth']


def test_a_url_naming_the_parent_folder_is_refused(http_root: tuple) -> None:
    url = f'{http_root[1]}/x/..'
    with pytest.raises(CheckpointError, match=r"names no plain file to download \('\.\.'\)"):
        _load_checkpoint(url)


# -- paths a resumed checkpoint names are deleted only inside the work dir --
def test_best_ckpt_outside_the_work_dir_is_never_deleted(tmp_path: Path) -> None:
    """A resumed message hub's best_ckpt names a folder elsewhere: the first
    new best checkpoint is saved, the folder stays."""
    from rkan_mmdet.engine import KillSafeCheckpointHook
    victim = tmp_path / 'victim'
    victim.mkdir()
    (victim / 'keep.txt').write_text('x')
    work = tmp_path / 'work'
    runner = make_runner(work, 'best', 1)
    logs = work / 'logs'
    logs.mkdir(parents=True)
    for named in (str(victim), str(work / '..' / 'victim'), str(logs)):
        hook = KillSafeCheckpointHook(interval=1, by_epoch=False,
                                      save_best='acc', rule='greater')
        runner.message_hub.update_info('best_ckpt', named)
        runner.message_hub.update_info('best_score', 0.0)
        hook.before_train(runner)
        assert hook.best_ckpt_path == named
        hook._save_best_checkpoint(runner, {'acc': 1.0})
        assert (victim / 'keep.txt').exists() and logs.is_dir()
        assert (work / 'best_acc_iter_0.pth').is_file()
    # a superseded best checkpoint inside the work dir is still deleted
    runner.message_hub.update_info('best_ckpt', str(work / 'best_acc_iter_0.pth'))
    hook = KillSafeCheckpointHook(interval=1, by_epoch=False, save_best='acc',
                                  rule='greater')
    hook.before_train(runner)
    runner.train_loop._iter = 5
    hook._save_best_checkpoint(runner, {'acc': 2.0})
    assert sorted(p.name for p in work.glob('best_*')) == ['best_acc_iter_5.pth']


def test_keep_n_counts_the_checkpoints_on_disk(tmp_path: Path) -> None:
    """Orphans of kills between a save and its deletions (iter_1..3 with
    keep 1) are deleted by the next save; a later run's files are not."""
    work = tmp_path / 'work'
    work.mkdir()
    for step in (1, 2, 3, 9):
        (work / f'iter_{step}.pth').write_bytes(b'orphan')
    runner = Runner(**toy_run(work, 'keep', 4), default_hooks=dict(checkpoint=dict(
        type='KillSafeCheckpointHook', interval=4, by_epoch=False, max_keep_ckpts=2)))
    runner.train()
    assert sorted(p.name for p in work.glob('iter_*.pth')) == [
        'iter_3.pth', 'iter_4.pth', 'iter_9.pth']
    assert (work / 'iter_4.pth').read_bytes() != b'orphan'


def test_the_demo_checkpoint_config_needs_no_import() -> None:
    """ThreadedSingleRoIExtractor (the demo's) passes the registry check in a
    fresh process that imported only rkan_mmdet."""
    code = ('import rkan_mmdet\nfrom rkan_mmdet.checkpoint_safety.stored_config import '
            'check_buildable\ncheck_buildable({"model": {"type": '
            '"ThreadedSingleRoIExtractor"}}, "w")\nprint("ok")')
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert done.stdout.strip().endswith('ok'), done.stderr[-2000:]
