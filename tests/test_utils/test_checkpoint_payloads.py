"""No checkpoint runs code: every pickle route, every scheme, every entry
point, with and without ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``.

Each malicious file comes from :mod:`.checkpoint_payloads`; its payload
creates ``marker``, which must not exist after the refused load.
"""
import functools
import json
import pickle
import re
import struct
import sys
import types
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import io as mm_io
from mmengine.model import BaseModule
from mmengine.runner import checkpoint as mm_checkpoint
from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint
from torch import nn

import rkan_mmdet  # noqa: F401  (installs safe loading)
from rkan_mmdet.checkpoint_safety import CheckpointError, UnsafeCheckpointError
from .checkpoint_payloads import (call, glob, invalid_utf32_scalar, payloads,
                                  raw_bytes, text, touch, tup, write_torch_zip,
                                  zero_itemsize_array)
from .local_http import start_http_server
from .toy_models import TINY_CLASSIFIER, TINY_DETECTOR, make_runner

pytestmark = [
    pytest.mark.usefixtures('isolate_runner_globals'),
    pytest.mark.filterwarnings('ignore:Detected pickle protocol'),
    pytest.mark.filterwarnings('ignore:.*TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'),
]
ROUTES = sorted(payloads(Path('marker')))


def refused(source: str, forbidden: str) -> str:
    return (f"Refusing to load checkpoint '{source}': it needs forbidden "
            f'global(s) {forbidden}; only tensors and '
            'rkan_mmdet.checkpoint_safety.MMENGINE_CHECKPOINT_GLOBALS are allowed.')


@pytest.fixture(params=[None, '1'], ids=['env-unset', 'FORCE_NO_WO=1'])
def force_no_weights_only(request: pytest.FixtureRequest,
                          monkeypatch: pytest.MonkeyPatch) -> Optional[str]:
    """Both values of torch's escape hatch (it must change nothing)."""
    if request.param is None:
        monkeypatch.delenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', raising=False)
    else:
        monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', request.param)
    return request.param


def test_every_payload_is_live(tmp_path: Path) -> None:
    """The full unpickler runs each payload: the routes are real."""
    for i, route in enumerate(ROUTES):
        marker = tmp_path / f'live{i}'
        path = tmp_path / 'live.pth'
        payloads(marker)[route][0](path)
        try:
            torch.load(path, weights_only=False)
        except Exception:  # noqa: BLE001 (most payloads break the load after)
            pass
        assert marker.exists(), route


@pytest.mark.parametrize('route', ROUTES)
def test_every_pickle_route_is_refused(route: str, tmp_path: Path,
                                       force_no_weights_only: Optional[str]
                                       ) -> None:
    marker = tmp_path / 'marker'
    write, forbidden = payloads(marker)[route]
    path = tmp_path / 'evil.pth'
    write(path)
    for load in (lambda: _load_checkpoint(str(path)),
                 lambda: torch.load(path)):
        with pytest.raises(UnsafeCheckpointError) as info:
            load()
        assert str(info.value) == refused(str(path), forbidden)
    assert not marker.exists()


def test_numpy_ndarray_is_not_callable_from_a_pickle(tmp_path: Path) -> None:
    """``np.ndarray(shape, dtype, buffer)`` by REDUCE or NEWOBJ (with dtype
    object: an array of forged pointers) is never called."""
    dtype = call(glob('numpy', 'dtype'), text('f8'), b'\x89', b'\x88')
    args = (tup(b'K\x01'), dtype, raw_bytes(bytes(8)))
    for name, pkl in (('reduce', call(glob('numpy', 'ndarray'), *args)),
                      ('newobj', glob('numpy', 'ndarray') + tup(*args) +
                       b'\x81')):
        path = tmp_path / f'{name}.pth'
        write_torch_zip(path, b'\x80\x02' + pkl + b'.')
        with pytest.raises(CheckpointError) as info:
            _load_checkpoint(str(path))
        assert str(info.value).startswith(
            f"checkpoint '{path}' cannot be loaded: reading it fails "
            '(TypeError: ')


def _dtype(spec: str, state: bytes) -> bytes:
    return call(glob('numpy', 'dtype'), text(spec), b'\x89', b'\x88') + (
        state + b'b')


NUMPY_STATES = {
    # found by fuzzing: numpy's dtype.__setstate__ segfaults on this state
    'dtype state numpy crashes on': (_dtype(
        'i8', tup(b'K\x03', text('<'), b'N', b'J\xff\xff\xff\xff' * 2,
                  b'K\x00')),
                                     "dtype state (3, '<', None, -1, -1, 0)"),
    'object dtype': (_dtype('O', b'N'), "dtype('O', False, True)"),
    'structured dtype': (call(glob('numpy', 'dtype'),
                              b']' + tup(text('a'), text('f8')) + b'a',
                              b'\x89', b'\x88'),
                         "dtype([('a', 'f8')], False, True)"),
    'array with too few bytes': (call(
        glob('numpy._core.multiarray', '_reconstruct'),
        glob('numpy', 'ndarray'), tup(b'K\x00'), raw_bytes(b'b')) + tup(
            b'K\x01', tup(b'K\x04'), _dtype('f8', tup(
                b'K\x03', text('<'), b'NNN', b'J\xff\xff\xff\xff' * 2,
                b'K\x00')), b'\x89', raw_bytes(bytes(8))) + b'b',
                                 'array of shape (4,) and float64 with 8 '
                                 'bytes'),
    'scalar with too many bytes': (call(
        glob('numpy._core.multiarray', 'scalar'), _dtype('f4', tup(
            b'K\x03', text('<'), b'NNN', b'J\xff\xff\xff\xff' * 2,
            b'K\x00')), raw_bytes(bytes(8))), 'float32 scalar from bytes'),
    # issue 27: a 2**62-item array of item size 0 (mean() never returns),
    # a U1 surrogate (numpy: SystemError), bytes(n) (n bytes allocated)
    'zero item size': (zero_itemsize_array(), "dtype('U0')"),
    'U1 not UTF-32': (invalid_utf32_scalar(), '<U1 text that is not UTF-32 (byte 0)'),
    'bytes(n)': (call(glob('builtins', 'bytes'), b'J\x00\x00\x00\x40'),
                 'bytes() with 1 argument(s)'),
}


@pytest.mark.parametrize('case', sorted(NUMPY_STATES))
def test_numpy_state_is_checked_before_numpy_sees_it(tmp_path: Path,
                                                     case: str) -> None:
    pkl, refused_state = NUMPY_STATES[case]
    path = tmp_path / 'numpy.pth'
    write_torch_zip(path, b'\x80\x02' + pkl + b'.')
    with pytest.raises(CheckpointError) as info:
        _load_checkpoint(str(path))
    assert str(info.value) == (
        f"checkpoint '{path}' is not a loadable checkpoint: the weights-only "
        f'unpickler rejects it (numpy state refused: {refused_state})')


def test_an_array_is_built_once(tmp_path: Path) -> None:
    """A tensor shares the data of an array (torch allowlists
    ``_rebuild_device_tensor_from_numpy``); a second BUILD of the array
    would free that data under the tensor."""
    f8 = _dtype('f8', tup(b'K\x03', text('<'), b'NNN',
                          b'J\xff\xff\xff\xff' * 2, b'K\x00'))
    array = call(glob('numpy._core.multiarray', '_reconstruct'),
                 glob('numpy', 'ndarray'), tup(b'K\x00'), raw_bytes(b'b'))

    def state(n: int, byte: bytes) -> bytes:
        return tup(b'K\x01', tup(b'J' + struct.pack('<i', n)), f8, b'\x89',
                   raw_bytes(byte * 8 * n))

    tensor = call(glob('torch._utils', '_rebuild_device_tensor_from_numpy'),
                  b'h\x00', glob('torch', 'float64'), text('cpu'), b'\x89')
    path = tmp_path / 'twice.pth'
    write_torch_zip(path, b'\x80\x02]' + array + b'q\x00' +
                    state(4096, b'\x11') + b'ba' + tensor + b'a' +
                    b'h\x00' + state(1, b'\x22') + b'ba.')
    with pytest.raises(CheckpointError) as info:
        _load_checkpoint(str(path))
    assert str(info.value).endswith(
        '(numpy state refused: a second state for one array)')


def test_honest_numpy_values_load_as_plain_numpy(tmp_path: Path) -> None:
    values = {'f8': np.arange(3.0), 'i8': np.arange(4).reshape(2, 2),
              'big': np.arange(2, dtype='>i4'), 'b': np.array([True]),
              'u': np.array(['ab', 'c']), 'c': np.complex64(1 + 2j),
              'eta': np.float64(1.5), 'n': np.int64(3), 'dt': np.dtype('f2')}
    path = tmp_path / 'numpy.pth'
    torch.save(values, path)
    loaded = _load_checkpoint(str(path))
    for key, value in values.items():  # exactly what numpy unpickles
        expected = pickle.loads(pickle.dumps(value, protocol=2))
        assert type(loaded[key]) is type(expected), key
        if isinstance(value, np.ndarray):
            assert loaded[key].dtype == expected.dtype, key
            assert loaded[key].tolist() == expected.tolist(), key
        else:
            assert loaded[key] == expected, key


def test_nested_pickle_stays_data(tmp_path: Path) -> None:
    """A pickle stored as bytes in a checkpoint is returned as bytes, never
    unpickled."""
    marker = tmp_path / 'marker'
    inner = pickle.dumps(touch(marker), protocol=2)
    path = tmp_path / 'nested.pth'
    write_torch_zip(path, b'\x80\x02]' + raw_bytes(inner) + b'a.')
    assert _load_checkpoint(str(path)) == [inner]
    assert not marker.exists()


# -- every scheme mmengine registers --------------------------------------
class FakePetrelClient:
    """``petrel_client.client.Client``: what mmengine's s3/petrel backend
    uses; serves :attr:`objects`."""
    objects: dict = {}

    def __init__(self, **kwargs: Any) -> None:
        pass

    def Get(self, path: str) -> bytes:  # noqa: N802 (petrel's name)
        return self.objects[path]


class FakePaviModel:
    """What ``pavi.modelcloud.get`` returns."""

    def __init__(self, data: bytes) -> None:
        self.name, self.data = 'model.pth', data

    def download(self, path: str) -> None:
        Path(path).write_bytes(self.data)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[Callable[[bytes], dict]]:
    """``serve(data)`` -> ``{request: name in the error}`` for every
    registered scheme, each handing over ``data``: a local HTTP server (http,
    https without TLS, torchvision, modelzoo, mmcls, open-mmlab to a URL),
    ``MMENGINE_HOME``'s
    open_mmlab.json (open-mmlab/openmmlab to a file), a fake petrel client
    (s3, petrel) and a fake pavi module."""
    root = tmp_path / 'srv'
    root.mkdir()
    server, base_url = start_http_server(root, monkeypatch)
    url = f'{base_url}/evil.pth'
    download = torch.hub.download_url_to_file
    monkeypatch.setattr(  # https:// is served by the same http server
        torch.hub, 'download_url_to_file',
        lambda u, *a, **k: download(u.replace('https:', 'http:'), *a, **k))
    hub_dir = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    home = tmp_path / 'mmengine_home'
    home.mkdir()
    (home / 'open_mmlab.json').write_text(
        json.dumps({'evil_file': 'evil.pth', 'evil_url': url}))
    monkeypatch.setenv('MMENGINE_HOME', str(home))
    monkeypatch.setattr(mm_checkpoint, 'get_torchvision_models',
                        lambda: {'evil': url})
    monkeypatch.setattr(mm_checkpoint, 'get_mmcls_models',
                        lambda: {'evil': url})
    petrel = types.ModuleType('petrel_client')
    petrel.client = types.SimpleNamespace(Client=FakePetrelClient)
    monkeypatch.setitem(sys.modules, 'petrel_client', petrel)
    monkeypatch.setattr(mm_io, 'backend_instances', {})
    pavi = types.ModuleType('pavi')
    monkeypatch.setitem(sys.modules, 'pavi', pavi)

    def serve(data: bytes) -> dict:
        (root / 'evil.pth').write_bytes(data)
        (home / 'evil.pth').write_bytes(data)
        (tmp_path / 'local.pth').write_bytes(data)
        FakePetrelClient.objects = {'s3://bkt/evil.pth': data,
                                    'petrel://bkt/evil.pth': data}
        pavi.modelcloud = types.SimpleNamespace(
            get=lambda path: FakePaviModel(data))
        local = str(tmp_path / 'local.pth')
        return {
            local: local,
            f'file://{local}': f'file://{local}',
            url: url,
            url.replace('http:', 'https:'): url.replace('http:', 'https:'),
            'torchvision://evil': f'torchvision://evil ({url})',
            'modelzoo://evil': f'modelzoo://evil ({url})',
            'mmcls://evil': f'mmcls://evil ({url})',
            'open-mmlab://evil_url': f'open-mmlab://evil_url ({url})',
            'open-mmlab://evil_file':
            f"open-mmlab://evil_file ({home / 'evil.pth'})",
            'openmmlab://evil_file':
            f"openmmlab://evil_file ({home / 'evil.pth'})",
            's3://bkt/evil.pth': 's3://bkt/evil.pth',
            'petrel://bkt/evil.pth': 'petrel://bkt/evil.pth',
            'pavi://evil': 'pavi://evil',
        }

    try:
        yield serve
    finally:
        torch.hub.set_dir(hub_dir)
        server.shutdown()
        server.server_close()


def test_every_scheme_refuses_and_names_the_request(
        served: Callable[[bytes], dict], tmp_path: Path,
        force_no_weights_only: Optional[str]) -> None:
    marker = tmp_path / 'marker'
    source = tmp_path / 'source.pth'
    torch.save({'state_dict': touch(marker)}, source)
    requests = served(source.read_bytes())
    for prefix in mm_checkpoint.CheckpointLoader._schemes:  # all exercised
        assert any(re.match(prefix, r) for r in requests if r), prefix
    for request, shown in requests.items():
        with pytest.raises(UnsafeCheckpointError) as info:
            _load_checkpoint(request)
        assert str(info.value) == refused(shown, 'posix.system'), request
        # the request a hub download came from is cached: clear it
        for cached in (tmp_path / 'hub').rglob('evil.pth'):
            cached.unlink()
    assert not marker.exists()


def test_every_scheme_still_loads_honest_weights(
        served: Callable[[bytes], dict], tmp_path: Path) -> None:
    source = tmp_path / 'source.pth'
    torch.save({'state_dict': {'backbone.w': torch.arange(3.0)},
                'meta': np.float32(0.5)}, source)
    for request in served(source.read_bytes()):
        loaded = _load_checkpoint(request)
        if request.startswith('mmcls://'):  # drops all but backbone.*
            assert loaded['state_dict']['w'].tolist() == [0.0, 1.0, 2.0]
            continue
        weights = loaded['state_dict']['backbone.w']
        assert weights.tolist() == [0.0, 1.0, 2.0], request
        assert loaded['meta'] == np.float32(0.5)


# -- every entry point ----------------------------------------------------
class Backbone(BaseModule):

    def __init__(self, init_cfg: dict) -> None:
        super().__init__(init_cfg=init_cfg)
        self.lin = nn.Linear(3, 2)


def _entry_points(path: str, work_dir: Path) -> dict:

    def runner(**kwargs: Any) -> None:
        make_runner(work_dir, 'evil', 2, load_from=path, **kwargs).train()

    def init_cfg(**kwargs: Any) -> None:
        Backbone(dict(type='Pretrained', checkpoint=path,
                      **kwargs)).init_weights()

    def init_detector() -> None:
        from mmdet.apis import init_detector as mmdet_init_detector
        mmdet_init_detector(Config(TINY_DETECTOR), path, device='cpu')

    def det_inferencer() -> None:
        from mmdet.apis import DetInferencer
        DetInferencer(model=Config(TINY_DETECTOR), weights=path,
                      device='cpu')

    def det_inferencer_without_config() -> None:
        from mmdet.apis import DetInferencer
        DetInferencer(model=None, weights=path, device='cpu')

    def mmpretrain_inferencer() -> None:
        from mmpretrain.apis import ImageClassificationInferencer
        ImageClassificationInferencer(Config(TINY_CLASSIFIER),
                                      pretrained=path,
                                      device='cpu')

    def mmpretrain_prototype_cache() -> None:
        from mmpretrain.models import ImageToImageRetriever
        ImageToImageRetriever._get_prototype_vecs_from_path(None, path)

    return {
        'Runner load_from': runner,
        'Runner resume': functools.partial(runner, resume=True),
        'load_checkpoint': lambda: load_checkpoint(nn.Linear(3, 2), path),
        'CheckpointLoader': lambda: mm_checkpoint.CheckpointLoader.
        load_checkpoint(path),
        'Pretrained': init_cfg,
        'Pretrained prefix': functools.partial(init_cfg, prefix='backbone'),
        'init_detector': init_detector,
        'DetInferencer': det_inferencer,
        'DetInferencer(model=None)': det_inferencer_without_config,
        'ImageClassificationInferencer': mmpretrain_inferencer,
        'prototype cache torch.load': mmpretrain_prototype_cache,
        'torch.load': lambda: torch.load(path),
        'torch.serialization.load': lambda: torch.serialization.load(path),
    }


def test_every_entry_point_refuses(tmp_path: Path,
                                   force_no_weights_only: Optional[str]
                                   ) -> None:
    marker = tmp_path / 'marker'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': touch(marker), 'meta': {}}, path)
    for name, enter in _entry_points(str(path), tmp_path / 'work').items():
        with pytest.raises(UnsafeCheckpointError) as info:
            enter()
        assert str(info.value) == refused(str(path), 'posix.system'), name
    assert not marker.exists()
