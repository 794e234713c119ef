"""The RKAN arguments of every RKAN backbone, checked once (docs/spec.md §1).

Every bad value ends in a ``ValueError`` whose one line names the argument and
the value, before the backbone is built: ``tools/train.py`` prints it as
``error: ...``. Per-stage values are expanded once the backbone's stage count
is known (:meth:`RKANOptions.per_stage`).

``rkan_mechanisms`` says which stages carry a block, in one of two forms:

- a **dict** ``{stage index: mechanism}`` with Python indices, so negative ones
  count from the end and need no stage count: ``{-1: 'addition'}`` is the
  paper's default (the last stage; also what ``None`` means),
  ``{-2: 'addition', -1: 'addition'}`` its "E" (the last two);
- a **list** with one entry (``None`` or a mechanism) per stage; a list of the
  wrong length is refused with the right count and the stages' keys.
"""
from dataclasses import dataclass
from numbers import Integral
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ..layers.kan_bases import check_kan_type
from ..layers.rkan_block import MECHANISMS

IntOrSeq = Union[int, Sequence[int]]
Mechanisms = Union[None, Sequence[Optional[str]], Mapping[int, Optional[str]]]
#: What ``rkan_mechanisms=None`` means: the paper's default, the last stage.
LAST_STAGE: Dict[int, str] = {-1: 'addition'}


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _describe(value) -> str:
    return f'{value!r} ({type(value).__name__})'


def _positive_int(name: str, value) -> int:
    if not _is_int(value) or value < 1:
        raise ValueError(f'{name} must be a positive int, got {_describe(value)}')
    return int(value)


def _sequence(name: str, value, unit: str, length: int) -> list:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f'{name} must be a list with one entry per {unit}, got {_describe(value)}')
    if len(value) != length:
        raise ValueError(f'{name} must have one entry per {unit} ({length}), '
                         f'got {len(value)}: {value!r}')
    return list(value)


@dataclass
class RKANOptions:
    """Checked RKAN arguments; see :class:`~.rkan_mixin.RKANMixin` for their meaning."""

    mechanisms: Union[List[Optional[str]], Dict[int, Optional[str]]]
    reduce_factor: IntOrSeq
    inv_factor: Optional[int]
    kan_type: str
    kan_orders: Tuple[int, int]
    kan_grids: Tuple[int, int]
    shortcut: bool
    se_bias: bool
    norm_cfg: Optional[dict]
    norm_eval: bool
    zero_init: Optional[bool]

    @classmethod
    def check(cls, rkan_mechanisms, reduce_factor, inv_factor, kan_type, kan_orders,
              kan_grids, rkan_shortcut, rkan_norm_cfg, rkan_norm_eval,
              rkan_zero_init, rkan_se_bias: bool = False) -> 'RKANOptions':
        if rkan_mechanisms is None:
            rkan_mechanisms = LAST_STAGE
        if isinstance(rkan_mechanisms, Mapping):
            for index in rkan_mechanisms:
                if not _is_int(index):
                    raise ValueError('rkan_mechanisms keys must be stage indices (int, '
                                     f'negative from the end), got {_describe(index)}')
        elif not isinstance(rkan_mechanisms, (list, tuple)):
            raise ValueError('rkan_mechanisms must be a list with one entry per stage or a '
                             f'dict {{stage index: mechanism}}, got {_describe(rkan_mechanisms)}')
        for mech in (rkan_mechanisms.values() if isinstance(rkan_mechanisms, Mapping)
                     else rkan_mechanisms):
            if mech is not None and mech not in MECHANISMS:
                raise ValueError(f'unknown RKAN mechanism {mech!r} in rkan_mechanisms; '
                                 f'expected None or one of {", ".join(MECHANISMS)}')
        if isinstance(reduce_factor, (list, tuple)):
            for value in reduce_factor:
                _positive_int('reduce_factor', value)
        else:
            _positive_int('reduce_factor', reduce_factor)
        if inv_factor is not None:
            _positive_int('inv_factor', inv_factor)
        check_kan_type(kan_type)
        orders = [_positive_int('kan_orders', v)
                  for v in _sequence('kan_orders', kan_orders, 'KAN conv', 2)]
        grids = [_positive_int('kan_grids', v)
                 for v in _sequence('kan_grids', kan_grids, 'KAN conv', 2)]
        for name, value in (('rkan_shortcut', rkan_shortcut), ('rkan_norm_eval', rkan_norm_eval),
                            ('rkan_se_bias', rkan_se_bias)):
            if not isinstance(value, bool):
                raise ValueError(f'{name} must be True or False, got {_describe(value)}')
        if rkan_zero_init is not None and not isinstance(rkan_zero_init, bool):
            raise ValueError(f'rkan_zero_init must be None, True or False, '
                             f'got {_describe(rkan_zero_init)}')
        if rkan_norm_cfg is not None and not (isinstance(rkan_norm_cfg, dict)
                                              and 'type' in rkan_norm_cfg):
            raise ValueError(f'rkan_norm_cfg must be a norm config dict with a type, '
                             f'got {_describe(rkan_norm_cfg)}')
        mechanisms = (dict(rkan_mechanisms) if isinstance(rkan_mechanisms, Mapping)
                      else list(rkan_mechanisms))
        return cls(mechanisms, reduce_factor, inv_factor, kan_type,
                   tuple(orders), tuple(grids), rkan_shortcut, rkan_se_bias, rkan_norm_cfg,
                   rkan_norm_eval, rkan_zero_init)

    def per_stage(self, stage_keys: Sequence[str],
                  backbone: str) -> Tuple[List[Optional[str]], List[int]]:
        """Mechanisms and reduce factors, one per stage of ``backbone``, whose
        stages have the keys ``stage_keys``."""
        count = len(stage_keys)
        if isinstance(self.mechanisms, dict):
            mechanisms: List[Optional[str]] = [None] * count
            for index, mech in self.mechanisms.items():
                if not -count <= index < count:
                    raise ValueError(f'rkan_mechanisms index {index} is outside the {count} '
                                     f'stages of {backbone} ({", ".join(stage_keys)})')
                mechanisms[index] = mech
        else:
            mechanisms = self._fit('rkan_mechanisms', self.mechanisms, stage_keys, backbone)
        if isinstance(self.reduce_factor, (list, tuple)):
            factors = self._fit('reduce_factor', list(self.reduce_factor), stage_keys, backbone)
        else:
            factors = [self.reduce_factor] * count
        return mechanisms, factors

    @staticmethod
    def _fit(name: str, values: list, stage_keys: Sequence[str], backbone: str) -> list:
        if len(values) != len(stage_keys):
            raise ValueError(f'{name} has {len(values)} entries but {backbone} has '
                             f'{len(stage_keys)} stages ({", ".join(stage_keys)}); give '
                             f'{len(stage_keys)}' + (", or a dict such as {-1: 'addition'} "
                                                     'for the last stage'
                                                     if name == 'rkan_mechanisms' else ''))
        return list(values)
