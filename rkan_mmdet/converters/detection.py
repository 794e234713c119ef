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
DenseNet: ``backbone_with_fpn.body.{conv0,norm0}.*``,       ``densenet.features.{conv0,norm0}.*``,
``stage<n>.dense_block.*``, ``stage<n>.post_transition.*``  ``denseblock<n>``, ``transition<n>``
                                                            (``norm5`` for the last stage)
``rkan_components.<conv_reduce|kan_conv1|...>.*``           ``<conv_reduce|kan_conv1|...>.*``
everything else (FPN, RPN, RoI heads, the repeats,          dropped (said)
``rkan_components.{resnet,densenet}.*``)
==========================================================  ==================================

The result has no classifier head, so only its backbone converts
(``--backbone-only``).
"""
import re
from typing import Dict, List, Tuple

from torch import Tensor


BODY = 'backbone_with_fpn.body.'
PARTS = 'rkan_components.'


def is_detection(state: Dict[str, Tensor]) -> bool:
    return any(k.startswith(BODY) for k in state) and any(k.startswith(PARTS) for k in state)


def _densenet_key(body_key: str) -> str:
    """``stage<n>.dense_block.*`` -> ``features.denseblock<n>.*``; ``stage<n>.post_transition.*``
    -> ``features.transition<n>.*`` (``features.norm5.*`` for the last); the stem as is."""
    m = re.match(r'stage(\d)\.(dense_block|post_transition)\.(.+)$', body_key)
    if m is None:
        return 'features.' + body_key
    stage, part, rest = int(m[1]), m[2], m[3]
    if part == 'dense_block':
        return f'features.denseblock{stage}.{rest}'
    return f'features.norm5.{rest}' if stage == 4 else f'features.transition{stage}.{rest}'


def classifier_layout(state: Dict[str, Tensor]) -> Tuple[Dict[str, Tensor], List[str]]:
    """The backbone's tensors under the classifier layout, and the key groups dropped."""
    densenet = any(k.startswith(BODY + 'stage') for k in state)
    family = 'densenet' if densenet else 'resnet'
    out: Dict[str, Tensor] = {}
    dropped: Dict[str, int] = {}
    for key, tensor in state.items():
        if key.startswith(BODY):
            body_key = key[len(BODY):]
            out[f'{family}.' + (_densenet_key(body_key) if densenet else
                                re.sub(r'^(layer\d)\.base_layer\.', r'\1.', body_key))] = tensor
        elif key.startswith(PARTS) and not key.startswith(f'{PARTS}{family}.'):
            out[key[len(PARTS):]] = tensor
        else:
            group = '.'.join(key.split('.')[:2])
            dropped[group] = dropped.get(group, 0) + 1
    return out, [f'{group}.* ({n})' for group, n in dropped.items()]
