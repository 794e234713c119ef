"""Every malformed checkpoint is one CheckpointError line naming the file
and what is wrong with it; only a forbidden global or TorchScript code is
called unsafe."""
import io
import json
import pickle
import random
import struct
import tarfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest
import torch
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint
from torch import nn

import rkan_mmdet  # noqa: F401  (installs safe loading)
from rkan_mmdet.checkpoint_safety import (CheckpointError, CheckpointNotFoundError,
                              UnsafeCheckpointError, safe_torch_load)
from .checkpoint_payloads import write_torch_zip
from .local_http import start_http_server
from .toy_models import make_runner

pytestmark = [
    pytest.mark.usefixtures('isolate_runner_globals'),
    pytest.mark.filterwarnings('ignore:Detected pickle protocol'),
    pytest.mark.filterwarnings("ignore:'torch.load' received a zip file"),
]


def good_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save({'state_dict': {'w': torch.arange(64.0)}}, buffer)
    return buffer.getvalue()


def _tar(path: Path) -> None:
    with tarfile.open(path, 'w') as tar:
        info = tarfile.TarInfo('storages')
        data = good_bytes()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def _legacy_truncated(path: Path) -> None:
    torch.save({'w': torch.arange(64.0)}, path,
               _use_new_zipfile_serialization=False)
    path.write_bytes(path.read_bytes()[:-100])


def _zip_without_data_pkl(path: Path) -> None:
    with zipfile.ZipFile(path, 'w') as zf:
        zf.writestr('notes.txt', 'hello')


def _torchscript(path: Path) -> None:
    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), path)


GOOD_SIZE = len(good_bytes())
RANDOM = bytes([0x8a, 0x13, 0xff, 0x00]) * 64
#: (writer, what the message says after "checkpoint '<path>' ")
MALFORMED: dict[str, tuple[Callable[[Path], Any], str]] = {
    'missing': (lambda p: None, 'does not exist'),
    'directory': (lambda p: p.mkdir(),
                  'is a directory, not a checkpoint file'),
    'zero bytes': (lambda p: p.write_bytes(b''),
                   'is an empty file (0 bytes)'),
    'random bytes': (lambda p: p.write_bytes(RANDOM),
                     'is not a checkpoint: it is unrecognized binary data '
                     '(starts with 8a 13 ff 00 8a 13 ff 00)'),
    'text': (lambda p: p.write_text('epoch 3, loss 0.5\nepoch 4, loss 0.4'),
             'is not a checkpoint: it is a text file of 35 bytes'),
    'Git LFS pointer': (lambda p: p.write_text(
        'version https://git-lfs.github.com/spec/v1\noid sha256:ab12\n'
        'size 1234\n'), 'is not a checkpoint: it is a Git LFS pointer, not '
                        'the file it points to (git lfs pull)'),
    'HTML page': (lambda p: p.write_text('<!DOCTYPE html><html>Sign in'),
                  'is not a checkpoint: it is an HTML page (a download that '
                  'returned a web page?)'),
    'JSON': (lambda p: p.write_text(json.dumps({'state_dict': [1, 2]})),
             'is not a checkpoint: it is a JSON file'),
    'truncated zip': (lambda p: p.write_bytes(good_bytes()[:GOOD_SIZE // 2]),
                      'is truncated: its zip archive ends after '
                      f'{GOOD_SIZE // 2} bytes, without its central '
                      'directory'),
    'zip without data.pkl': (_zip_without_data_pkl,
                             'is not a checkpoint: it is a zip archive '
                             'without data.pkl, not written by torch.save'),
    'truncated legacy file': (_legacy_truncated,
                              'is truncated: its tensor data ends early'),
    'truncated pickle': (lambda p: p.write_bytes(
        pickle.dumps({'w': 'x' * 100}, protocol=2)[:30]),
                         'is truncated or corrupt: its pickle stream does '
                         'not parse (expected 100 bytes in a unicodestring4, '
                         'but only 12 remain)'),
    'plain pickle 2': (lambda p: p.write_bytes(
        pickle.dumps({'w': [1.0, 2.0]}, protocol=2)),
                       'is not a checkpoint: it is a plain pickle (protocol '
                       '2), not a file written by torch.save'),
    'plain pickle 5': (lambda p: p.write_bytes(
        pickle.dumps({'w': [1.0, 2.0]}, protocol=5)),
                       'is not a checkpoint: it is a plain pickle (protocol '
                       '5), not a file written by torch.save'),
    'gigantic string in a pickle': (lambda p: p.write_bytes(
        b'\x80\x04\x8d' + struct.pack('<Q', 2**62) + b'ab.'),
                                    'is truncated or corrupt: its pickle '
                                    'stream does not parse (expected '
                                    '4611686018427387904 bytes in a '
                                    'unicodestring8, but only 3 remain)'),
    'gigantic string in data.pkl': (lambda p: write_torch_zip(
        p, b'\x80\x02X' + struct.pack('<I', 2**32 - 1) + b'ab.'),
                                    'is truncated or corrupt: its pickle '
                                    'stream does not parse (expected '
                                    '4294967295 bytes in a unicodestring4, '
                                    'but only 3 remain)'),
    'tar of torch < 0.4': (_tar, 'is in the tar format of torch < 0.4, '
                           'which cannot be loaded weights-only; re-save it '
                           'with a current torch'),
}


@pytest.mark.parametrize('case', sorted(MALFORMED))
def test_malformed_file_is_one_line(case: str, tmp_path: Path) -> None:
    write, problem = MALFORMED[case]
    path = tmp_path / 'ckpt.pth'
    write(path)
    with pytest.raises(CheckpointError) as info:
        _load_checkpoint(str(path))
    assert str(info.value) == f"checkpoint '{path}' {problem}"
    assert not isinstance(info.value, UnsafeCheckpointError)
    assert info.value.__suppress_context__ or info.value.__context__ is None
    if case == 'missing':  # still what mmengine raised
        assert isinstance(info.value, CheckpointNotFoundError)
        assert isinstance(info.value, FileNotFoundError)


def test_a_device_is_not_read(tmp_path: Path) -> None:
    """/dev/zero never ends and a FIFO blocks: neither is opened."""
    with pytest.raises(CheckpointError) as info:
        _load_checkpoint('/dev/zero')
    assert str(info.value) == ("checkpoint '/dev/zero' is not a regular "
                               'file (a device, pipe or socket)')


def test_names_from_a_file_cannot_reach_the_terminal(tmp_path: Path) -> None:
    """A forbidden global named with newlines and a terminal escape (by
    STACK_GLOBAL strings) stays one printable line."""
    path = tmp_path / 'escape.pth'
    evil = '\x1b[2J\nerror: all fine'
    name = evil.encode()
    path.write_bytes(b'\x80\x04\x8c\x05posix\x8c' + bytes([len(name)]) +
                     name + b'\x93.')
    with pytest.raises(UnsafeCheckpointError) as info:
        _load_checkpoint(str(path))
    assert str(info.value).startswith(
        f"Refusing to load checkpoint '{path}': it needs forbidden global(s) "
        'posix.?[2J error: all fine;')


def test_torchscript_archive_is_refused(tmp_path: Path) -> None:
    path = tmp_path / 'scripted.pt'
    _torchscript(path)
    with pytest.raises(UnsafeCheckpointError) as info:
        _load_checkpoint(str(path))
    assert str(info.value) == (
        f"checkpoint '{path}' is a TorchScript archive, and loading one runs "
        'its code; save a state dict with torch.save instead')


def test_a_sound_file_keeps_errors_that_are_not_about_its_bytes() -> None:
    with pytest.raises(ValueError, match='f must be a file path') as info:
        safe_torch_load(io.BytesIO(good_bytes()), mmap=True)
    assert not isinstance(info.value, CheckpointError)


class Net(BaseModule):

    def __init__(self, init_cfg: Any = None) -> None:
        super().__init__(init_cfg)
        self.lin = nn.Linear(2, 1)


ANOTHER_MODEL = ("does not fit the model: none of its 2 keys (e.g. "
                 "'conv.weight') is one of the model's 2 (e.g. "
                 "'lin.weight'); is it another model's checkpoint?")


@pytest.mark.parametrize('content,problem', [
    ({'state_dict': {k: torch.ones(1) for k in ('conv.weight', 'conv.bias')}},
     ANOTHER_MODEL),
    ({'state_dict': {}}, 'does not fit the model: it holds no weights'),
    ([torch.ones(1)],
     'is not a checkpoint: it holds a list, not a dict of weights'),
    ({'state_dict': [torch.ones(1)]},
     'is not a checkpoint: its state_dict is a list, not a dict of weights'),
])
def test_checkpoint_of_another_model_is_refused_by_every_loader(
        tmp_path: Path, content: Any, problem: str) -> None:
    path = tmp_path / 'other.pth'
    torch.save(content, path)
    expected = f"checkpoint '{path}' {problem}"
    loaders = {
        'load_checkpoint': lambda: load_checkpoint(Net(), str(path)),
        'Pretrained': lambda: Net(dict(type='Pretrained',
                                       checkpoint=str(path))).init_weights(),
        'Runner load_from': lambda: make_runner(
            tmp_path, 'x', 1, load_from=str(path)).train(),
    }
    for name, load in loaders.items():
        with pytest.raises(CheckpointError) as info:
            load()
        assert str(info.value) == expected, name


def test_pretrained_prefix_must_match(tmp_path: Path) -> None:
    path = tmp_path / 'detector.pth'
    torch.save({'state_dict': {'neck.lin.weight': torch.ones(1, 2)}}, path)
    for prefix, problem in (
        ('backbone', "it holds no key starting with 'backbone.'"),
        ('neck.lin', "none of its 1 keys (e.g. 'weight') is one of the "
         "model's 2 (e.g. 'lin.weight'); is it another model's checkpoint?")):
        with pytest.raises(CheckpointError) as info:
            Net(dict(type='Pretrained', checkpoint=str(path),
                     prefix=prefix)).init_weights()
        assert str(info.value) == (
            f"checkpoint '{path}' does not fit the model: {problem}")
    net = Net(dict(type='Pretrained', checkpoint=str(path), prefix='neck'))
    net.init_weights()  # a partial match loads
    assert net.lin.weight.tolist() == [[1.0, 1.0]]


def test_resume_of_a_malformed_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / 'half.pth'
    path.write_bytes(good_bytes()[:GOOD_SIZE // 2])
    with pytest.raises(CheckpointError) as info:
        make_runner(tmp_path, 'r', 1, load_from=str(path),
                    resume=True).train()
    assert str(info.value) == (
        f"checkpoint '{path}' is truncated: its zip archive ends after "
        f'{GOOD_SIZE // 2} bytes, without its central directory')


@pytest.fixture
def http_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[str]:
    """A local HTTP server with nothing to serve."""
    server, base_url = start_http_server(tmp_path, monkeypatch)
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()


def test_bad_requests_are_one_line(http_url: str, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / 'mmengine_home'
    home.mkdir()
    (home / 'open_mmlab.json').write_text(json.dumps({'gone': 'gone.pth'}))
    monkeypatch.setenv('MMENGINE_HOME', str(home))
    cases = {
        f'{http_url}/missing.pth':
        'could not be downloaded: HTTP 404 File not found',
        f'{http_url}/': 'names no file to download (the URL path ends in /)',
        'open-mmlab://no_such_model':
        "names a model that is not in the scheme's model list",
        'torchvision://no_such_model':
        "names a model that is not in the scheme's model list",
        'open-mmlab://gone':
        f"does not exist ({home / 'gone.pth'} can not be found.)",
    }
    for request, problem in cases.items():
        with pytest.raises(CheckpointError) as info:
            _load_checkpoint(request)
        assert str(info.value) == f"checkpoint '{request}' {problem}"


def _runner_like_checkpoint(legacy: bool) -> bytes:
    """A small checkpoint with what Runner checkpoints hold: tensors, numpy
    scalars and arrays, a HistoryBuffer."""
    from mmengine.logging import HistoryBuffer
    history = HistoryBuffer()
    history.update(1.5)
    buffer = io.BytesIO()
    torch.save({'state_dict': {'w': torch.arange(16.0)},
                'meta': {'eta': np.float64(1.0), 'ids': np.arange(3)},
                'message_hub': {'loss': history}}, buffer,
               _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_every_truncation_says_truncated(tmp_path: Path, legacy: bool) -> None:
    data = _runner_like_checkpoint(legacy)
    path = tmp_path / 'cut.pth'
    for size in range(3, len(data), 41):
        path.write_bytes(data[:size])
        with pytest.raises(CheckpointError) as info:
            _load_checkpoint(str(path))
        assert 'is truncated' in str(info.value), size


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_corrupted_bytes_load_or_give_one_line(tmp_path: Path,
                                               legacy: bool) -> None:
    """Random byte changes (seeded): each file loads (torch keeps no
    checksum of tensor data) or is one CheckpointError line, never another
    exception."""
    rng = random.Random(0)
    data = _runner_like_checkpoint(legacy)
    path = tmp_path / 'flipped.pth'
    outcomes = set()
    for _ in range(300):
        flipped = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            flipped[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(flipped))
        try:
            _load_checkpoint(str(path))
            outcomes.add('loaded')
        except CheckpointError as err:
            assert '\n' not in str(err)
            outcomes.add(type(err).__name__)
    assert outcomes >= {'loaded', 'CheckpointError'}
