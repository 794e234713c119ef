"""The RKAN arguments of every RKAN backbone, checked once (docs/spec.md §1).

Every bad value ends in a ``ValueError`` whose one line names the argument and
the value, before the backbone is built: ``tools/train.py`` prints it as
``error: ...``. Per-stage values are expanded once the backbone's stage count
is known (:meth:`RKANOptions.per_stage`).
"""
from dataclasses import dataclass
from numbers import Integral
from typing import List, Optional, Sequence, Tuple, Union

from ..layers.kan_bases import check_kan_type
from ..layers.rkan_block import MECHANISMS

IntOrSeq = Union[int, Sequence[int]]
#: Length of the per-stage defaults (``(None, None, None, 'addition')``).
DEFAULT_STAGES = 4


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

    mechanisms: List[Optional[str]]
    reduce_factor: IntOrSeq
    inv_factor: Optional[int]
    kan_type: str
    kan_orders: Tuple[int, int]
    kan_grids: Tuple[int, int]
    shortcut: bool
    norm_cfg: Optional[dict]
    norm_eval: bool
    zero_init: Optional[bool]

    @classmethod
    def check(cls, rkan_mechanisms, reduce_factor, inv_factor, kan_type, kan_orders,
              kan_grids, rkan_shortcut, rkan_norm_cfg, rkan_norm_eval,
              rkan_zero_init) -> 'RKANOptions':
        if not isinstance(rkan_mechanisms, (list, tuple)):
            raise ValueError('rkan_mechanisms must be a list with one entry per stage, '
                             f'got {_describe(rkan_mechanisms)}')
        for mech in rkan_mechanisms:
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
        for name, value in (('rkan_shortcut', rkan_shortcut), ('rkan_norm_eval', rkan_norm_eval)):
            if not isinstance(value, bool):
                raise ValueError(f'{name} must be True or False, got {_describe(value)}')
        if rkan_zero_init is not None and not isinstance(rkan_zero_init, bool):
            raise ValueError(f'rkan_zero_init must be None, True or False, '
                             f'got {_describe(rkan_zero_init)}')
        if rkan_norm_cfg is not None and not (isinstance(rkan_norm_cfg, dict)
                                              and 'type' in rkan_norm_cfg):
            raise ValueError(f'rkan_norm_cfg must be a norm config dict with a type, '
                             f'got {_describe(rkan_norm_cfg)}')
        return cls(list(rkan_mechanisms), reduce_factor, inv_factor, kan_type,
                   tuple(orders), tuple(grids), rkan_shortcut, rkan_norm_cfg,
                   rkan_norm_eval, rkan_zero_init)

    def per_stage(self, num_stages: int) -> Tuple[List[Optional[str]], List[int]]:
        """Mechanisms and reduce factors, one per stage of a ``num_stages`` backbone.

        Lists have one entry per stage; the 4-entry defaults also fit a shorter
        backbone as long as they enable no stage it lacks.
        """
        mechanisms = self._fit('rkan_mechanisms', self.mechanisms, num_stages)
        if isinstance(self.reduce_factor, (list, tuple)):
            factors = self._fit('reduce_factor', list(self.reduce_factor), num_stages)
        else:
            factors = [self.reduce_factor] * num_stages
        return mechanisms, factors

    def _fit(self, name: str, values: list, num_stages: int) -> list:
        if len(values) == DEFAULT_STAGES > num_stages:
            beyond = [i for i in range(num_stages, len(self.mechanisms))
                      if self.mechanisms[i] is not None]
            if beyond:
                raise ValueError(f'rkan_mechanisms enables stage {beyond[0] + 1} but the '
                                 f'backbone has {num_stages} stages')
            return values[:num_stages]
        return _sequence(name, values, 'stage', num_stages)
