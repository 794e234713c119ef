"""Issue 27: a malformed field of a training checkpoint ends ``--resume`` in
one line naming the file and the field, before anything is applied; values
that would resume into nonsense are refused the same way."""
from pathlib import Path
from typing import Any, Callable

import pytest
import torch

import rkan_mmdet  # noqa: F401  (installs safe loading)
from rkan_mmdet.checkpoint_safety import CheckpointError
from .toy_models import make_runner

pytestmark = pytest.mark.usefixtures('isolate_runner_globals')
HOOKS = dict(custom_hooks=[dict(type='RNGStateHook')],
             param_scheduler=dict(type='MultiStepLR', milestones=[1], by_epoch=False))


@pytest.fixture(scope='module')
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An honest checkpoint (iteration 2) with random states, an SGD state and
    a scheduler state."""
    work_dir = tmp_path_factory.mktemp('malformed_resume')
    make_runner(work_dir, 'first', 2, **HOOKS).train()
    return torch.load(work_dir / 'iter_2.pth')


def _set(*path: Any, value: Any) -> Callable[[dict], None]:
    def change(checkpoint: dict) -> None:
        node = checkpoint
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


def _momentum(shape: tuple) -> Callable[[dict], None]:
    def change(checkpoint: dict) -> None:
        state = checkpoint['optimizer']['state']
        state[next(iter(state))]['momentum_buffer'] = torch.zeros(shape)
    return change


#: case -> (change, what the line says after "cannot be resumed from: its ")
CASES = {
    'meta iter -5': (_set('meta', 'iter', value=-5),
                     "meta['iter'] is -5, not a count (an int >= 0)"),
    "meta epoch 'x'": (_set('meta', 'epoch', value='x'),
                       "meta['epoch'] is 'x', not a count (an int >= 0)"),
    "meta seed 'abc'": (_set('meta', 'seed', value='abc'),
                        "meta['seed'] is 'abc', not a seed (an int in [0, 2**32))"),
    'meta seed 2**70': (_set('meta', 'seed', value=2**70),
                        "meta['seed'] is 1180591620717411303424, not a seed (an int "
                        'in [0, 2**32))'),
    'message_hub a list': (_set('message_hub', value=[1]),
                           'message_hub is a list, not a dict'),
    'message_hub runtime_info': (_set('message_hub', 'runtime_info', value=3),
                                 "message_hub['runtime_info'] is int, not a dict"),
    'mis-shaped weight': (_set('state_dict', 'lin.weight', value=torch.zeros(3, 3)),
                          "state_dict['lin.weight'] is (3, 3), the model's is (1, 2)"),
    'optimizer without groups': (_set('optimizer', 'param_groups', value=[]),
                                 "'optimizer' does not fit (ValueError: loaded state "
                                 'dict has a different number of parameter groups)'),
    "optimizer lr 'x'": (lambda c: c['optimizer']['param_groups'][0].update(lr='x'),
                         "'optimizer' does not fit (TypeError: param_groups[0].lr = 'x')"),
    'optimizer state shape': (_momentum((5, )),
                              "'optimizer' does not fit (ValueError: state "
                              "'momentum_buffer' has shape (5,) for a parameter of "),
    "scheduler last_step 'x'": (lambda c: c['param_schedulers'][0].update(last_step='x'),
                                "'param_schedulers'[0] does not fit (TypeError: "
                                "last_step = 'x')"),
    'scheduler unknown field': (lambda c: c['param_schedulers'][0].update(optimizer=1),
                                "'param_schedulers'[0] does not fit (KeyError: "
                                "'optimizer' is not a field of MultiStepLR)"),
    'rng_state ranks a string': (_set('rng_state', 'ranks', value='abc'),
                                 "rng_state['ranks'] is not a list of states"),
    'rng_state torch state cut': (lambda c: c['rng_state']['ranks'][0].update(
        torch=torch.zeros(3, dtype=torch.uint8)),
        "rng_state['ranks'][0] is not a random state (RuntimeError: "),
    'rng_state numpy keys missing': (lambda c: c['rng_state']['ranks'][0].pop('numpy'),
                                     "rng_state['ranks'][0] is not a random state "
                                     "(KeyError: 'numpy')"),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_malformed_field_is_one_line(case: str, trained: dict, tmp_path: Path) -> None:
    change, problem = CASES[case]
    checkpoint = torch.load(_saved(trained, tmp_path / 'copy.pth'))
    change(checkpoint)
    path = _saved(checkpoint, tmp_path / 'bad.pth')
    with pytest.raises(CheckpointError) as info:
        make_runner(tmp_path, 'resumed', 3, load_from=path, resume=True, **HOOKS).train()
    assert str(info.value).startswith(f"checkpoint '{path}' cannot be resumed from: its "
                                      f'{problem}')
    assert '\n' not in str(info.value)


def _saved(checkpoint: dict, path: Path) -> str:
    torch.save(checkpoint, path)
    return str(path)


def test_the_honest_checkpoint_still_resumes(trained: dict, tmp_path: Path) -> None:
    path = _saved(trained, tmp_path / 'good.pth')
    runner = make_runner(tmp_path, 'resumed', 3, load_from=path, resume=True, **HOOKS)
    runner.train()
    assert runner.iter == 3


def test_a_tried_random_state_is_put_back(trained: dict) -> None:
    from rkan_mmdet.checkpoint_safety.checkpoint_errors import MalformedFieldError
    from rkan_mmdet.engine.rng_state_hook import check_rng_states
    before = torch.get_rng_state()
    good = trained['rng_state']['ranks'][0]
    with pytest.raises(MalformedFieldError):
        check_rng_states([good, {**good, 'random': {}}])
    assert torch.equal(torch.get_rng_state(), before)
