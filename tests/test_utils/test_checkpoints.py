"""mmengine checkpoints load weights-only once ``rkan_mmdet`` is imported."""
import builtins
import functools
import http.server
import os
import pickle
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModule
from mmengine.runner import Runner, load_checkpoint
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

import rkan_mmdet  # noqa: F401  (installs safe loading)
from rkan_mmdet.checkpoint_safety import MMENGINE_CHECKPOINT_GLOBALS, UnsafeCheckpointError
from .toy_models import make_runner

# What a Runner checkpoint needs beyond torch's defaults (numpy 2 names).
RUNNER_CHECKPOINT_GLOBALS = {
    'builtins.getattr',  # HistoryBuffer._statistics_methods values
    'mmengine.logging.history_buffer.HistoryBuffer',
    'numpy._core.multiarray._reconstruct',
    'numpy._core.multiarray.scalar',
    'numpy.dtype',
    'numpy.ndarray',
}


pytestmark = pytest.mark.usefixtures('isolate_runner_globals')


class RecordStartHook(Hook):
    """Records the iteration and weights the train loop starts from."""

    def before_train(self, runner: Runner) -> None:
        self.iter = runner.iter
        self.weight = runner.model.lin.weight.detach().clone()
        state = runner.optim_wrapper.optimizer.state_dict()['state']
        self.momentum = state[0]['momentum_buffer'].clone()


@pytest.fixture(scope='module')
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Runner]:
    work_dir = tmp_path_factory.mktemp('run')
    runner = make_runner(work_dir, 'first', max_iters=3)
    runner.train()
    return work_dir, runner


def test_runner_checkpoint_needs_exactly_the_allowlisted_globals(
        trained: tuple[Path, Runner]) -> None:
    ckpt = trained[0] / 'iter_2.pth'
    serialization = torch.serialization
    assert serialization.get_unsafe_globals_in_checkpoint(ckpt) == []
    saved = serialization.get_safe_globals()
    serialization.clear_safe_globals()
    try:
        needed = set(serialization.get_unsafe_globals_in_checkpoint(ckpt))
    finally:
        serialization.add_safe_globals(saved)
    assert needed == RUNNER_CHECKPOINT_GLOBALS
    assert needed <= {name for _, name in MMENGINE_CHECKPOINT_GLOBALS}


def test_runner_resumes_iteration_weights_optimizer_and_history(
        trained: tuple[Path, Runner], tmp_path: Path) -> None:
    work_dir, _ = trained
    ckpt = work_dir / 'iter_2.pth'
    saved = torch.load(ckpt, weights_only=True)
    record = RecordStartHook()
    runner = make_runner(tmp_path,
                         'resumed',
                         max_iters=3,
                         load_from=str(ckpt),
                         resume=True,
                         custom_hooks=[record])
    runner.train()

    assert record.iter == 2
    assert torch.equal(record.weight, saved['state_dict']['lin.weight'])
    assert runner.iter == 3  # exactly one more iteration ran
    saved_lr = saved['message_hub']['log_scalars']['train/lr']
    lr_log, lr_count = runner.message_hub.get_scalar('train/lr').data
    assert saved_lr.data[0].tolist() == [0.1, 0.1]
    assert lr_log.tolist() == [0.1, 0.1, 0.1]  # 2 restored + 1 new
    assert lr_count.tolist() == [1, 1, 1]
    assert runner.message_hub.get_scalar('train/lr').statistics('min') == 0.1
    assert torch.equal(record.momentum,
                       saved['optimizer']['state'][0]['momentum_buffer'])


def test_resume_from_latest_checkpoint_in_work_dir(
        trained: tuple[Path, Runner]) -> None:
    work_dir, first = trained
    record = RecordStartHook()
    runner = make_runner(work_dir,
                         'auto',
                         max_iters=3,
                         resume=True,
                         custom_hooks=[record])
    runner.train()
    assert record.iter == 3  # iter_3.pth written at the end of training
    assert torch.equal(record.weight, first.model.lin.weight.detach())
    assert runner.iter == 3


class Backbone(BaseModule):

    def __init__(self, init_cfg: dict) -> None:
        super().__init__(init_cfg=init_cfg)
        self.lin = nn.Linear(3, 2)


def test_pretrained_init_cfg_loads_saved_weights(tmp_path: Path) -> None:
    torch.manual_seed(1)
    source = nn.Linear(3, 2)
    path = tmp_path / 'plain.pth'
    torch.save({f'lin.{k}': v for k, v in source.state_dict().items()}, path)
    # an mmengine-style file: prefixed keys plus numpy metadata
    wrapped = tmp_path / 'wrapped.pth'
    torch.save(
        dict(meta=dict(eta=np.float64(1.5), n=np.int64(3),
                       hist=np.arange(3.0)),
             state_dict={
                 f'backbone.lin.{k}': v
                 for k, v in source.state_dict().items()
             }), wrapped)

    plain = Backbone(dict(type='Pretrained', checkpoint=str(path)))
    plain.init_weights()
    prefixed = Backbone(
        dict(type='Pretrained', checkpoint=str(wrapped), prefix='backbone.'))
    prefixed.init_weights()
    for model in (plain, prefixed):
        assert torch.equal(model.lin.weight, source.weight)
        assert torch.equal(model.lin.bias, source.bias)
    meta = _load_checkpoint(str(wrapped))['meta']
    assert meta['eta'] == np.float64(1.5) and type(meta['eta']) is np.float64
    assert meta['hist'].tolist() == [0.0, 1.0, 2.0]


class SystemPayload:

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return os.system, (f'touch {self.marker}', )


class OpenPayload(SystemPayload):

    def __reduce__(self) -> tuple:
        return builtins.open, (str(self.marker), 'w')


class ExecPayload(SystemPayload):

    def __reduce__(self) -> tuple:
        return builtins.exec, (f'open({str(self.marker)!r}, "w")', )


def write_payload(path: Path, payload: Any, fmt: str) -> None:
    if fmt == 'torch.save':  # zip archive, pickle protocol 2
        torch.save({'state_dict': payload}, path)
    else:  # raw pickle, protocol 5 (FRAME / STACK_GLOBAL opcodes)
        with open(path, 'wb') as f:
            pickle.dump({'state_dict': payload}, f, protocol=5)


PAYLOADS = [
    (SystemPayload, 'torch.save', 'posix.system'),
    (OpenPayload, 'torch.save', 'io.open'),
    (SystemPayload, 'pickle-5', 'posix.system'),
    (ExecPayload, 'pickle-5', 'builtins.exec'),
]


@pytest.mark.filterwarnings('ignore:Detected pickle protocol')
@pytest.mark.parametrize('payload,fmt,forbidden', PAYLOADS)
def test_malicious_checkpoint_is_refused_without_running(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload: type,
        fmt: str, forbidden: str) -> None:
    # even the torch escape hatch must not re-enable full unpickling
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    marker = tmp_path / 'PWNED'
    path = tmp_path / 'evil.pth'
    write_payload(path, payload(marker), fmt)
    expected = (f"Refusing to load checkpoint '{path}': it needs forbidden "
                f'global(s) {forbidden}; only tensors and '
                'rkan_mmdet.checkpoint_safety.MMENGINE_CHECKPOINT_GLOBALS are allowed.')

    def init_from_pretrained() -> None:
        Backbone(dict(type='Pretrained', checkpoint=str(path))).init_weights()

    loaders = [
        lambda: _load_checkpoint(str(path)),
        lambda: load_checkpoint(nn.Linear(1, 1), str(path)),
        init_from_pretrained,
    ]
    for load in loaders:
        with pytest.raises(UnsafeCheckpointError) as info:
            load()
        assert str(info.value) == expected
        assert info.value.__suppress_context__
    assert not marker.exists()


def test_getattr_is_limited_to_history_buffer_statistics(
        tmp_path: Path) -> None:
    from mmengine.logging import HistoryBuffer

    class Walk:

        def __reduce__(self) -> tuple:
            return getattr, (HistoryBuffer, '__init__')

    path = tmp_path / 'walk.pth'
    torch.save({'x': Walk()}, path)
    with pytest.raises(UnsafeCheckpointError,
                       match=r'forbidden global\(s\) '
                       r'builtins\.getattr\(HistoryBuffer,__init__\);'):
        _load_checkpoint(str(path))


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / 'srv'
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hub_dir = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}', root
    finally:
        torch.hub.set_dir(hub_dir)
        server.shutdown()
        server.server_close()


def test_http_and_torchvision_schemes_load_weights_only(
        http_root: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ('http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'):
        monkeypatch.delenv(var, raising=False)
    url, root = http_root
    weights = {'w': torch.arange(4.0), 'meta': np.float32(0.5)}
    torch.save(weights, root / 'good.pth')
    marker = root.parent / 'PWNED'
    torch.save({'state_dict': SystemPayload(marker)}, root / 'evil.pth')
    monkeypatch.setattr(
        mmengine_checkpoint, 'get_torchvision_models', lambda: {
            'toy': f'{url}/good.pth',
            'evil': f'{url}/evil.pth'
        })

    for name in (f'{url}/good.pth', 'torchvision://toy'):
        loaded = _load_checkpoint(name)
        assert torch.equal(loaded['w'], torch.arange(4.0))
        assert loaded['meta'] == np.float32(0.5)
    for name, shown in ((f'{url}/evil.pth', f'{url}/evil.pth'),
                        ('torchvision://evil',
                         f'torchvision://evil ({url}/evil.pth)')):
        with pytest.raises(UnsafeCheckpointError) as info:
            _load_checkpoint(name)
        assert str(info.value) == (
            f"Refusing to load checkpoint '{shown}': it needs "
            'forbidden global(s) posix.system; only tensors and '
            'rkan_mmdet.checkpoint_safety.MMENGINE_CHECKPOINT_GLOBALS are allowed.')
    assert not marker.exists()
