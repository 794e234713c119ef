"""The RKAN modules of the paper code's checkpoints -> rkan_mmdet's ``RKANBlock`` per stage.

docs/families.md §6: the reference keeps module lists indexed by stage ``i``, all
of them instantiated whether the stage is on or not. For an enabled stage
(block key ``K``, e.g. ``layer4``; keys relative to the backbone):

=====================================  =========================================
reference                              ours (``rkan_layers.K.``)
=====================================  =========================================
``conv_reduce.i.weight`` (M, C_in)     ``reduce.weight``
``kan_conv1.i.convs.0.conv.*``         ``kan_conv.*`` (see :mod:`.reference_kan`)
``kan_bn.i.*`` (M)                     ``mid_norm.*``
``conv_expand.i.weight`` (C_out, M)    ``expand.weight``
``kan_conv2.i.convs.0.conv.*``         ``kan_conv_last.*`` (last stage only)
``kan_expand_bn.i.*`` (C_out)          ``out_norm.*``
``conv_shortcut.i.weight``             ``shortcut.0.weight`` (when the file has it)
``shortcut_bn.i.*``                    ``shortcut.1.*``
``gate_convs.i.{weight,bias}``         ``mechanism.gate.*`` (gating)
``se_blocks.i.{1,3}.weight``           ``mechanism.{squeeze,excite}.weight`` (se)
``se_blocks.i.{1,3}.bias``             ``mechanism.{squeeze,excite}.bias`` (se; the
                                       ResNeXt / Wide ResNet files: ``rkan_se_bias``)
=====================================  =========================================

Everything else (the stages that are off, the other mechanisms' modules, the
second KAN conv of non-last stages, which docs/spec.md §1 never runs) is dropped.

Which stages ran: a BN that never saw a training batch has
``num_batches_tracked == 0`` and its running statistics still at 0 / 1. A stage
ran when ``kan_bn.i`` or ``kan_expand_bn.i`` shows otherwise. The mechanism
leaves no such trace (no BN), so it is the caller's choice.
"""
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Sequence, Set, Tuple

from torch import Tensor

from .kan_tensors import LAYOUTS, convert_kan_conv
from .errors import LayoutError
from .trunk_base import BN

_KAN_NAMES = '|'.join(sorted({re.escape(n) for names in LAYOUTS.values() for n in names}))
PATTERNS = [re.compile(p + '$') for p in (
    r'(?P<module>conv_reduce|conv_expand|conv_shortcut)\.(?P<stage>\d+)\.(?P<name>weight)',
    rf'(?P<module>kan_bn|kan_expand_bn|shortcut_bn)\.(?P<stage>\d+)\.(?P<name>{BN})',
    r'(?P<module>gate_convs)\.(?P<stage>\d+)\.(?P<name>weight|bias)',
    r'(?P<module>se_blocks)\.(?P<stage>\d+)\.(?P<name>[13]\.(?:weight|bias))',
    rf'(?P<module>kan_conv[12])\.(?P<stage>\d+)\.convs\.0\.conv\.(?P<name>{_KAN_NAMES})',
)]
#: reference module -> our module inside the block, present on every enabled stage.
PLAIN_MODULES = (('conv_reduce', 'reduce'), ('kan_bn', 'mid_norm'),
                 ('conv_expand', 'expand'), ('kan_expand_bn', 'out_norm'))
SHORTCUT_MODULES = (('conv_shortcut', 'shortcut.0'), ('shortcut_bn', 'shortcut.1'))
MECHANISM_NAMES = {'gating': ('gate_convs', {'weight': 'mechanism.gate.weight',
                                              'bias': 'mechanism.gate.bias'}),
                   'se': ('se_blocks', {'1.weight': 'mechanism.squeeze.weight',
                                        '3.weight': 'mechanism.excite.weight'})}
#: The SE convs' biases, in the ResNeXt and Wide ResNet files only (docs/families.md §6).
SE_BIASES = {'1.bias': 'mechanism.squeeze.bias', '3.bias': 'mechanism.excite.bias'}
#: RKANMixin's kan_orders / kan_grids defaults, kept where the file cannot tell.
DEFAULT_ORDERS = (3, 2)
DEFAULT_GRIDS = (3, 2)


def module_name(module: str, stage: int) -> str:
    """The reference key prefix of one module of one stage."""
    if module.startswith('kan_conv'):
        return f'{module}.{stage}.convs.0.conv'
    return f'{module}.{stage}'


class ReferenceRKAN:
    """The RKAN tensors of a reference state dict, grouped by (module, stage)."""

    def __init__(self) -> None:
        self.modules: Dict[Tuple[str, int], Dict[str, Tensor]] = {}

    def add(self, key: str, tensor: Tensor) -> bool:
        """Keep ``key`` if it is an RKAN key of the reference layout."""
        for pattern in PATTERNS:
            m = pattern.match(key)
            if m:
                self.modules.setdefault((m['module'], int(m['stage'])), {})[m['name']] = tensor
                return True
        return False

    @property
    def num_stages(self) -> int:
        return 1 + max((i for (module, i) in self.modules if module == 'conv_reduce'), default=-1)

    def has(self, module: str, stage: int) -> bool:
        return (module, stage) in self.modules

    def need(self, module: str, stage: int, why: str) -> Dict[str, Tensor]:
        if (module, stage) not in self.modules:
            raise LayoutError(f'{module_name(module, stage)}.* is missing ({why})')
        return self.modules[(module, stage)]

    def evidence(self, stage: int) -> Tuple[bool, str]:
        """Whether stage ``stage`` (0-based) ran in training, and the BN facts that say so."""
        ran, facts = False, []
        for bn in ('kan_bn', 'kan_expand_bn'):
            stats, seen = self.modules.get((bn, stage), {}), []
            if 'num_batches_tracked' in stats:
                batches = int(stats['num_batches_tracked'].item())
                ran |= batches > 0
                seen.append(f'{batches} batches')
            if 'running_mean' in stats and 'running_var' in stats:
                moved = bool(stats['running_mean'].ne(0).any() or stats['running_var'].ne(1).any())
                ran |= moved
                seen.append(f'stats {"moved" if moved else "at 0/1"}')
            if seen:
                facts.append(f'{bn}.{stage}: {", ".join(seen)}')
        return ran, '; '.join(facts) or f'no kan_bn.{stage} statistics'


@dataclass
class Blocks:
    """Our ``rkan_layers.*`` tensors (backbone-relative), where each came from,
    and the RKANMixin arguments that build matching blocks."""

    state: Dict[str, Tensor] = field(default_factory=dict)
    sources: Dict[str, str] = field(default_factory=dict)
    rkan_args: dict = field(default_factory=dict)
    used: Set[Tuple[str, int]] = field(default_factory=set)

    def put(self, prefix: str, ours: str, tensors: Dict[str, Tensor], source: str) -> None:
        for name, tensor in tensors.items():
            self.state[f'{prefix}{ours}.{name}'] = tensor
            self.sources[f'{prefix}{ours}.{name}'] = f'{source}.{name}'


def _mid_factor(ref: ReferenceRKAN, stage: int) -> Tuple[str, int]:
    """('inv_factor', M / C_in) for RKAN-L, else ('reduce_factor', C_in / M)."""
    weight = ref.need('conv_reduce', stage, 'every enabled stage')['weight']
    mid, c_in = weight.shape[:2]
    if mid > c_in and mid % c_in == 0:
        return 'inv_factor', mid // c_in
    if mid <= c_in and c_in % mid == 0:
        return 'reduce_factor', c_in // mid
    raise LayoutError(f'conv_reduce.{stage}.weight maps {c_in} to {mid} channels, which no '
                      'reduce_factor (C_in // M) or inv_factor (C_in * M) gives')


def _one_value(name: str, values: Dict[int, object]) -> object:
    distinct = sorted(set(values.values()), key=str)
    if len(distinct) > 1:
        shown = ', '.join(f'stage {i + 1}: {v}' for i, v in values.items())
        raise LayoutError(f'the enabled stages differ in {name} ({shown}); rkan_mmdet '
                          'builds every stage with one value')
    return distinct[0]


def convert_blocks(ref: ReferenceRKAN, stages: Sequence[int], num_stages: int,
                   mechanism: str, kan_type: str, block_key: Callable[[int], str]) -> Blocks:
    """Our blocks for the 0-based ``stages``; ``block_key(i)`` names stage ``i``'s block."""
    blocks = Blocks()
    factors: Dict[int, Tuple[str, int]] = {}
    orders: Dict[int, Tuple[Optional[int], Optional[int]]] = {}
    last: Optional[Tuple[Optional[int], Optional[int]]] = None
    shortcut = {i: ref.has('conv_shortcut', i) for i in stages}
    se_bias: Dict[int, bool] = {}
    for i in stages:
        prefix = f'rkan_layers.{block_key(i)}.'
        why = f'stage {i + 1} is enabled'
        for theirs, ours in PLAIN_MODULES + (SHORTCUT_MODULES if shortcut[i] else ()):
            blocks.put(prefix, ours, ref.need(theirs, i, why), module_name(theirs, i))
            blocks.used.add((theirs, i))
        if mechanism in MECHANISM_NAMES:
            theirs, names = MECHANISM_NAMES[mechanism]
            tensors = ref.need(theirs, i, f'mechanism {mechanism} on stage {i + 1}')
            if mechanism == 'se':
                se_bias[i] = '1.bias' in tensors or '3.bias' in tensors
                names = dict(names, **(SE_BIASES if se_bias[i] else {}))
            for name, ours in names.items():
                if name not in tensors:
                    raise LayoutError(f'{module_name(theirs, i)}.{name} is missing '
                                      f'(mechanism {mechanism} on stage {i + 1})')
                blocks.state[prefix + ours] = tensors[name]
                blocks.sources[prefix + ours] = f'{module_name(theirs, i)}.{name}'
            blocks.used.add((theirs, i))
        factors[i] = _mid_factor(ref, i)
        first = convert_kan_conv(ref.need('kan_conv1', i, why), module_name('kan_conv1', i), kan_type)
        blocks.put(prefix, 'kan_conv', first.state, module_name('kan_conv1', i))
        blocks.used.add(('kan_conv1', i))
        orders[i] = (first.order, first.grid)
        if i == num_stages - 1:
            second = convert_kan_conv(ref.need('kan_conv2', i, f'stage {i + 1} is the last stage'),
                                      module_name('kan_conv2', i), kan_type)
            blocks.put(prefix, 'kan_conv_last', second.state, module_name('kan_conv2', i))
            blocks.used.add(('kan_conv2', i))
            last = (second.order, second.grid)
    blocks.rkan_args = _rkan_args(stages, num_stages, mechanism, kan_type, factors, orders, last,
                                  shortcut)
    if se_bias and _one_value('SE conv biases (se_blocks.<i>.1.bias present)', se_bias):
        blocks.rkan_args['rkan_se_bias'] = True
    return blocks


def _rkan_args(stages: Sequence[int], num_stages: int, mechanism: str, kan_type: str,
               factors: Dict[int, Tuple[str, int]],
               orders: Dict[int, Tuple[Optional[int], Optional[int]]],
               last: Optional[Tuple[Optional[int], Optional[int]]],
               shortcut: Dict[int, bool]) -> dict:
    """RKANMixin's arguments for the converted blocks (only those the file determines)."""
    mechanisms = tuple(mechanism if i in stages else None for i in range(num_stages))
    # RKANMixin's default (rkan_mechanisms=None) is addition on the last stage only
    args: dict = ({} if mechanisms == (None, ) * (num_stages - 1) + ('addition', )
                  else dict(rkan_mechanisms=mechanisms))
    kinds = _one_value('reduction kind (reduce_factor vs RKAN-L inv_factor)',
                       {i: kind for i, (kind, _) in factors.items()})
    if kinds == 'inv_factor':
        args['inv_factor'] = _one_value('inv_factor', {i: v for i, (_, v) in factors.items()})
    else:
        values = {i: v for i, (_, v) in factors.items()}
        if len(set(values.values())) == 1:
            args['reduce_factor'] = next(iter(values.values()))
        else:  # per stage; stages that are off keep the default 2
            args['reduce_factor'] = tuple(values.get(i, 2) for i in range(num_stages))
    args['kan_type'] = kan_type
    first_order, first_grid = _one_value('first KAN conv size', orders)
    second_order, second_grid = last or (None, None)
    if first_order is not None:
        args['kan_orders'] = (first_order, second_order or DEFAULT_ORDERS[1])
    if first_grid is not None:
        args['kan_grids'] = (first_grid, second_grid or DEFAULT_GRIDS[1])
    args['rkan_shortcut'] = bool(_one_value('shortcut (conv_shortcut present)', shortcut))
    return args
