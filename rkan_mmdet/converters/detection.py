"""Detection checkpoints of the paper's code (``RKAN_RCNN``) -> its classifier layout.

``RKAN_RCNN`` wraps a torchvision ResNet's ``layer1..4`` so that each adds its
RKAN residual, and hands that ResNet to torchvision's ``BackboneWithFPN`` and
Faster / Mask R-CNN. Its ``state_dict`` repeats the same tensors under several
prefixes (``stage<n>_kan.base_layer``, ``backbone_with_fpn.body``,
``model.backbone.body``) and holds a whole unused classifier trunk
(``rkan_components.resnet.*``, never run: only its RKAN module lists are):

==========================================================  ==================================
detection key                                               classifier layout (docs/families.md §6)
==========================================================  ==================================
``backbone_with_fpn.body.{conv1,bn1}.*``                    ``resnet.{conv1,bn1}.*``
``backbone_with_fpn.body.layer<n>.base_layer.<j>.*``        ``resnet.layer<n>.<j>.*``
``rkan_components.<conv_reduce|kan_conv1|...>.*``           ``<conv_reduce|kan_conv1|...>.*``
everything else (FPN, RPN, RoI heads, the repeats,          dropped (said)
``rkan_components.resnet.*``)
==========================================================  ==================================

The result has no classifier head, so only its backbone converts
(``--backbone-only``). The DenseNet variant of ``RKAN_RCNN`` is not covered.
"""
import re
from typing import Dict, List, Tuple

from torch import Tensor

from .errors import LayoutError

BODY = 'backbone_with_fpn.body.'
PARTS = 'rkan_components.'


def is_detection(state: Dict[str, Tensor]) -> bool:
    return any(k.startswith(BODY) for k in state) and any(k.startswith(PARTS) for k in state)


def classifier_layout(state: Dict[str, Tensor]) -> Tuple[Dict[str, Tensor], List[str]]:
    """The backbone's tensors under the classifier layout, and the key groups dropped."""
    if any(k.startswith(BODY + 'stage') for k in state):
        raise LayoutError('a DenseNet RKAN_RCNN checkpoint (backbone_with_fpn.body.stage<n>.*): '
                          'only its ResNet variant converts')
    out: Dict[str, Tensor] = {}
    dropped: Dict[str, int] = {}
    for key, tensor in state.items():
        if key.startswith(BODY):
            out['resnet.' + re.sub(r'^(layer\d)\.base_layer\.', r'\1.', key[len(BODY):])] = tensor
        elif key.startswith(PARTS) and not key.startswith(PARTS + 'resnet.'):
            out[key[len(PARTS):]] = tensor
        else:
            group = '.'.join(key.split('.')[:2])
            dropped[group] = dropped.get(group, 0) + 1
    return out, [f'{group}.* ({n})' for group, n in dropped.items()]
