"""What every trunk of the paper code's classifiers has: :class:`Trunk` and its helpers.

A :class:`Trunk` is built from the trunk's tensors (family prefix removed) and gives

* :meth:`Trunk.target`: the key of our classifier a trunk key becomes
  (``backbone.*``, or ``head.fc.*`` for the classifier's linear layer), or None
  when the key fits no name of that family;
* :meth:`Trunk.backbone`: the backbone config whose ``state_dict`` has exactly
  those keys and shapes, read from the tensor shapes (depth, groups, widths,
  arch); the RKAN arguments are added by the caller;
* :attr:`Trunk.block_key`: the ``rkan_layers`` key of stage ``i`` (0-based).
"""
import re
from typing import Dict, List, Optional, Tuple

from torch import Tensor

from .errors import LayoutError

BN = r'(?:weight|bias|running_mean|running_var|num_batches_tracked)'


def _need(tensors: Dict[str, Tensor], prefix: str, key: str) -> Tensor:
    if key not in tensors:
        raise LayoutError(f'key {prefix + "." if prefix else ""}{key} is missing')
    return tensors[key]


def _blocks_per_stage(keys: List[str], pattern: str, first: int = 0) -> Tuple[int, ...]:
    """Number of blocks of each stage: ``pattern`` captures (stage, block) with
    1-based stages and blocks counted from ``first``."""
    found: Dict[int, int] = {}
    for key in keys:
        m = re.match(pattern, key)
        if m:
            stage, block = int(m.group(1)), int(m.group(2))
            found[stage] = max(found.get(stage, 0), block + 1 - first)
    return tuple(found.get(s, 0) for s in range(1, max(found, default=0) + 1))


class Trunk:
    """One family's trunk; see the module docstring."""

    prefix = ''
    #: (regex on the key without prefix, target template for ``Match.expand``)
    rules: List[Tuple[str, str]] = []
    stage_key = 'layer{}'

    def __init__(self, tensors: Dict[str, Tensor]) -> None:
        self.tensors = tensors
        self._rules = [(re.compile(p + '$'), t) for p, t in self.rules]

    def target(self, key: str) -> Optional[str]:
        for pattern, template in self._rules:
            m = pattern.match(key)
            if m:
                return m.expand(template)
        return None

    def block_key(self, stage: int) -> str:
        return self.stage_key.format(stage + 1)

    @property
    def num_stages(self) -> int:
        return 4

    def backbone(self) -> dict:
        raise NotImplementedError

    def need(self, key: str) -> Tensor:
        return _need(self.tensors, self.prefix, key)
