"""Malformed and foreign files end in one ``error:`` line, exit 2, and write nothing.

Each case edits a small reference RKANet-18 state dict (tests/test_converters/
reference) the way a wrong or damaged file would differ, and runs the command
line of tools/model_converters/rkan_reference_to_mmdet.py.
"""
from pathlib import Path
from typing import Callable, Dict, List

import pytest
import torch
from torch import Tensor

import rkan_mmdet  # noqa: F401
from rkan_mmdet.converters import main
from tests.test_converters.reference.models import PaperResNet
from tests.test_converters.reference.rkan_parts import randomize

State = Dict[str, Tensor]


@pytest.fixture(scope='module')
def resnet18() -> State:
    g = torch.Generator().manual_seed(31)
    return dict(randomize(PaperResNet('chebyshev', (None, None, None, 'addition'), g, depth=18),
                          g, [3]).state_dict())


def edit(**changes) -> Callable[[State], object]:
    """A file with keys replaced (value None deletes the key)."""
    def apply(state: State) -> State:
        out = dict(state)
        for key, value in changes.items():
            key = key.replace('__', '.')
            if value is None:
                out.pop(key)
            else:
                out[key] = value
        return out
    return apply


CASES = [
    ('attention in basic blocks', edit(resnet__layer1__0__se__fc1__weight=torch.zeros(4, 64, 1, 1)),
     [], 'se attention in basic blocks (ResNet-18)'),
    ('another family\'s key', edit(resnext__conv1__weight=torch.zeros(64, 3, 7, 7)),
     [], 'key resnext.conv1.weight does not fit the resnet layout'),
    ('a value that is no tensor', edit(resnet__fc__bias='bias'), [],
     'key resnet.fc.bias holds a str, not a tensor'),
    ('a KAN tensor of the wrong shape',
     edit(kan_conv1__3__convs__0__conv__polynomial_weight=torch.zeros(9, 4)), [],
     'kan_conv1.3.convs.0.conv.polynomial_weight has shape (9, 4), expected (1, 9, D+1)'),
    ('the last stage\'s RKAN modules missing', edit(conv_reduce__3__weight=None), [],
     'the file has RKAN modules for 3 stages but its resnet trunk has 4'),
    ('no classifier', edit(resnet__fc__weight=None, resnet__fc__bias=None), [],
     'key resnet.fc.weight is missing: the input is not a classifier'),
    ('a trunk tensor of the wrong shape', edit(resnet__layer4__1__conv2__weight=torch.zeros(3, 3)),
     [], 'resnet.layer4.1.conv2.weight has shape (3, 3) but backbone.layer4.1.conv2.weight'),
    ('SimAM asked of a SENet-less basic ResNet', lambda s: s, ['--attention', 'simam'],
     'simam attention in basic blocks (ResNet-18)'),
    ('gating asked where the file has no gate convs',
     lambda s: {k: v for k, v in s.items() if not k.startswith('gate_convs')},
     ['--mechanism', 'gating'], 'gate_convs.3.* is missing (mechanism gating on stage 4)'),
    ('a stage out of range', lambda s: s, ['--stages', '5'],
     '--stages 5: expected distinct stages'),
    ('a detection file without --backbone-only',
     lambda s: {**{f'backbone_with_fpn.body.{k[7:]}': v for k, v in s.items()
                   if k.startswith('resnet.')},
                **{f'rkan_components.{k}': v for k, v in s.items()}}, [],
     'a detection checkpoint of the paper\'s code (RKAN_RCNN'),
    ('a DenseNet detection file with a foreign key',
     lambda s: {'backbone_with_fpn.body.stage1.dense_block.x': torch.zeros(1),
                'rkan_components.conv_reduce.0.weight': torch.zeros(1)}, ['--backbone-only'],
     'key densenet.features.denseblock1.x does not fit the densenet layout'),
    ('a list instead of a dict', lambda s: list(s.values())[:3], [], 'not a state dict'),
]


@pytest.mark.parametrize('what, make, options, message', CASES, ids=[c[0] for c in CASES])
def test_one_error_line(resnet18: State, tmp_path: Path, capsys: pytest.CaptureFixture,
                        what: str, make: Callable, options: List[str], message: str) -> None:
    torch.save(make(resnet18), tmp_path / 'in.pth')
    code = main([str(tmp_path / 'in.pth'), str(tmp_path / 'out.pth'), *options])
    err = capsys.readouterr().err
    assert code == 2, what
    assert len(err.splitlines()) == 1 and err.startswith('error: '), err
    assert message in err, err
    assert not (tmp_path / 'out.pth').exists()


@pytest.mark.parametrize('fraction', [0.1, 0.5, 0.95])
def test_truncated_file(resnet18: State, tmp_path: Path, capsys: pytest.CaptureFixture,
                        fraction: float) -> None:
    torch.save(resnet18, tmp_path / 'whole.pth')
    data = (tmp_path / 'whole.pth').read_bytes()
    (tmp_path / 'cut.pth').write_bytes(data[:int(len(data) * fraction)])
    code = main([str(tmp_path / 'cut.pth'), str(tmp_path / 'out.pth')])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith('error: ')
    assert 'cut.pth' in err and not (tmp_path / 'out.pth').exists()


def test_wrapped_and_module_prefixed_file_converts(resnet18: State, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    """DataParallel's ``module.`` prefix and a ``{'state_dict': ...}`` wrapper are accepted."""
    torch.save({'state_dict': {f'module.{k}': v for k, v in resnet18.items()}},
               tmp_path / 'in.pth')
    assert main([str(tmp_path / 'in.pth'), str(tmp_path / 'out.pth')]) == 0
    out = capsys.readouterr().out
    assert out.count('assumed: ') == 3  # attention, KAN type, mechanism: once each
    assert torch.load(tmp_path / 'out.pth', weights_only=True)['meta']['backbone']['depth'] == 18
