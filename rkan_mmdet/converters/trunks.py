"""The trunks of the paper code's classifiers, by the prefix of their keys (docs/families.md §6).

A classifier trained with the paper's code keeps its trunk under one prefix
(``resnet.conv1.weight``, ..., ``resnet.fc.weight``); ResNet-D and PyramidNet have none.
:data:`TRUNKS` gives, for each prefix, the :class:`~.trunk_base.Trunk` that reads it
(:mod:`.trunks_resnet`, :mod:`.trunks_regnet`, :mod:`.trunks_densenet`).
"""
from typing import Callable, Dict

from torch import Tensor

from .trunk_base import Trunk
from .trunks_densenet import DenseNetTrunk
from .trunks_pyramidnet import PyramidNetTrunk
from .trunks_regnet import RegNetTrunk
from .trunks_resnet import ResNetDTrunk, ResNetTrunk, ResNeXtTrunk, WideResNetTrunk, resnet_family

__all__ = ['NO_PREFIX', 'TRUNKS', 'ResNetTrunk', 'Trunk']

TRUNKS: Dict[str, Callable[[Dict[str, Tensor]], Trunk]] = dict(
    {t.prefix: t for t in (ResNeXtTrunk, WideResNetTrunk, RegNetTrunk, DenseNetTrunk)},
    resnet=resnet_family, resnet_d=ResNetDTrunk, pyramidnet=PyramidNetTrunk)
#: Families whose keys have no prefix (found by their own keys, see reading.find_family).
NO_PREFIX = ('resnet_d', 'pyramidnet')
